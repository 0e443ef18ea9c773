"""Commission sessions (REG-2): the members present and the quorum, the agenda, and every
member's vote on each decision, over real gRPC with the demo realm's Irkutsk users on a real
PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

from datetime import date
from typing import Any

import grpc
import pytest

from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from tests.registry.factories import registration_request, review_request, session_request
from tests.registry.test_reviews import Users, irkutsk, registered
from tests.registry.test_service import details

FOR, AGAINST, ABSTAIN = pb.BALLOT_CHOICE_FOR, pb.BALLOT_CHOICE_AGAINST, pb.BALLOT_CHOICE_ABSTAIN
MEMBERS = [f"kdn-{i}" for i in range(1, 6)]


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


def ballots(*choices: Any) -> list[pb.Ballot]:
    """One ballot per member of MEMBERS, in order; a tuple (choice, True) has a conflict."""
    out = []
    for member, c in zip(MEMBERS, choices, strict=False):
        choice, conflict = c if isinstance(c, tuple) else (c, False)
        out.append(pb.Ballot(member_id=member, choice=choice, conflict_of_interest=conflict))
    return out


async def test_reg2_a_session_without_a_quorum_is_refused(stub, md) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 10, 5)
    with clock_at(irkutsk(day)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.OpenSession(session_request(day, MEMBERS[:4]), metadata=md("commission.irk"))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "no-quorum"
        for request, field in (
            (session_request(day, [*MEMBERS, "kdn-1"]), "members_present[5].member_id"),
            (session_request(day, MEMBERS, size=4), "members_present"),
            (session_request(date(2026, 10, 6), MEMBERS), "held_on"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.OpenSession(request, metadata=md("commission.irk"))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert details(err.value)[1] == [field]
        opened = await stub.OpenSession(
            session_request(day, MEMBERS), metadata=md("commission.irk")
        )
    s = opened.session
    assert (s.held_on, s.composition_size, s.quorum) == ("2026-10-05", 9, 5)
    assert [m.member_id for m in s.members_present] == MEMBERS
    assert list(s.agenda) == []


async def test_reg2_each_decision_records_every_members_vote(stub, md) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 10, 12)
    with clock_at(irkutsk(day)):
        opened = await stub.OpenSession(
            session_request(day, MEMBERS), metadata=md("commission.irk")
        )
        session_id = opened.session.id
        # A member related to the family has a conflict of interest and abstains.
        recorded = await stub.RecordRegistrationDecision(
            registration_request(
                decided_on=day.isoformat(),
                review_on="2027-03-01",
                vote=None,
                session_id=session_id,
                ballots=ballots(FOR, FOR, FOR, AGAINST, (ABSTAIN, True)),
            ),
            metadata=md("commission.irk"),
        )
        got = await stub.GetSession(
            pb.GetSessionRequest(session_id=session_id), metadata=md("commission.irk")
        )
    decision = recorded.decision
    assert decision.session_id == session_id
    assert (decision.vote.members_present, decision.vote.votes_for) == (5, 3)
    assert decision.vote.votes_against == 1
    assert [(b.member_id, b.choice, b.conflict_of_interest) for b in decision.ballots] == [
        ("kdn-1", FOR, False),
        ("kdn-2", FOR, False),
        ("kdn-3", FOR, False),
        ("kdn-4", AGAINST, False),
        ("kdn-5", ABSTAIN, True),
    ]
    assert [(a.family_id, a.decision_id, a.kind) for a in got.session.agenda] == [
        (recorded.family.id, decision.id, pb.DECISION_KIND_REGISTRATION)
    ]


async def test_reg2_a_review_at_a_session_counts_its_ballots(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 5, 4), date(2026, 11, 2))
    day = date(2026, 10, 19)
    with clock_at(irkutsk(day)):
        opened = await stub.OpenSession(
            session_request(day, MEMBERS), metadata=md("commission.irk")
        )
        reply = await stub.RecordReview(
            review_request(
                found.id,
                decided_on=day.isoformat(),
                vote=None,
                next_review_on="2027-03-01",
                session_id=opened.session.id,
                ballots=ballots(FOR, FOR, AGAINST, FOR, ABSTAIN),
            ),
            metadata=md("commission.irk"),
        )
    assert reply.decision.kind == pb.DECISION_KIND_REVIEW
    assert (reply.decision.vote.votes_for, reply.decision.vote.votes_against) == (3, 1)
    assert reply.decision.session_id == opened.session.id


async def test_reg2_bad_votes_are_refused_and_nothing_is_written(stub, md) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 10, 26)
    with clock_at(irkutsk(day)):
        opened = await stub.OpenSession(
            session_request(day, MEMBERS), metadata=md("commission.irk")
        )
        session_id = opened.session.id
        stranger = [*ballots(FOR, FOR, FOR, FOR), pb.Ballot(member_id="kdn-9", choice=FOR)]
        invalid: list[tuple[dict[str, Any], str]] = [
            ({"ballots": stranger}, "ballots[4].member_id"),  # a vote by someone not present
            ({"ballots": ballots(FOR, FOR, FOR, FOR)}, "ballots"),  # kdn-5's vote missing
            ({"ballots": ballots(FOR, FOR, FOR, FOR, (FOR, True))}, "ballots[4].choice"),
            (
                {"ballots": [*ballots(FOR, FOR, FOR, FOR, FOR), ballots(AGAINST)[0]]},
                "ballots[5].member_id",
            ),
            ({"ballots": ballots(FOR, FOR, FOR, FOR, 0)}, "ballots[4].choice"),
            (
                {"ballots": ballots(FOR, FOR, FOR, FOR, FOR), "decided_on": "2026-10-23"},
                "decided_on",
            ),
            (
                {
                    "ballots": ballots(FOR, FOR, FOR, FOR, FOR),
                    "vote": pb.Vote(members_present=5, votes_for=5),
                },
                "vote",
            ),
            ({"session_id": "", "ballots": ballots(FOR)}, "ballots"),
            ({"session_id": ""}, "vote"),  # neither a session's ballots nor the totals
        ]
        for kw, field in invalid:
            values: dict[str, Any] = {
                "decided_on": day.isoformat(),
                "review_on": "2027-03-01",
                "vote": None,
                "session_id": session_id,
            }
            values.update(kw)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.RecordRegistrationDecision(
                    registration_request(**values), metadata=md("commission.irk")
                )
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert details(err.value)[1] == [field]
        # Two for, one against, two abstaining: 2 of 5 present is no majority.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordRegistrationDecision(
                registration_request(
                    decided_on=day.isoformat(),
                    review_on="2027-03-01",
                    vote=None,
                    session_id=session_id,
                    ballots=ballots(FOR, FOR, AGAINST, ABSTAIN, (ABSTAIN, True)),
                ),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "no-majority"
        got = await stub.GetSession(
            pb.GetSessionRequest(session_id=session_id), metadata=md("commission.irk")
        )
    assert list(got.session.agenda) == []


async def test_reg2_sessions_are_the_commissions_only_where_there_is_a_bank(stub, md) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 11, 2)
    with clock_at(irkutsk(day)):
        opened = await stub.OpenSession(
            session_request(day, MEMBERS), metadata=md("commission.irk")
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetSession(
                pb.GetSessionRequest(session_id=opened.session.id), metadata=md("registry.irk")
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.OpenSession(session_request(day, MEMBERS), metadata=md("commission.ast"))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "no-registry-rule"
