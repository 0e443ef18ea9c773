"""MON-2 as the plans service sees it: support-level changes in the four directions the
regulation counts (PLN-14) and plans closed, by ground (PLN-10). Aggregates only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.deadline_report import READERS, period
from kamqor.errors import Forbidden
from kamqor.profiles import get_profile
from kamqor.protoconv import parse_date
from kamqor.territories import territory as territory_of
from plans.models import Plan
from plans.models.lifecycle import LevelChange, PlanAct
from plans.rules import lifecycle as life


@dataclass(frozen=True)
class PlanIndicators:
    level_changes: dict[str, int]
    closures: dict[str, int]
    approved: int
    closed: int
    reopened: int


async def report_plan_indicators(
    session: AsyncSession, *, principal: Principal, territory: str, from_date: str, to_date: str
) -> PlanIndicators:
    """Counts over `[from, to)` in the territory's local days (MON-2): every counted direction
    and ground appears, with 0 when nothing happened."""
    require_role(principal, *READERS)
    territory = territory or principal.territory
    if territory != principal.territory:
        raise Forbidden("reports cover the caller's own territory only")
    first, after = parse_date(from_date, field="from"), parse_date(to_date, field="to")
    assert first is not None and after is not None  # required: parse_date refuses empty
    profile = get_profile(territory_of(territory).profile)
    start, end = period(first, after, zone=profile.zone)
    changes = (
        await session.exec(
            select(LevelChange.direction, LevelChange.indicator, func.count())
            .where(LevelChange.territory == territory)
            .where(col(LevelChange.at) >= start, col(LevelChange.at) < end)
            .group_by(LevelChange.direction, LevelChange.indicator)
        )
    ).all()
    levels = {key: 0 for _, key in life.DIRECTIONS.values()} | {
        "worse": 0,
        "better": 0,
        "other": 0,
    }
    for direction, indicator, n in changes:
        levels[direction] += n
        if indicator:
            levels[indicator] += n
    grounds = (
        await session.exec(
            select(Plan.closure_ground, func.count())
            .where(Plan.territory == territory)
            .where(col(Plan.closed_at) >= start, col(Plan.closed_at) < end)
            .group_by(Plan.closure_ground)
        )
    ).all()
    closures = {g: 0 for g in life.grounds(profile)} | dict(grounds)
    acts = (
        await session.exec(
            select(PlanAct.act, func.count())
            .join(Plan, col(Plan.id) == col(PlanAct.plan_id))
            .where(Plan.territory == territory)
            .where(col(PlanAct.at) >= start, col(PlanAct.at) < end)
            .where(col(PlanAct.act).in_([life.Act.APPROVE, life.Act.REOPEN]))
            .group_by(PlanAct.act)
        )
    ).all()
    counted = dict(acts)
    return PlanIndicators(
        level_changes=levels,
        closures=closures,
        approved=counted.get(life.Act.APPROVE, 0),
        closed=sum(closures.values()),
        reopened=counted.get(life.Act.REOPEN, 0),
    )
