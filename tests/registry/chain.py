"""The bank's chain over real gRPC at pinned Irkutsk instants, for the tests of requests,
reports and erasure: a family entered on a given day, removed on another."""

# ruff: noqa: RUF001 - Russian names are the test data, Cyrillic on purpose

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from registry import rules
from tests.registry.factories import minor, mother, person_pb, registration_request
from tests.support.clock import IRKUTSK


def irkutsk(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=IRKUTSK)


def child(name: str, born: date, number: str = "654321", **kw: Any) -> pb.Person:
    document = rules.Document(
        rules.DocumentKind.BIRTH_CERTIFICATE, "III-СТ", number, born + timedelta(days=10)
    )
    return person_pb(minor(name, birth_date=born, document=document, **kw))


async def entered(
    stub: Any, md: Any, day: date, minors: list[pb.Person], relatives: list[pb.Person] | None = None
) -> pb.Family:
    """A family decided, received and entered on `day` (REG-2, REG-4)."""
    with clock_at(irkutsk(day)):
        recorded = await stub.RecordRegistrationDecision(
            registration_request(
                decided_on=day.isoformat(),
                review_on=(day + timedelta(days=90)).isoformat(),
                minors=minors,
                relatives=relatives if relatives is not None else [person_pb(mother())],
            ),
            metadata=md("commission.irk"),
        )
        decision_id = recorded.decision.id
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        reply = await stub.EnterFamily(
            pb.EnterFamilyRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
    family: pb.Family = reply.family
    return family


async def removed(stub: Any, md: Any, family_id: str, day: date) -> pb.Decision:
    """Deregistered, received and removed from the bank on `day` (REG-6)."""
    with clock_at(irkutsk(day, 11)):
        decided = await stub.RecordDeregistration(
            pb.RecordDeregistrationRequest(
                idempotency_key=uuid.uuid4().hex,
                family_id=family_id,
                decided_on=day.isoformat(),
                number=f"KDN-D-{uuid.uuid4().hex[:6]}",
                vote=pb.Vote(members_present=5, votes_for=4, votes_against=0),
                hearing=pb.Hearing(
                    prevention_bodies_heard=True,
                    minor_opinion_heard=True,
                    parents_opinion_heard=True,
                ),
                grounds="The situation improved",
            ),
            metadata=md("commission.irk"),
        )
        decision_id = decided.decision.id
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        reply = await stub.RemoveFamily(
            pb.RemoveFamilyRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
    decision: pb.Decision = reply.decision
    return decision
