"""Cases: an appeal opens a case of its family or joins the one open (a family has one open case
at a time, its merged records included); plans, shelter stays and registry decisions refer to
the case, and other services validate a case id with `GetCase`. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import models, rules
from intake.models import Appeal, Case, CaseAppeal, HomeVisit
from kamqor import audit, db, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.events.v1.intake_pb2 import CaseOpened
from kamqor.ids import new_id, parse_id
from kamqor.inputs import check_text
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"
OPEN, CLOSED = "open", "closed"
CLOSERS = ("case-worker", "center-head")
MAX_REASON = 1000


@dataclass(frozen=True)
class Joined:
    case_id: str
    opened: bool


async def open_or_join(
    session: AsyncSession, *, appeal: Appeal, family_id: str, new_family: bool, now: datetime
) -> Joined:
    """The family's open case, or a new one this appeal opens (`CaseOpened` through the outbox).
    Rows are staged after the family's."""
    case = None
    if not new_family:
        case = await models.open_case_of(session, await models.merged_into_tree(session, family_id))
    opened = case is None
    if case is None:
        case = Case(
            id=new_id(),
            territory=appeal.territory,
            center_id=appeal.center_id,
            family_id=family_id,
            state=OPEN,
            opened_at=now,
            opened_by=appeal.registered_by,
        )
        db.stage(session, case)
        outbox.append(
            session,
            source=SOURCE,
            subject="kamqor.intake.case.opened",
            entity=f"case/{case.id}",
            payload=CaseOpened(
                case_id=case.id,
                family_id=family_id,
                appeal_id=appeal.id,
                center_id=case.center_id,
                territory=case.territory,
                opened_at=ts(now),
            ),
        )
    db.stage(session, CaseAppeal(appeal_id=appeal.id, case_id=case.id, opened_case=opened))
    return Joined(case_id=case.id, opened=opened)


async def of_appeal(session: AsyncSession, appeal_id: str) -> Joined | None:
    link = await session.get(CaseAppeal, appeal_id)
    return None if link is None else Joined(case_id=link.case_id, opened=link.opened_case)


@dataclass(frozen=True)
class CaseView:
    case: Case
    # The family as it is now (merges followed).
    family_id: str
    appeal_ids: list[str]
    assessments: list[tuple[models.CaseAssessment, list[models.AssessmentLevel]]]
    worker: models.CaseAssignment | None
    home_visits: list[HomeVisit]


async def _view(session: AsyncSession, case: Case) -> CaseView:
    root = await models.family_root(session, case.family_id)
    return CaseView(
        case=case,
        family_id=root.id if root else case.family_id,
        appeal_ids=await models.appeals_of_case(session, case.id),
        assessments=await models.assessments_of(session, case.id),
        worker=await models.current_assignment(session, case.id),
        home_visits=await models.home_visits_of(session, case.id),
    )


async def get_case(
    session: AsyncSession, *, principal: Principal, case_id: str, audit_read: bool = True
) -> CaseView:
    """A case of the caller's territory (audited: it names a family, REG-9)."""
    require_role(principal, *rules.READERS)
    case = await session.get(Case, parse_id(case_id, field="case_id"))
    if case is None:
        raise NotFound("case not found")
    require_territory(principal, case.territory, entity="case")
    if audit_read:
        audit.record(
            session, principal=principal, action="read", entity=f"case/{case.id}", purpose="view"
        )
    return await _view(session, case)


async def close_case(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    reason: str,
    now: datetime | None = None,
) -> CaseView:
    """Close an open case, saying why; the family's next appeal opens a new one."""
    require_role(principal, *CLOSERS)
    reason = check_text(reason.strip(), field="reason", free_text=True)
    if not reason:
        raise Invalid("reason", "is required")
    if len(reason) > MAX_REASON:
        raise Invalid("reason", f"at most {MAX_REASON} characters")
    case = await session.get(Case, parse_id(case_id, field="case_id"), with_for_update=True)
    if case is None:
        raise NotFound("case not found")
    require_territory(principal, case.territory, entity="case")
    if case.state != OPEN:
        raise Conflict("the case is closed", code="case-closed")
    case.state = CLOSED
    case.closed_at = now or utcnow()
    case.closed_by = principal.subject
    case.close_reason = reason
    session.add(case)
    audit.record(
        session, principal=principal, action="close", entity=f"case/{case.id}", purpose="INT-2"
    )
    await session.flush()
    return await _view(session, case)


async def record_home_visit(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    visited_on: date,
    findings: str,
    now: datetime | None = None,
) -> str:
    """INT-8: the case worker's home inspection report, into the open case's file."""
    require_role(principal, *rules.VISITORS)
    case = await session.get(Case, parse_id(case_id, field="case_id"))
    if case is None:
        raise NotFound("case not found")
    require_territory(principal, case.territory, entity="case")
    if case.state != OPEN:
        raise Conflict("the case is closed", code="case-closed")
    now = now or utcnow()
    zone = get_profile(territory_of(case.territory).profile).zone
    findings = rules.check_home_visit(
        visited_on,
        findings,
        opened_on=case.opened_at.astimezone(zone).date(),
        today=now.astimezone(zone).date(),
    )
    db.stage(
        session,
        HomeVisit(
            id=new_id(),
            case_id=case.id,
            visited_on=visited_on,
            findings=findings,
            recorded_at=now,
            recorded_by=principal.subject,
        ),
    )
    audit.record(
        session, principal=principal, action="home-visit", entity=f"case/{case.id}", purpose="INT-8"
    )
    return case.id
