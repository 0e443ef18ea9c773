"""Data bank decisions: the commission records registration and deregistration decisions,
the registry office receives them and enters or removes the family."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import NotFound
from kamqor.events.v1.registry_pb2 import (
    DecisionReceived,
    DecisionRecorded,
    FamilyDeregistered,
    FamilyRegistered,
)
from kamqor.ids import new_id, parse_id
from kamqor.profiles import Profile
from kamqor.protoconv import ts
from registry import models, rules
from registry.models import Decision, Family
from registry.rules import ChangeState, DecisionKind, DecisionState, FamilyState
from registry.service._common import SOURCE, _profile_for
from registry.service._decision_steps import (
    _decision,
    _local_start,
    _members,
    _office_entry,
    _require_office,
    _stage_sending,
)
from registry.service.families import DecisionView, FamilyView, _decision_view, _family_view
from registry.service.sessions import Voting, voting


async def record_registration_decision(
    session: AsyncSession,
    *,
    principal: Principal,
    decided_on: date,
    number: str,
    vote: rules.Vote,
    hearing: rules.Hearing,
    grounds: str,
    responsible_agency_id: str,
    responsible_body: str,
    review_on: date,
    minors: Sequence[rules.PersonIn],
    relatives: Sequence[rules.PersonIn],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
    session_id: str = "",
    ballots: Sequence[rules.Ballot] = (),
) -> FamilyView:
    """Record a commission's registration decision: taken by a majority of the members present
    after hearing the prevention bodies, the minor and the parents (REG-2), with the family's
    data and grounds (REG-1), the responsible body and a repeat review within 6 months (REG-3);
    the commission then has 7 working days to send it to the registry office (REG-4)."""
    require_role(principal, *rules.COMMISSION_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"record_registration:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _family_view(session, earlier)
    profile = _profile_for(principal.territory)
    now = now or utcnow()
    rules.check_decided_on(decided_on, today=local_date(now, profile.zone))
    hearing = rules.check_hearing(hearing)
    cast = await voting(
        session,
        principal=principal,
        session_id=session_id,
        ballots=ballots,
        vote=vote,
        decided_on=decided_on,
    )
    rules.check_vote(cast.vote)
    kept_minors, kept_relatives = rules.check_family(minors, relatives, on=decided_on)
    decided_at = _local_start(profile, decided_on)
    latest = profile.due(rules.REVIEW_RULE, decided_at).due_at
    rules.check_review_date(
        review_on, decided_on=decided_on, latest=local_date(latest, profile.zone)
    )
    family = Family(
        id=new_id(),
        territory=principal.territory,
        responsible_agency_id=rules.check_text(
            responsible_agency_id, field="responsible_agency_id", limit=100
        ),
        responsible_body=rules.check_text(
            responsible_body, field="responsible_body", limit=rules.MAX_TEXT
        ),
        review_on=review_on,
        created_at=now,
    )
    decision = _decision(
        principal=principal,
        family_id=family.id,
        kind=DecisionKind.REGISTRATION,
        decided_on=decided_on,
        number=number,
        vote=cast.vote,
        hearing=hearing,
        grounds=grounds,
        now=now,
        session_id=cast.session_id,
        ballots=cast.ballots_json(),
    )
    session.add(family)
    await session.flush()  # the family exists before its members and decision refer to it
    session.add_all(_members(family.id, kept_minors, kept_relatives))
    session.add(decision)
    obligations.open_obligation(
        session,
        rule=rules.REVIEW_RULE,
        subject=f"family/{family.id}",
        territory=family.territory,
        arose_at=decided_at,
        responsible_agency=principal.agency,
    )
    _stage_sending(
        session,
        principal=principal,
        decision=decision,
        family=family,
        decided_at=decided_at,
        payload=DecisionRecorded(
            decision_id=decision.id,
            family_id=family.id,
            territory=family.territory,
            kind=decision.kind,
            commission_id=decision.commission_id,
            decided_on=decided_on.isoformat(),
            minors=len(kept_minors),
        ),
    )
    audit.record(
        session,
        principal=principal,
        action="create",
        entity=f"family/{family.id}",
        purpose="REG-2 registration decision",
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=family.id)
    await session.flush()
    return await _family_view(session, family.id)


async def receive_decision(
    session: AsyncSession, *, principal: Principal, decision_id: str, now: datetime | None = None
) -> DecisionView:
    """The registry office records receipt of a decision: the commission's 7-working-day term
    is met and the office's own 3-working-day term to enter it starts (REG-4, REG-6)."""
    _require_office(principal)
    decision = await models.lock_decision(session, parse_id(decision_id, field="decision_id"))
    if decision is None:
        raise NotFound("decision not found")
    require_territory(principal, decision.territory, entity="decision")
    kind = DecisionKind(decision.kind)
    rules.check_sendable(kind)
    _profile_for(decision.territory, rules.SEND_RULE[kind], rules.ENTER_RULE[kind])
    rules.check_receivable(decision.state)
    now = now or utcnow()
    entity = f"decision/{decision.id}"
    on_time = True
    for row in await obligations.for_subject(session, entity, rule=rules.SEND_RULE[kind]):
        obligations.meet(session, row, at=now)
        on_time = bool(row.on_time)
    obligations.open_obligation(
        session,
        rule=rules.ENTER_RULE[kind],
        subject=entity,
        territory=decision.territory,
        arose_at=now,
        responsible_agency=principal.agency,
        responsible_person=principal.subject,
    )
    decision.state = DecisionState.RECEIVED
    decision.office_id = principal.agency
    decision.received_by = principal.subject
    decision.received_at = now
    session.add(decision)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.registry.decision.received",
        entity=entity,
        payload=DecisionReceived(
            decision_id=decision.id,
            family_id=decision.family_id,
            territory=decision.territory,
            kind=decision.kind,
            office_id=principal.agency,
            received_at=ts(now),
            on_time=on_time,
        ),
    )
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=entity,
        purpose=f"{rules.SEND_RULE[kind]} receipt",
    )
    await session.flush()
    return await _decision_view(session, decision)


async def enter_family(
    session: AsyncSession, *, principal: Principal, decision_id: str, now: datetime | None = None
) -> FamilyView:
    """The office that received a registration decision enters the family into the bank within
    3 working days (REG-4); from then on the family is found by searches."""
    decision, family = await _office_entry(
        session, principal, decision_id, expected=DecisionKind.REGISTRATION, now=now
    )
    family.state = FamilyState.REGISTERED
    family.registered_at = decision.entered_at
    session.add(family)
    members = await models.members_of(session, family.id)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.registry.family.registered",
        entity=f"family/{family.id}",
        payload=FamilyRegistered(
            family_id=family.id,
            decision_id=decision.id,
            territory=family.territory,
            responsible_agency_id=family.responsible_agency_id,
            registered_at=ts(decision.entered_at),
            minors=sum(1 for m in members if m.is_minor),
        ),
    )
    await session.flush()
    return await _family_view(session, family.id)


async def record_deregistration(
    session: AsyncSession,
    *,
    principal: Principal,
    family_id: str,
    decided_on: date,
    number: str,
    vote: rules.Vote,
    hearing: rules.Hearing,
    grounds: str,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
    session_id: str = "",
    ballots: Sequence[rules.Ballot] = (),
) -> DecisionView:
    """Record a commission's deregistration decision, decided like a registration (REG-2) with
    its grounds (REG-1); it is sent within 7 working days (REG-6). It settles the repeat review
    the registration scheduled (REG-3)."""
    require_role(principal, *rules.COMMISSION_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"record_deregistration:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        found = await session.get(Decision, earlier)
        assert found is not None
        return await _decision_view(session, found)
    profile = _profile_for(principal.territory, rules.SEND_RULE[DecisionKind.DEREGISTRATION])
    family = await models.lock_family(session, parse_id(family_id, field="family_id"))
    if family is None:
        raise NotFound("family not found")
    require_territory(principal, family.territory, entity="family")
    rules.check_deregistrable(
        family.state, pending_deregistration=await models.pending_deregistration(session, family.id)
    )
    now = now or utcnow()
    rules.check_decided_on(decided_on, today=local_date(now, profile.zone))
    heard = rules.check_hearing(hearing)
    decision = await deregister(
        session,
        principal=principal,
        profile=profile,
        family=family,
        decided_on=decided_on,
        number=number,
        cast=await voting(
            session,
            principal=principal,
            session_id=session_id,
            ballots=ballots,
            vote=vote,
            decided_on=decided_on,
        ),
        hearing=heard,
        grounds=grounds,
        now=now,
    )
    idempotency.remember(
        session, scope=scope, key=key, digest=request_digest, result_id=decision.id
    )
    await session.flush()
    return await _decision_view(session, decision)


async def deregister(
    session: AsyncSession,
    *,
    principal: Principal,
    profile: Profile,
    family: Family,
    decided_on: date,
    number: str,
    cast: Voting,
    hearing: rules.Hearing,
    grounds: str,
    now: datetime,
    repeat_review: bool = False,
) -> Decision:
    """The deregistration decision of a family already checked deregistrable, whether on its
    own or at a repeat review: it meets the open REG-3 review and is due at the registry office
    within 7 working days (REG-6)."""
    rules.check_vote(cast.vote)
    kind = DecisionKind.DEREGISTRATION
    decision = _decision(
        principal=principal,
        family_id=family.id,
        kind=kind,
        decided_on=decided_on,
        number=number,
        vote=cast.vote,
        hearing=hearing,
        grounds=grounds,
        now=now,
        repeat_review=repeat_review,
        session_id=cast.session_id,
        ballots=cast.ballots_json(),
    )
    session.add(decision)
    decided_at = _local_start(profile, decided_on)
    for row in await obligations.for_subject(
        session, f"family/{family.id}", rule=rules.REVIEW_RULE
    ):
        obligations.meet(session, row, at=max(decided_at, row.arose_at))
    _stage_sending(
        session,
        principal=principal,
        decision=decision,
        family=family,
        decided_at=decided_at,
        payload=DecisionRecorded(
            decision_id=decision.id,
            family_id=family.id,
            territory=family.territory,
            kind=kind,
            commission_id=decision.commission_id,
            decided_on=decided_on.isoformat(),
        ),
    )
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"family/{family.id}",
        purpose="REG-3 repeat review: deregistration"
        if repeat_review
        else "REG-2 deregistration decision",
    )
    return decision


async def remove_family(
    session: AsyncSession, *, principal: Principal, decision_id: str, now: datetime | None = None
) -> DecisionView:
    """The office that received a deregistration decision removes the family within 3 working
    days (REG-6): from then on it is out of every search and listing, kept for auditors only."""
    decision, family = await _office_entry(
        session, principal, decision_id, expected=DecisionKind.DEREGISTRATION, now=now
    )
    family.state = FamilyState.DEREGISTERED
    family.deregistered_at = decision.entered_at
    session.add(family)
    # Changes reported and not yet entered die with the record: nothing is left to enter, so
    # their 3-working-day terms are cancelled rather than left to run overdue (REG-5).
    for change in await models.changes_of(session, family.id, state=ChangeState.REPORTED):
        change.state = ChangeState.VOID
        session.add(change)
        for row in await obligations.for_subject(session, f"change/{change.id}"):
            obligations.cancel(session, row)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.registry.family.deregistered",
        entity=f"family/{family.id}",
        payload=FamilyDeregistered(
            family_id=family.id,
            decision_id=decision.id,
            territory=family.territory,
            deregistered_at=ts(decision.entered_at),
        ),
    )
    await session.flush()
    return await _decision_view(session, decision)
