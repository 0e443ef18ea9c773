"""The period and territory of an indicators report, as every service's reports take them:
ISO dates `[from, to)` in the territory's local days, the caller's own territory only, the
limits of `kamqor.deadline_report.period`. Errors name the fields as the gRPC request spells
them (`from_date`, `to_date`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from kamqor.auth import Principal
from kamqor.deadline_report import period
from kamqor.errors import Forbidden, Invalid
from kamqor.profiles import get_profile
from kamqor.protoconv import parse_date
from kamqor.territories import territory as territory_of

FIELDS = ("from_date", "to_date")


@dataclass(frozen=True)
class ReportPeriod:
    territory: str
    zone: tzinfo
    first: date
    after: date
    start: datetime
    end: datetime


def _date(value: str, name: str) -> date:
    parsed = parse_date(value, field=name)
    if parsed is None:
        raise Invalid(name, "is required (YYYY-MM-DD)")
    return parsed


def resolve(
    principal: Principal, *, from_date: str, to_date: str, territory: str = ""
) -> ReportPeriod:
    """The period asked about, in the caller's territory (another territory: `Forbidden`)."""
    first, after = _date(from_date, FIELDS[0]), _date(to_date, FIELDS[1])
    territory = territory or principal.territory
    if territory != principal.territory:
        raise Forbidden("reports cover the caller's own territory only")
    zone = get_profile(territory_of(territory).profile).zone
    start, end = period(first, after, zone=zone, fields=FIELDS)
    return ReportPeriod(territory, zone, first, after, start, end)
