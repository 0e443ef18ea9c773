"""Repeat reviews (REG-3) and what the commission hears and studies (REG-2), over real gRPC
with the demo realm's Irkutsk users, on a real PostgreSQL, NATS and Keycloak; each test pins
the domain clock to the days it is about."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

import grpc
import pytest

from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc
from tests.registry.factories import registration_request
from tests.registry.test_service import details
from tests.support.clock import IRKUTSK
from tests.support.services import bearer

Stub = registry_pb2_grpc.RegistryServiceStub
DOCUMENTS = ["report of the responsible body", "school's information"]


class Users:
    """Fresh tokens per call: a module of pinned clocks outlives none of them (auth runs on the
    machine's clock, the terms on the domain clock)."""

    def __init__(self, keycloak: Any) -> None:
        self.keycloak = keycloak

    def __call__(self, username: str) -> tuple[tuple[str, str], ...]:
        return bearer(self.keycloak.token(username))


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


def irkutsk(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=IRKUTSK)


def hearing(**kw: Any) -> pb.Hearing:
    values: dict[str, Any] = {
        "prevention_bodies_heard": True,
        "minor_opinion_heard": True,
        "parents_opinion_heard": True,
        "documents_reviewed": DOCUMENTS,
    }
    values.update(kw)
    return pb.Hearing(**values)


def review_request(family_id: str, decided_on: date | str, **kw: Any) -> pb.RecordReviewRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "family_id": family_id,
        "decided_on": str(decided_on),
        "number": f"KDN-R-{uuid.uuid4().hex[:6]}",
        "vote": pb.Vote(members_present=6, votes_for=4, votes_against=1),
        "hearing": hearing(),
        "grounds": "Preventive work continues: the plan's measures are under way",
        "outcome": pb.REVIEW_OUTCOME_KEEP,
    }
    values.update(kw)
    return pb.RecordReviewRequest(**values)


async def registered(stub: Any, md: Users, decided_on: date, review_on: date) -> pb.Family:
    """A family on record: decided on `decided_on`, received and entered the same day."""
    with clock_at(irkutsk(decided_on)):
        recorded = await stub.RecordRegistrationDecision(
            registration_request(
                decided_on=decided_on.isoformat(), review_on=review_on.isoformat()
            ),
            metadata=md("commission.irk"),
        )
        decision_id = recorded.decision.id
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        entered = await stub.EnterFamily(
            pb.EnterFamilyRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
    family: pb.Family = entered.family
    return family


async def family(stub: Any, md: Users, family_id: str) -> pb.Family:
    reply = await stub.GetFamily(
        pb.GetFamilyRequest(family_id=family_id, purpose="REG-3 review preparation"),
        metadata=md("commission.irk"),
    )
    got: pb.Family = reply.family
    return got


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=IRKUTSK)


# --- from which date the six months run ---------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_on", "latest"),
    [
        # The same date six months on.
        (date(2026, 3, 31), date(2026, 9, 30)),
        # 28 February 2027 is a Sunday: the term ends on the next working day, Monday 1 March.
        (date(2026, 8, 28), date(2027, 3, 1)),
    ],
)
async def test_reg3_six_months_run_from_the_registration_session_not_the_entry(  # type: ignore[no-untyped-def]
    stub, md, decided_on, latest
) -> None:
    """Seed 002 p. 44: the registration decision names the review date, "no later than 6 months
    from the date of registration": the session's date (`registry.rules`, REG-3)."""
    with clock_at(irkutsk(decided_on)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordRegistrationDecision(
                registration_request(
                    decided_on=decided_on.isoformat(),
                    review_on=date.fromordinal(latest.toordinal() + 1).isoformat(),
                ),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value)[1] == ["review_on"]
        assert latest.isoformat() in (err.value.details() or "")
        recorded = await stub.RecordRegistrationDecision(
            registration_request(decided_on=decided_on.isoformat(), review_on=latest.isoformat()),
            metadata=md("commission.irk"),
        )
    # The registry office receives and enters it ten days later: the limit does not move.
    later = date.fromordinal(decided_on.toordinal() + 10)
    with clock_at(irkutsk(later)):
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=recorded.decision.id),
            metadata=md("registry.irk"),
        )
        entered = await stub.EnterFamily(
            pb.EnterFamilyRequest(decision_id=recorded.decision.id), metadata=md("registry.irk")
        )
    assert entered.family.review_on == latest.isoformat()
    (review,) = [o for o in entered.family.obligations if o.rule == "REG-3"]
    assert review.due_at.ToDatetime(IRKUTSK) == end_of(latest)
    assert review.state == "open"


# --- a review that keeps the family ---------------------------------------------------------------


async def test_reg3_a_review_keeps_the_family_and_schedules_the_next(stub, md) -> None:  # type: ignore[no-untyped-def]
    registered_on = date(2026, 3, 2)
    found = await registered(stub, md, registered_on, date(2026, 8, 31))
    reviewed_on = date(2026, 8, 20)
    # Six months after this session (not after the registration): 20 February 2027.
    with clock_at(irkutsk(reviewed_on)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(found.id, reviewed_on, next_review_on="2027-02-21"),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value)[1] == ["next_review_on"]
        assert "2027-02-20" in (err.value.details() or "")
        assert (await family(stub, md, found.id)).review_on == "2026-08-31"  # nothing written
        reply = await stub.RecordReview(
            review_request(found.id, reviewed_on, next_review_on="2027-02-20"),
            metadata=md("commission.irk"),
        )
    decision = reply.decision
    assert decision.kind == pb.DECISION_KIND_REVIEW
    assert decision.repeat_review
    assert decision.next_review_on == "2027-02-20"
    assert list(decision.hearing.documents_reviewed) == DOCUMENTS
    assert decision.state == pb.DECISION_STATE_RECORDED
    assert list(decision.obligations) == []  # nothing to send: the bank does not change

    after = await family(stub, md, found.id)
    assert after.state == pb.FAMILY_STATE_REGISTERED
    assert after.review_on == "2027-02-20"
    reviews = sorted((o for o in after.obligations if o.rule == "REG-3"), key=lambda o: o.state)
    assert [o.state for o in reviews] == ["met", "open"]
    met, opened = reviews
    assert met.on_time and met.due_at.ToDatetime(IRKUTSK) == end_of(date(2026, 9, 2))
    assert opened.due_at.ToDatetime(IRKUTSK) == end_of(date(2027, 2, 20))

    # The next review comes late: it is still recorded, and the term it met says so.
    late = date(2027, 3, 3)
    with clock_at(irkutsk(late)):
        await stub.RecordReview(
            review_request(found.id, late, next_review_on="2027-07-01"),
            metadata=md("commission.irk"),
        )
    again = await family(stub, md, found.id)
    states = [(o.state, o.on_time) for o in again.obligations if o.rule == "REG-3"]
    assert sorted(states) == [("met", False), ("met", True), ("open", False)]
    assert [d.kind for d in again.decisions] == [
        pb.DECISION_KIND_REGISTRATION,
        pb.DECISION_KIND_REVIEW,
        pb.DECISION_KIND_REVIEW,
    ]


async def test_reg3_a_review_retried_with_its_key_is_recorded_once(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 4, 6), date(2026, 9, 1))
    request = review_request(found.id, date(2026, 8, 3), next_review_on="2026-12-01")
    with clock_at(irkutsk(date(2026, 8, 3))):
        first = await stub.RecordReview(request, metadata=md("commission.irk"))
        again = await stub.RecordReview(request, metadata=md("commission.irk"))
    assert first.decision.id == again.decision.id
    decisions = (await family(stub, md, found.id)).decisions
    assert [d.kind for d in decisions].count(pb.DECISION_KIND_REVIEW) == 1


# --- a review that deregisters --------------------------------------------------------------------


async def test_reg3_reg6_a_review_may_deregister_the_family(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 5, 12), date(2026, 11, 2))
    reviewed_on = date(2026, 10, 26)
    with clock_at(irkutsk(reviewed_on)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(
                    found.id,
                    reviewed_on,
                    outcome=pb.REVIEW_OUTCOME_DEREGISTER,
                    next_review_on="2027-01-11",
                ),
                metadata=md("commission.irk"),
            )
        assert details(err.value)[1] == ["next_review_on"]
        reply = await stub.RecordReview(
            review_request(found.id, reviewed_on, outcome=pb.REVIEW_OUTCOME_DEREGISTER),
            metadata=md("commission.irk"),
        )
        decision = reply.decision
        assert decision.kind == pb.DECISION_KIND_DEREGISTRATION
        assert decision.repeat_review
        assert {o.rule: o.state for o in decision.obligations} == {"REG-6/send": "open"}
        (review,) = [o for o in (await family(stub, md, found.id)).obligations]
        assert (review.rule, review.state, review.on_time) == ("REG-3", "met", True)
        # On its way to the registry office: no second review or deregistration meanwhile.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(found.id, reviewed_on, next_review_on="2027-01-11"),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "deregistration-pending"
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision.id), metadata=md("registry.irk")
        )
        await stub.RemoveFamily(
            pb.RemoveFamilyRequest(decision_id=decision.id), metadata=md("registry.irk")
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(found.id, reviewed_on, next_review_on="2027-01-11"),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "not-registered"


# --- refused, nothing written ---------------------------------------------------------------------


async def test_reg3_reviews_refused_name_the_field_or_state(stub, md) -> None:  # type: ignore[no-untyped-def]
    registered_on = date(2026, 6, 1)
    found = await registered(stub, md, registered_on, date(2026, 11, 2))
    day = date(2026, 9, 1)
    later = {"next_review_on": "2026-12-01"}
    invalid: list[tuple[dict[str, Any], str]] = [
        ({}, "next_review_on"),
        ({"next_review_on": "2027-03-02"}, "next_review_on"),
        ({"outcome": pb.REVIEW_OUTCOME_UNSPECIFIED, **later}, "outcome"),
        ({"hearing": hearing(documents_reviewed=[]), **later}, "hearing.documents_reviewed"),
        (
            {"hearing": hearing(prevention_bodies_heard=False), **later},
            "hearing.prevention_bodies_heard",
        ),
        ({"decided_on": "2026-05-29", **later}, "decided_on"),
        ({"decided_on": "2026-09-02", **later}, "decided_on"),
    ]
    with clock_at(irkutsk(day)):
        for case, field in invalid:
            kw = dict(case)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.RecordReview(
                    review_request(found.id, kw.pop("decided_on", day), **kw),
                    metadata=md("commission.irk"),
                )
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, kw
            assert details(err.value)[1] == [field], kw
        no_majority = pb.Vote(members_present=8, votes_for=4, votes_against=0)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(found.id, day, vote=no_majority, **later),
                metadata=md("commission.irk"),
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "no-majority"
        after = await family(stub, md, found.id)
    assert [d.kind for d in after.decisions] == [pb.DECISION_KIND_REGISTRATION]
    assert after.review_on == "2026-11-02"
    assert [o.state for o in after.obligations] == ["open"]


async def test_reg3_a_family_not_yet_entered_is_not_reviewed(stub, md) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 7, 1)
    with clock_at(irkutsk(day)):
        recorded = await stub.RecordRegistrationDecision(
            registration_request(decided_on=day.isoformat(), review_on="2026-12-01"),
            metadata=md("commission.irk"),
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordReview(
                review_request(recorded.family.id, day, next_review_on="2026-12-01"),
                metadata=md("commission.irk"),
            )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "not-registered"


async def test_reg4_a_keeping_review_is_not_sent_to_the_registry_office(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 2, 2), date(2026, 8, 3))
    with clock_at(irkutsk(date(2026, 7, 1))):
        reply = await stub.RecordReview(
            review_request(found.id, date(2026, 7, 1), next_review_on="2026-12-01"),
            metadata=md("commission.irk"),
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ReceiveDecision(
                pb.ReceiveDecisionRequest(decision_id=reply.decision.id),
                metadata=md("registry.irk"),
            )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "decision-kind"


async def test_reg3_no_data_bank_no_reviews(stub, md) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RecordReview(
            review_request(str(uuid.uuid4()), date(2026, 11, 16), next_review_on="2027-01-11"),
            metadata=md("commission.ast"),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "no-registry-rule"
    assert "'kz'" in (err.value.details() or "")


# --- what the commission heard --------------------------------------------------------------------


async def test_reg2_an_infant_is_registered_with_the_reason_the_minor_was_not_heard(  # type: ignore[no-untyped-def]
    stub, md
) -> None:
    """Seed 002 p. 44: the minor's opinion is taken into account where the minor can give one;
    for a baby the commission records why it could not be heard."""
    day = date(2026, 11, 16)
    reason = "the child is eight months old"
    with clock_at(irkutsk(day)):
        refused: list[tuple[pb.Hearing, str]] = [
            (hearing(minor_opinion_heard=False), "hearing.minor_opinion_heard"),
            (hearing(minor_not_heard_reason=reason), "hearing.minor_not_heard_reason"),
            (hearing(parents_opinion_heard=False), "hearing.parents_opinion_heard"),
        ]
        for bad, field in refused:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.RecordRegistrationDecision(
                    registration_request(hearing=bad, review_on="2027-03-01"),
                    metadata=md("commission.irk"),
                )
            assert details(err.value)[1] == [field]
        reply = await stub.RecordRegistrationDecision(
            registration_request(
                hearing=hearing(minor_opinion_heard=False, minor_not_heard_reason=reason),
                review_on="2027-03-01",
            ),
            metadata=md("commission.irk"),
        )
    heard = reply.decision.hearing
    assert (heard.minor_opinion_heard, heard.minor_not_heard_reason) == (False, reason)
    assert list(heard.documents_reviewed) == DOCUMENTS
