"""The family's copy of the approved plan (PLN-4): a real `PlanApproved`, published to the plans
stream of the real NATS as the plans relay does, becomes one written notice to the family
besides the responsible organisations' copies, once however often the event is delivered, and
none while the plan's family is unknown. On real PostgreSQL, NATS and Keycloak, read back
through notify's real gRPC, with the suite's clock pinned (Tuesday 17 November 2026 in Astana)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlmodel import col, select

from kamqor.events.v1.plans_pb2 import PlanApproved
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.protoconv import ts
from notify import rules
from notify.models import Delivery, Notice
from tests.notify.test_rule_notices import (
    TUESDAY_AST,
    Stack,
    as_recipient,
    notices_about,
    once_redelivered,
    processed,
    publish,
    stack,
)
from tests.support.services import bearer

__all__ = ["stack"]  # the module fixture shared with test_rule_notices

SUBJECT = "kamqor.plans.plan.approved"
DURABLE = "notify-plan-approved"
AGENCIES = ("edu-ast-1", "hlt-ast-1")
# kz binds the copy to the measures' PLN-5 term: two working days after Tuesday's approval.
DUE_KZ = datetime.fromisoformat("2026-11-19T23:59:59.999999+05:00")


def approval(plan_id: str, *, family_id: str) -> PlanApproved:
    return PlanApproved(
        plan_id=plan_id,
        center_id="fc-ast-1",
        territory="kz-ast",
        situation="dls",
        approved_at=ts(TUESDAY_AST),
        term_ends_at=ts(TUESDAY_AST + timedelta(days=365)),
        measures=3,
        agency_ids=list(AGENCIES),
        family_id=family_id,
    )


async def test_pln4_the_family_gets_one_written_copy_besides_the_agencies(stack: Stack) -> None:
    plan_id = str(uuid.uuid4())
    found = await once_redelivered(
        stack,
        producer="plans",
        subject=SUBJECT,
        payload=approval(plan_id, family_id="fam-ast-7"),
        entity=f"plan/{plan_id}",
        durable=DURABLE,
        about=f"plan/{plan_id}",
    )
    # One copy per organisation and exactly one to the family, however often delivered.
    assert sorted((n.recipient_agency_type, n.recipient_agency) for n in found) == [
        (rules.FAMILY, ""),
        (rules.RESPONSIBLE_ORGANISATION, "edu-ast-1"),
        (rules.RESPONSIBLE_ORGANISATION, "hlt-ast-1"),
    ]
    [family] = [n for n in found if n.recipient_agency_type == rules.FAMILY]
    agency_copies = [n for n in found if n is not family]
    assert (family.rule, family.subject, family.sender_agency) == (
        "PLN-4",
        f"plan/{plan_id}",
        "fc-ast-1",
    )
    # Due by the same term as the organisations' copies.
    assert family.due_at == DUE_KZ
    assert {c.due_at for c in agency_copies} == {DUE_KZ}
    # What the family needs: which plan, approved when, until when, how many measures.
    assert family.content == {
        "plan_id": plan_id,
        "family_id": "fam-ast-7",
        "approved_at": TUESDAY_AST.astimezone(UTC).isoformat(),
        "term_ends_at": (TUESDAY_AST + timedelta(days=365)).astimezone(UTC).isoformat(),
        "measures": 3,
    }
    assert f"plan {plan_id} was approved 2026-11-17 10:00" in family.text
    assert "Measures in the plan: 3; the plan runs until 2027-11-17 10:00" in family.text
    # In writing: a letter, like the NTF-4 closure letter.
    assert stack.notify.wiring is not None
    async with stack.notify.wiring.uow() as session:
        channels = (
            await session.exec(select(Delivery).where(col(Delivery.notice_id) == family.id))
        ).all()
    assert [d.channel for d in channels] == ["letter"]

    # Need to know: the education agency reads its own copy, not the family's letter.
    edu = next(c for c in agency_copies if c.recipient_agency == "edu-ast-1")
    assert (await as_recipient(stack, "education.ast", edu.id)).recipient_agency == "edu-ast-1"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.stub.GetNotice(
            pb.GetNoticeRequest(notice_id=family.id), metadata=bearer(stack.tokens["education.ast"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_pln4_no_family_copy_while_the_plans_family_is_unknown(stack: Stack) -> None:
    plan_id = str(uuid.uuid4())
    event_id = await publish(
        stack, "plans", SUBJECT, approval(plan_id, family_id=""), f"plan/{plan_id}"
    )
    await processed(stack, DURABLE, event_id)
    found: list[Notice] = await notices_about(stack, f"plan/{plan_id}")
    assert sorted((n.recipient_agency_type, n.recipient_agency) for n in found) == [
        (rules.RESPONSIBLE_ORGANISATION, a) for a in AGENCIES
    ]
