"""Steps the decision use cases share: building a decision and its family, sending it to the
registry office, and carrying it out in the bank."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, obligations, outbox
from kamqor.access import require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Forbidden, NotFound
from kamqor.events.v1.registry_pb2 import DecisionRecorded
from kamqor.ids import new_id, parse_id
from kamqor.profiles import Profile
from registry import models, rules
from registry.models import Decision, Family, FamilyMember
from registry.rules import DecisionKind, DecisionState
from registry.service._common import SOURCE, _profile_for


def _local_start(profile: Profile, day: date) -> datetime:
    """The session date as an instant (local midnight): terms count from the next day."""
    return datetime.combine(day, time(), tzinfo=profile.zone)


def _members(
    family_id: str, minors: Sequence[rules.PersonIn], relatives: Sequence[rules.PersonIn]
) -> list[FamilyMember]:
    people = [(True, p) for p in minors] + [(False, p) for p in relatives]
    return [
        FamilyMember(
            id=new_id(),
            family_id=family_id,
            position=i,
            is_minor=is_minor,
            full_name=p.full_name,
            search_name=rules.search_key(p.full_name),
            relation=p.relation,
            birth_date=p.birth_date,
            birth_place=p.birth_place,
            registered_address=p.registered_address,
            actual_address=p.actual_address,
            document_kind=p.document.kind if p.document else "",
            document_series=p.document.series if p.document else "",
            document_number=p.document.number if p.document else "",
            document_issued_on=p.document.issued_on if p.document else None,
            disability=p.disability,
            work_or_study=p.work_or_study,
        )
        for i, (is_minor, p) in enumerate(people)
    ]


def _decision(
    *,
    principal: Principal,
    family_id: str,
    kind: DecisionKind,
    decided_on: date,
    number: str,
    vote: rules.Vote,
    hearing: rules.Hearing,
    grounds: str,
    now: datetime,
    repeat_review: bool = False,
    next_review_on: date | None = None,
    session_id: str = "",
    ballots: list[dict[str, object]] | None = None,
) -> Decision:
    """The decision row; `hearing` as `rules.check_hearing` returned it."""
    return Decision(
        id=new_id(),
        family_id=family_id,
        territory=principal.territory,
        kind=kind,
        commission_id=principal.agency,
        decided_on=decided_on,
        number=rules.check_text(number, field="number", limit=100),
        members_present=vote.members_present,
        votes_for=vote.votes_for,
        votes_against=vote.votes_against,
        prevention_bodies_heard=hearing.prevention_bodies_heard,
        minor_opinion_heard=hearing.minor_opinion_heard,
        parents_opinion_heard=hearing.parents_opinion_heard,
        minor_not_heard_reason=hearing.minor_not_heard_reason,
        documents_reviewed=list(hearing.documents_reviewed),
        repeat_review=repeat_review,
        next_review_on=next_review_on,
        session_id=session_id,
        ballots=ballots or [],
        grounds=rules.check_text(grounds, field="grounds", limit=rules.MAX_GROUNDS),
        recorded_by=principal.subject,
        recorded_at=now,
    )


def _require_office(principal: Principal) -> None:
    if not rules.is_registry_office(principal):
        raise Forbidden("only the registry office receives and enters decisions (REG-4, REG-6)")


async def _office_entry(
    session: AsyncSession,
    principal: Principal,
    decision_id: str,
    *,
    expected: DecisionKind,
    now: datetime | None,
) -> tuple[Decision, Family]:
    """Carry out a received decision in the bank: the office's 3-working-day term is met."""
    _require_office(principal)
    decision = await models.lock_decision(session, parse_id(decision_id, field="decision_id"))
    if decision is None:
        raise NotFound("decision not found")
    require_territory(principal, decision.territory, entity="decision")
    _profile_for(decision.territory, rules.ENTER_RULE[expected])
    rules.check_enterable(decision.state, decision.kind, expected)
    if decision.office_id != principal.agency:
        raise Forbidden("the decision was received by another registry office")
    family = await models.lock_family(session, decision.family_id)
    assert family is not None
    now = now or utcnow()
    entity = f"decision/{decision.id}"
    for row in await obligations.for_subject(session, entity, rule=rules.ENTER_RULE[expected]):
        obligations.meet(session, row, at=now)
    decision.state = DecisionState.ENTERED
    decision.entered_by = principal.subject
    decision.entered_at = now
    session.add(decision)
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"family/{family.id}",
        purpose=f"{rules.ENTER_RULE[expected]} entry",
    )
    return decision, family


def _stage_sending(
    session: AsyncSession,
    *,
    principal: Principal,
    decision: Decision,
    family: Family,
    decided_at: datetime,
    payload: DecisionRecorded,
) -> None:
    """A recorded decision must reach the registry office in 7 working days (REG-4, REG-6):
    open that term for the commission and announce the decision."""
    obligations.open_obligation(
        session,
        rule=rules.SEND_RULE[DecisionKind(decision.kind)],
        subject=f"decision/{decision.id}",
        territory=family.territory,
        arose_at=decided_at,
        responsible_agency=principal.agency,
        responsible_person=principal.subject,
    )
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.registry.decision.recorded",
        entity=f"decision/{decision.id}",
        payload=payload,
    )
