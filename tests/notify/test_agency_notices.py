"""Notices addressed to one agency by its id (NTF-3) and the approved plan's copies to every
responsible organisation (PLN-4), end to end: the plans service approves a plan over its real
gRPC, its relay publishes `MeasureSent` and `PlanApproved` to the real NATS stream, and notify
creates the notices, each on the channels configured for that agency. Read back through
notify's real gRPC as the realm's users and as a user of another education agency of the same
territory, on real PostgreSQL, NATS and Keycloak, with the suite's clock pinned (Tuesday 17
November 2026, 10:00 in Astana)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import grpc
import nats
import pytest
from sqlmodel import col, select

from devstack.tokens import a_password_token
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.plans_pb2 import PlanApproved
from kamqor.inbox import ProcessedEvent
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.outbox import OutboxEvent
from kamqor.plans.v1 import plans_pb2_grpc
from kamqor.protoconv import dt
from kamqor.runtime import ServiceApp
from notify import rules
from notify.channels import Channels
from notify.models import Notice
from plans.app import create_app as create_plans
from tests.notify.harness import running_notify
from tests.plans.test_service import approved_plan, end_of
from tests.security.conftest import PASSWORD, create_user
from tests.support.clock import ASTANA
from tests.support.services import bearer, channel_to, running_service

# Another education agency of Astana: same type and territory as edu-ast-1, not the recipient.
OTHER_EDUCATION = "edu2.notify-agency"
USERS = ("caseworker.ast", "head.ast", "education.ast", "teacher.ast", "health.ast", "police.ast")
EDU_MAILBOX = "inbox@edu-ast-1.kz"


@dataclass
class Stack:
    plans: ServiceApp
    notify: ServiceApp
    plans_stub: plans_pb2_grpc.PlansServiceAsyncStub
    stub: notify_pb2_grpc.NotifyServiceAsyncStub
    tokens: dict[str, str]
    nats_url: str


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    create_user(
        keycloak,
        OTHER_EDUCATION,
        roles=("agency-coordinator", "agency-assignee"),
        agency="edu-ast-2",
        agency_type="education",
        territory="kz-ast",
    )
    # edu-ast-1's own mailbox; every other agency has nothing configured (a registered letter).
    # Deliveries are not driven here: which channels a notice got is what is checked.
    channels = Channels.model_validate(
        {"poll_seconds": None, "agencies": {"edu-ast-1": [{"kind": "email", "to": EDU_MAILBOX}]}}
    )
    async with (
        # Plans first: it declares its stream, which notify's consumers read.
        running_service(
            create_plans,
            name="plans",
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
        ) as plans,
        running_notify(postgres, nats_server, keycloak, channels=channels, streams=()) as (
            notify,
            notify_stub,
        ),
        channel_to(plans) as plans_channel,
    ):
        tokens = {u: keycloak.token(u) for u in USERS}
        tokens[OTHER_EDUCATION] = await a_password_token(
            keycloak.base_url, OTHER_EDUCATION, PASSWORD
        )
        yield Stack(
            plans=plans,
            notify=notify,
            plans_stub=plans_pb2_grpc.PlansServiceStub(plans_channel),
            stub=notify_stub,
            tokens=tokens,
            nats_url=nats_server.admin_url,
        )


async def notices(stack: Stack, subjects: list[str], count: int) -> list[Notice]:
    """Wait until notify holds `count` notices about `subjects`."""
    assert stack.notify.wiring is not None
    rows: list[Notice] = []
    for _ in range(600):
        async with stack.notify.wiring.uow() as session:
            rows = list(
                (await session.exec(select(Notice).where(col(Notice.subject).in_(subjects)))).all()
            )
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} notices expected about {subjects}, {len(rows)} found")


async def visible(stack: Stack, user: str, subjects: list[str]) -> set[tuple[str, str]]:
    """(rule, subject) of the notices `user` lists about `subjects`."""
    reply = await stack.stub.ListNotices(
        pb.ListNoticesRequest(page_size=200, subjects=subjects),
        metadata=bearer(stack.tokens[user]),
    )
    return {(n.rule, n.subject) for n in reply.notices}


async def channels_of(stack: Stack, user: str, notice_id: str) -> set[tuple[str, str]]:
    reply = await stack.stub.ListDeliveries(
        pb.ListDeliveriesRequest(notice_id=notice_id), metadata=bearer(stack.tokens[user])
    )
    return {(d.channel, d.target) for d in reply.deliveries}


async def approval_event(stack: Stack, plan_id: str) -> Envelope:
    """The `PlanApproved` envelope the plans service published for the plan (its outbox)."""
    assert stack.plans.wiring is not None
    async with stack.plans.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject) == "kamqor.plans.plan.approved")
            )
        ).all()
    for row in rows:
        env = Envelope.FromString(row.body)
        if env.subject == f"plan/{plan_id}":
            return env
    raise AssertionError(f"no PlanApproved for plan {plan_id}")


async def redeliver(stack: Stack, env: Envelope) -> None:
    """The same event again, as a redelivery after a lost ack would bring it."""
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(
            "kamqor.plans.plan.approved",
            env.SerializeToString(),
            headers={"Nats-Msg-Id": uuid.uuid4().hex},
        )
    finally:
        await nc.close()
    assert stack.notify.wiring is not None
    for _ in range(300):
        async with stack.notify.wiring.uow() as session:
            seen = await session.exec(
                select(ProcessedEvent)
                .where(col(ProcessedEvent.event_id) == env.id)
                .where(col(ProcessedEvent.consumer) == "notify-plan-approved")
            )
            if seen.first() is not None:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("notify-plan-approved did not process the event")


async def test_ntf3_pln4_notices_reach_the_plans_agencies_by_id_once_each(stack: Stack) -> None:
    plan = await approved_plan(stack.plans_stub, stack.tokens)
    measures = {m.agency_id: m for m in plan.measures if m.agency_id}
    assert {"edu-ast-1", "hlt-ast-1"} <= set(measures)
    approval = await approval_event(stack, plan.id)
    approved = PlanApproved()
    assert approval.data.Unpack(approved)
    responsible = set(approved.agency_ids)
    assert {"edu-ast-1", "hlt-ast-1"} <= responsible
    plan_subject = f"plan/{plan.id}"
    measure_subjects = [f"measure/{measures[a].id}" for a in ("edu-ast-1", "hlt-ast-1")]
    subjects = [plan_subject, *measure_subjects]
    copies = await notices(stack, [plan_subject], count=len(responsible))
    # One copy per responsible organisation the event names, each once.
    assert sorted(c.recipient_agency for c in copies) == sorted(responsible)
    found = [*copies, *await notices(stack, measure_subjects, count=2)]
    by = {(n.rule, n.recipient_agency): n for n in found}
    assert {("NTF-3", "edu-ast-1"), ("NTF-3", "hlt-ast-1")} <= set(by)

    # PLN-4: a copy of the plan to each responsible organisation, addressed by its id, due with
    # the measures' PLN-5 term in kz: two working days after Tuesday's approval.
    approved_at = dt(plan.approved_at)
    assert approved_at.astimezone(ASTANA).date() == date(2026, 11, 17)
    for agency in ("edu-ast-1", "hlt-ast-1"):
        copy = by["PLN-4", agency]
        assert copy.subject == plan_subject
        assert copy.recipient_agency_type == rules.RESPONSIBLE_ORGANISATION
        assert copy.sender_agency == "fc-ast-1"
        assert copy.due_at == end_of(date(2026, 11, 19), ASTANA)
        assert f"plan {plan.id} was approved" in copy.text
        assert copy.content is not None and copy.content["agency_id"] == agency
    # NTF-3: each measure to its own agency, by id as well as by type.
    assert by["NTF-3", "edu-ast-1"].recipient_agency_type == "education"
    assert by["NTF-3", "hlt-ast-1"].recipient_agency_type == "health"

    # Only the agency addressed sees its notices: its coordinator and its assignee, not the
    # other agency of the plan, not another education agency of Astana, not the police.
    edu = {("PLN-4", plan_subject), ("NTF-3", f"measure/{measures['edu-ast-1'].id}")}
    hlt = {("PLN-4", plan_subject), ("NTF-3", f"measure/{measures['hlt-ast-1'].id}")}
    assert await visible(stack, "education.ast", subjects) == edu
    assert await visible(stack, "teacher.ast", subjects) == edu
    assert await visible(stack, "health.ast", subjects) == hlt
    assert await visible(stack, OTHER_EDUCATION, subjects) == set()
    assert await visible(stack, "police.ast", subjects) == set()
    # The sending center's head follows all four up.
    assert len(await visible(stack, "head.ast", subjects)) == 3  # two copies share a subject

    # The channel per agency: edu-ast-1's own mailbox; health has none configured, a letter.
    edu_copy, hlt_copy = by["PLN-4", "edu-ast-1"], by["PLN-4", "hlt-ast-1"]
    assert await channels_of(stack, "education.ast", edu_copy.id) == {("email", EDU_MAILBOX)}
    assert await channels_of(stack, "education.ast", by["NTF-3", "edu-ast-1"].id) == {
        ("email", EDU_MAILBOX)
    }
    assert await channels_of(stack, "health.ast", hlt_copy.id) == {("letter", "registry")}

    # Only the agency addressed acknowledges: another education agency of the territory gets
    # "not found" and nothing is written; edu-ast-1 acknowledges.
    for notice in (edu_copy, by["NTF-3", "edu-ast-1"]):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.stub.AcknowledgeNotice(
                pb.AcknowledgeNoticeRequest(notice_id=notice.id),
                metadata=bearer(stack.tokens[OTHER_EDUCATION]),
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    acknowledged = await stack.stub.AcknowledgeNotice(
        pb.AcknowledgeNoticeRequest(notice_id=edu_copy.id),
        metadata=bearer(stack.tokens["education.ast"]),
    )
    assert acknowledged.notice.state == pb.NOTICE_STATE_ACKNOWLEDGED
    assert acknowledged.notice.acknowledged_by_agency == "edu-ast-1"
    assert acknowledged.notice.recipient_agency == "edu-ast-1"
    ntf3 = await stack.stub.GetNotice(
        pb.GetNoticeRequest(notice_id=by["NTF-3", "edu-ast-1"].id),
        metadata=bearer(stack.tokens["education.ast"]),
    )
    assert ntf3.notice.state == pb.NOTICE_STATE_PENDING

    # PLN-4 once per event: the approval delivered again creates no second copy.
    await redeliver(stack, approval)
    assert len(await notices(stack, [plan_subject], count=len(responsible))) == len(responsible)
