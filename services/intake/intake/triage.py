"""Triage of a journal entry (INT-3, INT-4, INT-7): consultation, redirection to the competent
organisation, the primary assessment, redirection of a domestic-violence victim for
identification. Each is a further entry after the journal's (INT-2) and meets the term the
profile sets for it. Never commits: the caller's unit of work does."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import cases, mobile_groups, models, rules
from intake.models import Appeal, TriageAction
from kamqor import audit, db, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, NotFound
from kamqor.events.v1.intake_pb2 import AppealRedirected
from kamqor.ids import new_id, parse_id
from kamqor.obligations import ObligationState
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"


async def _meet_terms(
    session: AsyncSession, *, appeal: Appeal, keys: tuple[str, ...], now: datetime
) -> None:
    """Meet each term the action answers. A term the entry did not open at registration
    (`INT-3/redirect`: only triage shows the need) arises now, counted from the registration
    like the others, and is met at once, on time or not."""
    subject = f"appeal/{appeal.id}"
    existing = await obligations.for_subject(session, subject)
    profile = get_profile(territory_of(appeal.territory).profile).at(appeal.registered_at)
    for key in keys:
        found = [o for o in existing if o.rule == key]
        if not found and profile.has_rule(key):
            found = [
                obligations.open_obligation(
                    session,
                    rule=key,
                    subject=subject,
                    territory=appeal.territory,
                    arose_at=appeal.registered_at,
                    responsible_agency=appeal.center_id,
                )
            ]
        for obligation in found:
            if obligation.state == ObligationState.OPEN:
                obligations.meet(session, obligation, at=now)


async def record_triage(
    session: AsyncSession,
    *,
    principal: Principal,
    appeal_id: str,
    triage: rules.TriageIn,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> str:
    """Record a triage action on an entry of the caller's territory; returns the entry's id.
    A redirection goes to the competent organisation as an event notify turns into the NTF-5
    notice (through the outbox); the primary assessment of a threat engages the mobile group
    (INT-4); the primary assessment and the identification redirection are done once; an entry
    whose case is closed takes none."""
    require_role(principal, *rules.TRIAGERS)
    key = idempotency.check_key(idempotency_key)
    scope = f"record_triage:{principal.agency}"
    earlier = await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    if earlier is not None:
        return parse_id(appeal_id, field="appeal_id")
    appeal = await session.get(Appeal, parse_id(appeal_id, field="appeal_id"))
    if appeal is None:
        raise NotFound("appeal not found")
    require_territory(principal, appeal.territory, entity="appeal")
    triage = rules.check_triage(
        triage, threat_to_life=appeal.threat_to_life, domestic_violence=appeal.domestic_violence
    )
    joined = await cases.of_appeal(session, appeal.id)
    if joined is not None:
        case = await session.get(models.Case, joined.case_id)
        if case is not None and case.state != cases.OPEN:
            raise Conflict("the appeal's case is closed", code="case-closed")
    if triage.kind in rules.ONCE and any(
        a.kind == triage.kind for a in await models.triage_of(session, appeal.id)
    ):
        raise Conflict(f"the {triage.kind.value} is recorded already", code="triage-done")
    now = now or utcnow()
    group_id = None
    if triage.kind == rules.TriageKind.PRIMARY_ASSESSMENT and appeal.threat_to_life:
        group_id = (await mobile_groups.engage(session, appeal=appeal, now=now)).id
    action = TriageAction(
        id=new_id(),
        appeal_id=appeal.id,
        kind=triage.kind,
        at=now,
        by=principal.subject,
        organisation=triage.organisation,
        in_dls=triage.in_dls,
        note=triage.note,
        immediate_measures=triage.immediate_measures,
        mobile_group_id=group_id,
    )
    db.stage(session, action)
    keys = rules.terms_met(triage.kind, threat_to_life=appeal.threat_to_life)
    await _meet_terms(session, appeal=appeal, keys=keys, now=now)
    if triage.kind in (rules.TriageKind.REDIRECT, rules.TriageKind.IDENTIFICATION_REDIRECT):
        outbox.append(
            session,
            source=SOURCE,
            subject="kamqor.intake.appeal.redirected",
            entity=f"appeal/{appeal.id}",
            payload=AppealRedirected(
                appeal_id=appeal.id,
                journal_number=appeal.journal_number,
                center_id=appeal.center_id,
                territory=appeal.territory,
                organisation=triage.organisation,
                rule=keys[0],
                redirected_at=ts(now),
                triage_action_id=action.id,
            ),
        )
    audit.record(
        session,
        principal=principal,
        action="triage",
        entity=f"appeal/{appeal.id}",
        purpose=keys[0],
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=appeal.id)
    return appeal.id
