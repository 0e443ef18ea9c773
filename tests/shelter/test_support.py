"""A resident's support (SHL-4) becomes plan measures: shelter over real gRPC, its event through
the outbox and real NATS JetStream, plans' consumer, the plan read back over plans' gRPC."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import grpc
import pytest
from sqlmodel import col, select

from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StaySupportRecorded
from kamqor.obligations import Obligation
from kamqor.outbox import OutboxEvent
from kamqor.plans.v1 import plans_pb2, plans_pb2_grpc
from kamqor.runtime import ServiceApp
from kamqor.shelter.v1 import shelter_pb2 as pb
from plans.app import create_app as create_plans_app
from plans.models import Measure, Plan
from tests.plans.factories import plan_request
from tests.shelter.test_service import details, new_shelter
from tests.support.clock import ASTANA
from tests.support.factories import admit_request
from tests.support.services import bearer, channel_to, running_service

# Wednesday 10 March 2027, 10:00 in Astana: the stay admitted now ends on 10 April.
AT = datetime(2027, 3, 10, 10, 0, tzinfo=ASTANA)
SUBJECT = "kamqor.shelter.stay.support_recorded"


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("head.ast", "shelter.ast", "caseworker.ast")}


@pytest.fixture(scope="module")
async def plans_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_plans_app,
        name="plans",
        postgres=postgres,
        nats_server=nats_server,
        keycloak=keycloak,
    ) as app:
        yield app


@pytest.fixture(scope="module")
async def plans(plans_app: ServiceApp) -> AsyncIterator[plans_pb2_grpc.PlansServiceStub]:
    async with channel_to(plans_app) as channel:
        yield plans_pb2_grpc.PlansServiceStub(channel)


def item(kind: Any, agency_id: str, agency_type: str, due_on: str) -> pb.SupportItem:
    return pb.SupportItem(kind=kind, agency_id=agency_id, agency_type=agency_type, due_on=due_on)


def support_request(stay_id: str, case_id: str, *items: pb.SupportItem) -> pb.RecordSupportRequest:
    return pb.RecordSupportRequest(
        idempotency_key=uuid.uuid4().hex,
        stay_id=stay_id,
        case_id=case_id,
        items=list(items)
        or [
            item(pb.SUPPORT_KIND_LEGAL, "pol-ast-1", "police", "2027-03-20"),
            item(pb.SUPPORT_KIND_MEDICAL, "hlt-ast-1", "health", "2027-04-10"),
        ],
    )


async def admitted_stay(stub, tokens) -> str:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=4)
    resp = await stub.Admit(
        admit_request(shelter_id, minors=1), metadata=bearer(tokens["shelter.ast"])
    )
    return str(resp.stay.id)


async def staged_support(app: ServiceApp, stay_id: str) -> list[StaySupportRecorded]:
    """The support events the shelter staged for one stay."""
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        rows = (await session.exec(select(OutboxEvent).where(OutboxEvent.subject == SUBJECT))).all()
    found = []
    for row in rows:
        payload = StaySupportRecorded()
        assert Envelope.FromString(row.body).data.Unpack(payload)
        if payload.stay_id == stay_id:
            found.append(payload)
    return found


async def plan_of_case(plans_app: ServiceApp, case_id: str, measures: int) -> str:
    """The id of the case's plan once it holds `measures` measures (the consumer is async)."""
    assert plans_app.wiring is not None
    for _ in range(150):
        async with plans_app.wiring.uow() as session:
            plan = (await session.exec(select(Plan).where(Plan.case_id == case_id))).first()
            if plan is not None:
                found = (
                    await session.exec(select(Measure).where(col(Measure.plan_id) == plan.id))
                ).all()
                if len(found) >= measures:
                    return plan.id
        await asyncio.sleep(0.1)
    raise AssertionError(f"no plan with {measures} measures for the case")


async def test_shl4_support_becomes_measures_of_the_case_open_plan(  # type: ignore[no-untyped-def]
    stub, tokens, plans, plans_app
) -> None:
    case_id = str(uuid.uuid4())
    with clock_at(AT):
        draft = await plans.CreatePlan(
            plan_request(case_id=case_id), metadata=bearer(tokens["caseworker.ast"])
        )
        before = len(draft.plan.measures)
        stay_id = await admitted_stay(stub, tokens)
        resp = await stub.RecordSupport(
            support_request(stay_id, case_id), metadata=bearer(tokens["shelter.ast"])
        )
        assert (resp.stay_id, resp.case_id, len(resp.items)) == (stay_id, case_id, 2)
        plan_id = await plan_of_case(plans_app, case_id, before + 2)
        assert plan_id == draft.plan.id  # the case's open plan, not a new one
        got = await plans.GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["caseworker.ast"])
        )
    added = list(got.plan.measures)[before:]
    assert [(m.kind, m.agency_id, m.agency_type, m.deadline, m.state) for m in added] == [
        (
            plans_pb2.MEASURE_KIND_LEGAL,
            "pol-ast-1",
            "police",
            "2027-03-20",
            plans_pb2.MEASURE_STATE_DRAFT,
        ),
        (
            plans_pb2.MEASURE_KIND_MEDICAL,
            "hlt-ast-1",
            "health",
            "2027-04-10",
            plans_pb2.MEASURE_STATE_DRAFT,
        ),
    ]
    assert all("SHL-4" in m.title for m in added)


async def test_shl4_support_in_an_approved_plan_goes_to_the_agencies_at_once(  # type: ignore[no-untyped-def]
    stub, tokens, plans, plans_app
) -> None:
    """In an approved plan the new measures are sent to their agencies as approval sent the
    others (PLN-5), each agency to designate a responsible person within its term (PLN-6)."""
    case_id = str(uuid.uuid4())
    with clock_at(AT):
        draft = await plans.CreatePlan(
            plan_request(case_id=case_id), metadata=bearer(tokens["caseworker.ast"])
        )
        await plans.SubmitPlan(
            plans_pb2.SubmitPlanRequest(plan_id=draft.plan.id),
            metadata=bearer(tokens["caseworker.ast"]),
        )
        await plans.ApprovePlan(
            plans_pb2.ApprovePlanRequest(plan_id=draft.plan.id, decision="Protocol 4"),
            metadata=bearer(tokens["head.ast"]),
        )
        before = len(draft.plan.measures)
        stay_id = await admitted_stay(stub, tokens)
        await stub.RecordSupport(
            support_request(
                stay_id, case_id, item(pb.SUPPORT_KIND_LEGAL, "pol-ast-1", "police", "2027-03-25")
            ),
            metadata=bearer(tokens["shelter.ast"]),
        )
        plan_id = await plan_of_case(plans_app, case_id, before + 1)
        got = await plans.GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["caseworker.ast"])
        )
    [added] = list(got.plan.measures)[before:]
    assert (added.kind, added.agency_id, added.state) == (
        plans_pb2.MEASURE_KIND_LEGAL,
        "pol-ast-1",
        plans_pb2.MEASURE_STATE_SENT,
    )
    assert plan_id == draft.plan.id
    assert plans_app.wiring is not None
    async with plans_app.wiring.uow() as session:
        rules = {
            o.rule
            for o in (
                await session.exec(
                    select(Obligation).where(Obligation.subject == f"measure/{added.id}")
                )
            ).all()
        }
        sent = (
            await session.exec(
                select(OutboxEvent).where(OutboxEvent.subject == "kamqor.plans.measure.sent")
            )
        ).all()
    # Sent like every other measure: its sending (met when notify delivers the notice), the
    # designation of a responsible person, and its own deadline (PLN-5, PLN-6, PLN-7).
    assert rules == {"PLN-5", "PLN-6", "PLN-7"}
    assert any(Envelope.FromString(e.body).subject == f"measure/{added.id}" for e in sent), (
        "no MeasureSent event for the new measure"
    )


async def test_shl4_support_without_a_plan_drafts_one_once_per_request(  # type: ignore[no-untyped-def]
    stub, tokens, plans, plans_app, shelter_app
) -> None:
    case_id = str(uuid.uuid4())
    with clock_at(AT):
        stay_id = await admitted_stay(stub, tokens)
        request = support_request(
            stay_id,
            case_id,
            item(pb.SUPPORT_KIND_PSYCHOLOGICAL, "hlt-ast-1", "health", "2027-03-15"),
            item(pb.SUPPORT_KIND_EMPLOYMENT, "emp-ast-1", "employment", "2027-04-01"),
            item(pb.SUPPORT_KIND_STATE_SUPPORT, "soc-ast-1", "social_protection", "2027-03-12"),
        )
        first = await stub.RecordSupport(request, metadata=bearer(tokens["shelter.ast"]))
        # A retry with the same key answers the same and stages nothing more.
        again = await stub.RecordSupport(request, metadata=bearer(tokens["shelter.ast"]))
        assert again.support_id == first.support_id
        plan_id = await plan_of_case(plans_app, case_id, 3)
        got = await plans.GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["caseworker.ast"])
        )
        await asyncio.sleep(1.0)  # a second event, had there been one, would have landed by now
        again_plan = await plans.GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["caseworker.ast"])
        )
    plan = got.plan
    assert (plan.case_id, plan.center_id, plan.state) == (
        case_id,
        "fc-ast-1",
        plans_pb2.PLAN_STATE_DRAFT,
    )
    assert [(m.kind, m.agency_id, m.deadline) for m in plan.measures] == [
        (plans_pb2.MEASURE_KIND_PSYCHOLOGICAL, "hlt-ast-1", "2027-03-15"),
        (plans_pb2.MEASURE_KIND_EMPLOYMENT, "emp-ast-1", "2027-04-01"),
        (plans_pb2.MEASURE_KIND_SOCIAL, "soc-ast-1", "2027-03-12"),
    ]
    assert len(again_plan.plan.measures) == 3
    assert len(await staged_support(shelter_app, stay_id)) == 1


async def refused(stub, token: str, request: pb.RecordSupportRequest) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RecordSupport(request, metadata=bearer(token))
    return err.value


async def test_shl4_bad_support_is_refused_naming_the_field_and_nothing_is_staged(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    case_id = str(uuid.uuid4())
    operator = tokens["shelter.ast"]
    with clock_at(AT):
        stay_id = await admitted_stay(stub, tokens)
        cases = [
            (item(99, "pol-ast-1", "police", "2027-03-20"), "items[0].kind"),
            (
                item(pb.SUPPORT_KIND_UNSPECIFIED, "pol-ast-1", "police", "2027-03-20"),
                "items[0].kind",
            ),
            (
                item(pb.SUPPORT_KIND_LEGAL, "pol-ast-1", "astrology", "2027-03-20"),
                "items[0].agency_type",
            ),
            (item(pb.SUPPORT_KIND_LEGAL, "", "police", "2027-03-20"), "items[0].agency_id"),
            # After the stay's last day (10 April), and before today.
            (item(pb.SUPPORT_KIND_LEGAL, "pol-ast-1", "police", "2027-04-11"), "items[0].due_on"),
            (item(pb.SUPPORT_KIND_LEGAL, "pol-ast-1", "police", "2027-03-09"), "items[0].due_on"),
        ]
        for bad, field in cases:
            err = await refused(stub, operator, support_request(stay_id, case_id, bad))
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert details(err)[1] == [field]
        no_case = support_request(stay_id, "")
        err = await refused(stub, operator, no_case)
        assert (err.code(), details(err)[1]) == (grpc.StatusCode.INVALID_ARGUMENT, ["case_id"])

        await stub.Discharge(
            pb.DischargeRequest(stay_id=stay_id, reason="Moved to relatives"),
            metadata=bearer(operator),
        )
        err = await refused(stub, operator, support_request(stay_id, case_id))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err)[0] == "stay-ended"
        assert "stay_id" in (err.details() or "")
        # Only the shelter operator records support.
        err = await refused(stub, tokens["caseworker.ast"], support_request(stay_id, case_id))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await staged_support(shelter_app, stay_id) == []
