"""The responsible case worker (INT-9) and the caseload report (MON-4). One worker per case;
the profile's caseload figures are a recommendation: assigning past them is allowed, warned
about and recorded with who decided. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import cases, models, rules
from intake.models import Case, CaseAssignment
from kamqor import audit
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, NotFound
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.territories import territory as territory_of


@dataclass(frozen=True)
class Assigned:
    assignment: CaseAssignment
    warning: str


async def _level_of(session: AsyncSession, case_id: str) -> str:
    """The support level of the case's latest assessment that set levels."""
    for _, levels in reversed(await models.assessments_of(session, case_id)):
        if levels:
            return rules.case_level([lv.level for lv in levels])
    return ""


async def assign(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    worker: str,
    now: datetime | None = None,
) -> Assigned:
    """Make `worker` the case's responsible case worker, replacing the one before."""
    require_role(principal, *rules.ASSIGNERS)
    worker = rules.check_worker(worker)
    case = await session.get(Case, parse_id(case_id, field="case_id"), with_for_update=True)
    if case is None:
        raise NotFound("case not found")
    require_territory(principal, case.territory, entity="case")
    if case.state != cases.OPEN:
        raise Conflict("the case is closed", code="case-closed")
    now = now or utcnow()
    current = await models.current_assignment(session, case.id)
    if current is not None and current.worker == worker:
        return Assigned(current, "")
    level = await _level_of(session, case.id)
    limits = get_profile(territory_of(case.territory).profile).caseload_limits
    recommended = limits.limit_for(level) if level else None
    same_level = [
        a
        for a in await models.open_assignments(session, territory=case.territory, worker=worker)
        if a.level == level and a.case_id != case.id
    ]
    caseload = len(same_level) + 1
    over = rules.over_recommendation(caseload, recommended)
    if current is not None:
        current.ended_at = now
        session.add(current)
        await session.flush()  # the one current assignment per case (migration 0011)
    row = CaseAssignment(
        id=new_id(),
        case_id=case.id,
        territory=case.territory,
        center_id=case.center_id,
        worker=worker,
        level=level,
        caseload=caseload,
        recommended=recommended,
        over_recommendation=over,
        assigned_at=now,
        assigned_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        principal=principal,
        action="assign-over" if over else "assign",
        entity=f"case/{case.id}",
        purpose="INT-9",
    )
    warning = ""
    if over:
        warning = (
            f"{worker} now has {caseload} {level} cases, past the recommended {recommended} "
            "(INT-9); recorded with who decided"
        )
    return Assigned(row, warning)


@dataclass(frozen=True)
class CaseloadRow:
    worker: str
    level: str
    cases: int
    recommended: int | None
    over: bool
    # Of the open cases, those assigned past the recommendation.
    assigned_over: int


async def caseload_report(session: AsyncSession, *, principal: Principal) -> list[CaseloadRow]:
    """MON-4: open cases per case worker and level of the caller's territory, against the
    profile's recommendation. Names no family."""
    require_role(principal, *rules.CASELOAD_READERS)
    limits = get_profile(territory_of(principal.territory).profile).caseload_limits
    grouped: dict[tuple[str, str], list[CaseAssignment]] = {}
    for a in await models.open_assignments(session, territory=principal.territory):
        grouped.setdefault((a.worker, a.level), []).append(a)
    rows = []
    for (worker, level), assigned in sorted(grouped.items()):
        recommended = limits.limit_for(level) if level else None
        rows.append(
            CaseloadRow(
                worker=worker,
                level=level,
                cases=len(assigned),
                recommended=recommended,
                over=rules.over_recommendation(len(assigned), recommended),
                assigned_over=sum(1 for a in assigned if a.over_recommendation),
            )
        )
    return rows
