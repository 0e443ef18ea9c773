"""Shelter indicators of a period (MON-6): occupancy per shelter and day, bed-days, stays by
length, admissions with minors, refusals by reason. Aggregates only, no person named.

The period is `[from, to)` in local dates of the territory, as the deadline report's
(`kamqor.deadline_report.period`, whose readers and limits it shares). Bed-days come from the
stored rows (SHL-5); open stays' days up to yesterday are stored first, so an open stay counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.deadline_report import READERS, period
from kamqor.errors import Forbidden, Invalid
from kamqor.profiles import get_profile
from kamqor.protoconv import parse_date
from kamqor.territories import territory as territory_of
from shelter import models, rules
from shelter.models import Refusal, Shelter, Stay


@dataclass(frozen=True)
class Indicators:
    territory: str
    start: datetime
    end: datetime
    as_of: datetime
    # (shelter id, local date) -> occupied beds (bed-days of that date)
    occupancy: dict[tuple[str, date], int]
    capacity: dict[str, int]
    names: dict[str, str]
    bed_days: dict[str, int]
    stays_by_length: dict[str, int]
    admissions: int = 0
    admissions_with_minors: int = 0
    minors_admitted: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


def _date(value: str, name: str) -> date:
    parsed = parse_date(value, field=name)
    if parsed is None:
        raise Invalid(name, "is required (YYYY-MM-DD)")
    return parsed


async def report(
    session: AsyncSession,
    *,
    principal: Principal,
    from_date: str,
    to_date: str,
    territory: str = "",
    now: datetime | None = None,
) -> Indicators:
    require_role(principal, *READERS)
    first, after = _date(from_date, "from_date"), _date(to_date, "to_date")
    territory = territory or principal.territory
    if territory != principal.territory:
        raise Forbidden("reports cover the caller's own territory only")
    zone = get_profile(territory_of(territory).profile).zone
    start, end = period(first, after, zone=zone, fields=("from_date", "to_date"))
    now = now or utcnow()
    today = now.astimezone(zone).date()
    await models.accrue_bed_days(
        session, through=min(today, after) - timedelta(days=1), territory=territory
    )
    conn = await session.connection()
    bd = models.BED_DAYS
    rows = await conn.execute(
        sa.select(bd.c.shelter_id, bd.c.local_date, sa.func.count())
        .where(bd.c.territory == territory, bd.c.local_date >= first, bd.c.local_date < after)
        .group_by(bd.c.shelter_id, bd.c.local_date)
        .order_by(bd.c.shelter_id, bd.c.local_date)
    )
    occupancy = {(sid, day): int(n) for sid, day, n in rows.all()}
    shelters_t = Shelter.__table__  # type: ignore[attr-defined]
    shelters = (
        await conn.execute(
            sa.select(shelters_t.c.id, shelters_t.c.name, shelters_t.c.capacity).where(
                shelters_t.c.territory == territory
            )
        )
    ).all()
    bed_days: dict[str, int] = {}
    for (sid, _day), n in occupancy.items():
        bed_days[sid] = bed_days.get(sid, 0) + n

    stays = Stay.__table__  # type: ignore[attr-defined]
    ended_on = sa.func.coalesce(
        sa.cast(sa.func.timezone(str(zone), stays.c.discharged_at), sa.Date), today
    )
    length = ended_on - stays.c.admitted_on
    admitted = (
        await conn.execute(
            sa.select(length, stays.c.persons).where(
                stays.c.territory == territory,
                stays.c.admitted_on >= first,
                stays.c.admitted_on < after,
            )
        )
    ).all()
    by_length = {label: 0 for _lo, _hi, label in rules.LENGTH_BUCKETS}
    for days, _persons in admitted:
        by_length[rules.length_bucket(int(days))] += 1

    refusals_t = Refusal.__table__  # type: ignore[attr-defined]
    refused = await conn.execute(
        sa.select(refusals_t.c.reason, sa.func.count())
        .where(
            refusals_t.c.territory == territory,
            refusals_t.c.refused_at >= start,
            refusals_t.c.refused_at < end,
        )
        .group_by(refusals_t.c.reason)
        .order_by(refusals_t.c.reason)
    )
    return Indicators(
        territory=territory,
        start=start,
        end=end,
        as_of=now,
        occupancy=occupancy,
        capacity={sid: int(cap) for sid, _name, cap in shelters},
        names={sid: name for sid, name, _cap in shelters},
        bed_days=bed_days,
        stays_by_length=by_length,
        admissions=len(admitted),
        admissions_with_minors=sum(1 for _d, p in admitted if p > 1),
        minors_admitted=sum(int(p) - 1 for _d, p in admitted),
        refusals={reason: int(n) for reason, n in refused.all()},
    )
