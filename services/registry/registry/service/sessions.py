"""Commission sessions (REG-2): the session with the members present and its quorum, the
agenda of families decided on, and each decision's vote taken from every member's ballot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.ids import new_id, parse_id
from registry import models, rules
from registry.models import CommissionSession, Decision
from registry.service._common import _profile_for


@dataclass(frozen=True)
class SessionView:
    sitting: CommissionSession
    agenda: list[Decision]


@dataclass(frozen=True)
class Voting:
    """The vote a decision records: from its session's ballots, or the totals alone."""

    vote: rules.Vote
    session_id: str = ""
    ballots: tuple[rules.Ballot, ...] = ()

    def ballots_json(self) -> list[dict[str, object]]:
        return [
            {
                "member_id": b.member_id,
                "choice": str(b.choice),
                "conflict_of_interest": b.conflict_of_interest,
            }
            for b in self.ballots
        ]


async def open_session(
    session: AsyncSession,
    *,
    principal: Principal,
    held_on: date,
    composition_size: int,
    members_present: Sequence[rules.SessionMember],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> SessionView:
    """Record a session of the caller's commission with the members present; without a quorum
    it cannot decide and is refused (REG-2)."""
    require_role(principal, *rules.COMMISSION_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"open_session:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _view(session, earlier)
    profile = _profile_for(principal.territory, rules.REVIEW_RULE)
    now = now or utcnow()
    if held_on > local_date(now, profile.zone):
        raise Invalid("held_on", "is in the future")
    members = rules.check_session(composition_size, members_present)
    sitting = CommissionSession(
        id=new_id(),
        territory=principal.territory,
        commission_id=principal.agency,
        held_on=held_on,
        composition_size=composition_size,
        quorum=rules.quorum_of(composition_size),
        members=[{"member_id": m.member_id, "full_name": m.full_name} for m in members],
        recorded_by=principal.subject,
        recorded_at=now,
    )
    session.add(sitting)
    audit.record(
        session,
        principal=principal,
        action="create",
        entity=f"session/{sitting.id}",
        purpose="REG-2 commission session",
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=sitting.id)
    await session.flush()
    return SessionView(sitting, [])


async def get_session(
    session: AsyncSession, *, principal: Principal, session_id: str
) -> SessionView:
    """A session of the caller's territory with its agenda, for the commission."""
    require_role(principal, *rules.COMMISSION_ROLES)
    _profile_for(principal.territory, rules.REVIEW_RULE)
    sitting = await session.get(CommissionSession, parse_id(session_id, field="session_id"))
    if sitting is None:
        raise NotFound("session not found")
    require_territory(principal, sitting.territory, entity="session")
    return await _view(session, sitting.id)


async def voting(
    session: AsyncSession,
    *,
    principal: Principal,
    session_id: str,
    ballots: Sequence[rules.Ballot],
    vote: rules.Vote,
    decided_on: date,
) -> Voting:
    """The vote of a decision: with a session, every member present's ballot, the decision
    taken on the session's day by its own commission; without, the totals as given."""
    if not session_id:
        if ballots:
            raise Invalid("ballots", "are recorded against a session: session_id is required")
        if not vote.members_present:
            raise Invalid("vote", "is required when the decision names no session (REG-2)")
        return Voting(vote)
    if vote.members_present or vote.votes_for or vote.votes_against:
        raise Invalid("vote", "is counted from the ballots when the decision names its session")
    sitting = await session.get(CommissionSession, parse_id(session_id, field="session_id"))
    if sitting is None:
        raise NotFound("session not found")
    require_territory(principal, sitting.territory, entity="session")
    if sitting.commission_id != principal.agency:
        raise Invalid("session_id", "is a session of another commission")
    if decided_on != sitting.held_on:
        raise Invalid("decided_on", f"must be the session's date, {sitting.held_on.isoformat()}")
    present = [m["member_id"] for m in sitting.members]
    return Voting(rules.tally(ballots, present), sitting.id, tuple(ballots))


async def _view(session: AsyncSession, session_id: str) -> SessionView:
    sitting = await session.get(CommissionSession, session_id)
    if sitting is None:
        raise NotFound("session not found")
    return SessionView(sitting, await models.decisions_of_session(session, sitting.id))
