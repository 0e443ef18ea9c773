"""Assessment of a case (INT-5, INT-6): the outcome, the person's consent or refusal, the support
contract or the commission's resolution, a support level per person with the signs found from
the profile's catalogue; when support follows, the needs assessment event plans drafts a plan
from (through the outbox). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import cases, models, rules
from intake.models import AssessmentLevel, Case, CaseAssessment
from kamqor import audit, db, idempotency, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, NotFound
from kamqor.events.v1.intake_pb2 import NeedsAssessed, PersonLevel
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"


async def assess_case(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    assessment: rules.AssessmentIn,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> str:
    """Assess an open case of the caller's territory; returns the case id."""
    require_role(principal, *rules.ASSESSORS)
    key = idempotency.check_key(idempotency_key)
    scope = f"assess_case:{principal.agency}"
    if await idempotency.claim(session, scope=scope, key=key, digest=request_digest) is not None:
        return parse_id(case_id, field="case_id")
    case = await session.get(Case, parse_id(case_id, field="case_id"))
    if case is None:
        raise NotFound("case not found")
    require_territory(principal, case.territory, entity="case")
    if case.state != cases.OPEN:
        raise Conflict("the case is closed", code="case-closed")
    profile = get_profile(territory_of(case.territory).profile)
    root = await models.family_root(session, case.family_id)
    family_id = root.id if root else case.family_id
    members = await models.members_of(session, await models.merged_into_tree(session, family_id))
    checked = rules.check_assessment(
        assessment,
        catalogue={
            level.code: frozenset(sign.code for sign in level.signs)
            for level in profile.support_levels
        },
        sdp_level=profile.sdp_support_level,
        contract_required=profile.support_contract_required,
        members=frozenset(m.id for m in members),
        profile=profile.name,
    )
    now = now or utcnow()
    row = CaseAssessment(
        id=new_id(),
        case_id=case.id,
        outcome=checked.outcome,
        consent=checked.consent,
        support_contract=checked.support_contract,
        resolution=checked.resolution,
        notes=checked.notes,
        assessed_at=now,
        assessed_by=principal.subject,
    )
    levels = [
        AssessmentLevel(
            id=new_id(),
            assessment_id=row.id,
            person_id=level.person_id,
            level=level.level,
            signs=sorted(set(level.signs)),
        )
        for level in checked.levels
    ]
    db.stage(session, row, *levels)
    if rules.proceeds(checked):
        outbox.append(
            session,
            source=SOURCE,
            subject="kamqor.intake.case.needs_assessed",
            entity=f"case/{case.id}",
            payload=NeedsAssessed(
                case_id=case.id,
                family_id=family_id,
                assessment_id=row.id,
                outcome=checked.outcome,
                center_id=case.center_id,
                territory=case.territory,
                assessed_at=ts(now),
                levels=[PersonLevel(person_id=lv.person_id, level=lv.level) for lv in levels],
            ),
        )
    audit.record(
        session, principal=principal, action="assess", entity=f"case/{case.id}", purpose="INT-5"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=case.id)
    return case.id
