"""Notice timeliness of a period (MON-6), per recipient agency type and rule: delivered within
the term or late, undelivered (overdue or not yet due), acknowledged, and how many hours
delivery and acknowledgement took. Aggregates only, no notice or person named.

The period is `[from, to)` in local dates of the territory, as the deadline report's
(`kamqor.deadline_report.period`, whose readers and limits it shares), over the notices'
creation time. A notice delivered exactly at its due time is within the term (NTF-7: the
sender's obligation is met at delivery). One GROUP BY in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.deadline_report import READERS, period
from kamqor.errors import Forbidden, Invalid
from kamqor.profiles import get_profile
from kamqor.protoconv import parse_date
from kamqor.territories import territory as territory_of
from notify.models import Notice


@dataclass(frozen=True)
class Timeliness:
    recipient_agency_type: str
    rule: str
    created: int
    delivered_on_time: int
    delivered_late: int
    undelivered_overdue: int
    undelivered_not_due: int
    acknowledged: int
    delivery_hours_median: float | None
    delivery_hours_p90: float | None
    acknowledgement_hours_median: float | None
    acknowledgement_hours_p90: float | None


@dataclass(frozen=True)
class NoticeIndicators:
    territory: str
    start: datetime
    end: datetime
    as_of: datetime
    rows: list[Timeliness]


def _date(value: str, name: str) -> date:
    parsed = parse_date(value, field=name)
    if parsed is None:  # parse_date already refuses a malformed date
        raise Invalid(name, "is required (YYYY-MM-DD)")
    return parsed


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.count().filter(condition)


def _hours(since: Any, until: Any) -> sa.ColumnElement[Any]:
    return sa.extract("epoch", until - since) / 3600.0


def _percentile(share: float, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # percentile_cont ignores NULLs, so only the delivered (acknowledged) ones are ranked.
    return sa.func.percentile_cont(share).within_group(value)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


async def count_notices(
    session: AsyncSession, *, territory: str, start: datetime, end: datetime, now: datetime
) -> list[Timeliness]:
    created, due = col(Notice.created_at), col(Notice.due_at)
    delivered, acked = col(Notice.delivered_at), col(Notice.acknowledged_at)
    agency, rule = col(Notice.recipient_agency_type), col(Notice.rule)
    to_delivery, to_ack = _hours(created, delivered), _hours(created, acked)
    query = (
        sa.select(
            agency,
            rule,
            sa.func.count(),
            _count(delivered.is_not(None) & (delivered <= due)),
            _count(delivered.is_not(None) & (delivered > due)),
            _count(delivered.is_(None) & (due <= now)),
            _count(delivered.is_(None) & (due > now)),
            _count(acked.is_not(None)),
            _percentile(0.5, to_delivery),
            _percentile(0.9, to_delivery),
            _percentile(0.5, to_ack),
            _percentile(0.9, to_ack),
        )
        .where(col(Notice.territory) == territory, created >= start, created < end)
        .group_by(agency, rule)
        .order_by(agency, rule)
    )
    result = await (await session.connection()).execute(query)
    return [
        Timeliness(
            recipient_agency_type=a,
            rule=r,
            created=int(n),
            delivered_on_time=int(on_time),
            delivered_late=int(late),
            undelivered_overdue=int(overdue),
            undelivered_not_due=int(not_due),
            acknowledged=int(ack),
            delivery_hours_median=_float(d50),
            delivery_hours_p90=_float(d90),
            acknowledgement_hours_median=_float(a50),
            acknowledgement_hours_p90=_float(a90),
        )
        for a, r, n, on_time, late, overdue, not_due, ack, d50, d90, a50, a90 in result.all()
    ]


async def report(
    session: AsyncSession,
    *,
    principal: Principal,
    from_date: str,
    to_date: str,
    territory: str = "",
    now: datetime | None = None,
) -> NoticeIndicators:
    """Notice timeliness of the caller's territory over `[from, to)` (MON-6)."""
    require_role(principal, *READERS)
    first, after = _date(from_date, "from_date"), _date(to_date, "to_date")
    territory = territory or principal.territory
    if territory != principal.territory:
        raise Forbidden("reports cover the caller's own territory only")
    zone = get_profile(territory_of(territory).profile).zone
    start, end = period(first, after, zone=zone, fields=("from_date", "to_date"))
    now = now or utcnow()
    rows = await count_notices(session, territory=territory, start=start, end=end, now=now)
    return NoticeIndicators(territory=territory, start=start, end=end, as_of=now, rows=rows)
