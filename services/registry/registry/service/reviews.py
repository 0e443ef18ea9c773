"""Repeat reviews (REG-3): the commission reviews a family on record no later than the date the
registration (or the previous review) set, and keeps it on record with the next review
scheduled, or deregisters it (REG-6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.ids import parse_id
from kamqor.profiles import Profile
from registry import models, rules
from registry.models import Decision, Family
from registry.rules import DecisionKind, ReviewOutcome
from registry.service._common import _profile_for
from registry.service._decision_steps import _decision, _local_start
from registry.service.decisions import deregister
from registry.service.families import DecisionView, _decision_view
from registry.service.sessions import Voting, voting


async def record_review(
    session: AsyncSession,
    *,
    principal: Principal,
    family_id: str,
    decided_on: date,
    number: str,
    vote: rules.Vote,
    hearing: rules.Hearing,
    grounds: str,
    outcome: ReviewOutcome,
    next_review_on: date | None,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
    session_id: str = "",
    ballots: Sequence[rules.Ballot] = (),
) -> DecisionView:
    """Record a repeat review decided at a commission session by a majority of the members
    present, after hearing the prevention bodies, the minor (or why not) and the parents and
    studying the documents (REG-2). It meets the family's open REG-3 review; keeping the family
    schedules the next review within 6 months of this session (`rules.check_review_date`)."""
    require_role(principal, *rules.COMMISSION_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"record_review:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        found = await session.get(Decision, earlier)
        assert found is not None
        return await _decision_view(session, found)
    profile = _profile_for(
        principal.territory, rules.REVIEW_RULE, rules.SEND_RULE[DecisionKind.DEREGISTRATION]
    )
    family = await models.lock_family(session, parse_id(family_id, field="family_id"))
    if family is None:
        raise NotFound("family not found")
    require_territory(principal, family.territory, entity="family")
    now = now or utcnow()
    rules.check_decided_on(decided_on, today=local_date(now, profile.zone))
    registered_on = min(
        (d.decided_on for d in await models.decisions_of(session, family.id)),
        default=decided_on,
    )
    rules.check_reviewable(
        family.state,
        pending_deregistration=await models.pending_deregistration(session, family.id),
        decided_on=decided_on,
        registered_on=registered_on,
    )
    heard = rules.check_hearing(hearing, documents_required=True)
    cast = await voting(
        session,
        principal=principal,
        session_id=session_id,
        ballots=ballots,
        vote=vote,
        decided_on=decided_on,
    )
    if outcome == ReviewOutcome.DEREGISTER:
        if next_review_on is not None:
            raise Invalid("next_review_on", "only when the family is kept on record (REG-3)")
        decision = await deregister(
            session,
            principal=principal,
            profile=profile,
            family=family,
            decided_on=decided_on,
            number=number,
            cast=cast,
            hearing=heard,
            grounds=grounds,
            now=now,
            repeat_review=True,
        )
    else:
        decision = await _keep(
            session,
            principal=principal,
            profile=profile,
            family=family,
            decided_on=decided_on,
            number=number,
            cast=cast,
            hearing=heard,
            grounds=grounds,
            next_review_on=next_review_on,
            now=now,
        )
    idempotency.remember(
        session, scope=scope, key=key, digest=request_digest, result_id=decision.id
    )
    await session.flush()
    return await _decision_view(session, decision)


async def _keep(
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
    next_review_on: date | None,
    now: datetime,
) -> Decision:
    """The family stays on record: the review due now is met, the next one is due within
    6 months of this session (REG-3)."""
    if next_review_on is None:
        raise Invalid("next_review_on", "is required when the family is kept on record (REG-3)")
    decided_at = _local_start(profile, decided_on)
    latest = profile.due(rules.REVIEW_RULE, decided_at).due_at
    rules.check_review_date(
        next_review_on,
        decided_on=decided_on,
        latest=local_date(latest, profile.zone),
        field="next_review_on",
    )
    rules.check_vote(cast.vote)
    decision = _decision(
        principal=principal,
        family_id=family.id,
        kind=DecisionKind.REVIEW,
        decided_on=decided_on,
        number=number,
        vote=cast.vote,
        hearing=hearing,
        grounds=grounds,
        now=now,
        repeat_review=True,
        next_review_on=next_review_on,
        session_id=cast.session_id,
        ballots=cast.ballots_json(),
    )
    session.add(decision)
    subject = f"family/{family.id}"
    for row in await obligations.for_subject(session, subject, rule=rules.REVIEW_RULE):
        obligations.meet(session, row, at=max(decided_at, row.arose_at))
    obligations.open_obligation(
        session,
        rule=rules.REVIEW_RULE,
        subject=subject,
        territory=family.territory,
        arose_at=decided_at,
        responsible_agency=principal.agency,
    )
    family.review_on = next_review_on
    session.add(family)
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=subject,
        purpose="REG-3 repeat review: kept on record",
    )
    return decision
