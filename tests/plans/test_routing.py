"""A measure's way between agencies through real gRPC on the real stack (PostgreSQL, NATS,
Keycloak), with notify running: its deadline as an obligation (PLN-7, PLN-8), the sending met on
the notice's delivery (PLN-5), declines and re-routing with a new clock, amendments at a review
(PLN-13) and the per-agency counts (MON-3).

Instants are pinned with `clock_at`; the services run in this process and read the same clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from sqlmodel import col, select

from kamqor.clock import clock_at, utcnow
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.outbox import OutboxEvent
from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import agencies_pb2_grpc, plans_pb2_grpc
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.protoconv import dt
from kamqor.runtime import ServiceApp
from notify.app import create_app as create_notify
from plans.app import create_app
from plans.models import Plan
from plans.service.sending import record_delivery
from tests.plans.factories import health_measure, in_days, measure_draft, plan_request
from tests.plans.test_service import by_agency, details, end_of
from tests.support.clock import ASTANA
from tests.support.services import bearer, channel_to, running_service

USERS = (
    "caseworker.ast",
    "caseworker.ala",
    "head.ast",
    "education.ast",
    "teacher.ast",
    "health.ast",
    "police.ast",
    "analyst.ast",
    "analyst.ala",
)
# A Monday in Astana with no holiday near: the terms below count plain working days.
MONDAY = datetime(2027, 3, 15, 10, 0, tzinfo=ASTANA)


@dataclass
class Stack:
    plans: ServiceApp
    stub: plans_pb2_grpc.PlansServiceAsyncStub
    routing: agencies_pb2_grpc.MeasureRoutingServiceAsyncStub
    tokens: dict[str, str]

    def md(self, user: str) -> tuple[tuple[str, str], ...]:
        return bearer(self.tokens[user])


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # notify turns each MeasureSent into a notice and delivers it (a registered letter, its
    # default channel), which comes back as NoticeDelivered (PLN-5).
    async with (
        running_service(
            create_notify,
            name="notify",
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
        ),
        running_service(
            create_app, name="plans", postgres=postgres, nats_server=nats_server, keycloak=keycloak
        ) as plans,
        channel_to(plans) as channel,
    ):
        yield Stack(
            plans=plans,
            stub=plans_pb2_grpc.PlansServiceStub(channel),
            routing=agencies_pb2_grpc.MeasureRoutingServiceStub(channel),
            tokens={u: keycloak.token(u) for u in USERS},
        )


async def approved(stack: Stack, **kw: object) -> pb.Plan:
    created = await stack.stub.CreatePlan(plan_request(**kw), metadata=stack.md("caseworker.ast"))
    await stack.stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=created.plan.id), metadata=stack.md("caseworker.ast")
    )
    reply = await stack.stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=created.plan.id, decision="Protocol 7"),
        metadata=stack.md("head.ast"),
    )
    return reply.plan


def obligation(measure: pb.Measure, rule: str, state: str = "open") -> deadlines_pb2.Obligation:
    found = [o for o in measure.obligations if o.rule == rule and o.state == state]
    assert len(found) == 1, [(o.rule, o.state) for o in measure.obligations]
    return found[0]


async def measure_of(stack: Stack, plan_id: str, measure_id: str) -> pb.Measure:
    reply = await stack.stub.GetPlan(
        pb.GetPlanRequest(plan_id=plan_id), metadata=stack.md("caseworker.ast")
    )
    return next(m for m in reply.plan.measures if m.id == measure_id)


async def test_pln7_the_deadline_is_the_agencys_obligation_met_by_the_report(stack: Stack) -> None:
    """Sent on a Monday with a deadline 10 days on: PLN-7 is due at the end of that day in
    Astana, names the designated person, and the report meets it on time."""
    with clock_at(MONDAY):
        plan = await approved(stack)
    measure = by_agency(plan, "edu-ast-1")
    deadline = obligation(measure, "PLN-7")
    assert deadline.responsible_agency == "edu-ast-1"
    assert dt(deadline.due_at) == end_of(date.fromisoformat(measure.deadline), ASTANA)
    with clock_at(MONDAY + timedelta(hours=1)):
        await stack.stub.DesignateAssignee(
            pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="teacher.ast"),
            metadata=stack.md("education.ast"),
        )
    with clock_at(MONDAY + timedelta(days=2)):
        reply = await stack.stub.ReportMeasure(
            pb.ReportMeasureRequest(measure_id=measure.id, report="Lessons given"),
            metadata=stack.md("teacher.ast"),
        )
    met = obligation(reply.measure, "PLN-7", "met")
    assert met.on_time and met.responsible_person == "teacher.ast"
    assert reply.measure.reported_on_time


async def test_pln7_pln8_a_late_report_and_a_return_open_a_new_clock(stack: Stack) -> None:
    """Reported a day after its deadline: met late. Returned with a new deadline (PLN-8): a new
    PLN-7 obligation due at the end of the new day; the met one stays as it was."""
    with clock_at(MONDAY):
        plan = await approved(stack, measures=[measure_draft(deadline=in_days(3))])
    (measure,) = plan.measures
    await stack.stub.DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="teacher.ast"),
        metadata=stack.md("education.ast"),
    )
    late = end_of(date.fromisoformat(measure.deadline), ASTANA) + timedelta(hours=10)
    with clock_at(late):
        reported = await stack.stub.ReportMeasure(
            pb.ReportMeasureRequest(measure_id=measure.id, report="Done late"),
            metadata=stack.md("teacher.ast"),
        )
        assert not obligation(reported.measure, "PLN-7", "met").on_time
        new_deadline = (late.astimezone(ASTANA).date() + timedelta(days=14)).isoformat()
        returned = await stack.stub.ReturnMeasure(
            pb.ReturnMeasureRequest(
                measure_id=measure.id,
                mode=pb.RETURN_MODE_REWORK,
                reason="The report is incomplete",
                new_deadline=new_deadline,
            ),
            metadata=stack.md("caseworker.ast"),
        )
    again = obligation(returned.measure, "PLN-7", "open")
    assert dt(again.due_at) == end_of(date.fromisoformat(new_deadline), ASTANA)
    assert not obligation(returned.measure, "PLN-7", "met").on_time


async def test_pln5_is_met_when_notify_delivers_the_measures_notice(stack: Stack) -> None:
    """PLN-5 opens when the measure is sent and stays open until notify reports the notice
    delivered (NoticeDelivered), then is met at the delivery's instant, once."""
    plan = await approved(stack)
    measure = by_agency(plan, "hlt-ast-1")
    sending = obligation(measure, "PLN-5")
    assert sending.responsible_agency == "fc-ast-1"
    for _ in range(120):
        measure = await measure_of(stack, plan.id, measure.id)
        if any(o.rule == "PLN-5" and o.state == "met" for o in measure.obligations):
            break
        await asyncio.sleep(0.5)
    met = obligation(measure, "PLN-5", "met")
    assert met.on_time
    assert dt(met.met_at) >= dt(plan.approved_at)
    # The same delivery again (a redelivered event) changes nothing.
    async with stack.plans.wiring.uow() as session:  # type: ignore[union-attr]
        await record_delivery(
            session, measure_id=measure.id, delivered_at=dt(met.met_at) + timedelta(days=3)
        )
    again = obligation(await measure_of(stack, plan.id, measure.id), "PLN-5", "met")
    assert (again.met_at, again.on_time) == (met.met_at, met.on_time)


async def test_decline_and_reroute_start_a_new_clock_and_keep_the_way(stack: Stack) -> None:
    """The clinic declines a psychological measure for lack of capacity: its clocks stop and
    MeasureDeclined is published; the center re-routes it to the school with a new deadline,
    which opens PLN-5, PLN-6 and PLN-7 anew; both steps stay in the measure's changes."""
    with clock_at(MONDAY):
        draft = health_measure(kind=pb.MEASURE_KIND_PSYCHOLOGICAL, agency_type="")
        plan = await approved(stack, measures=[draft])
    (measure,) = plan.measures
    with clock_at(MONDAY + timedelta(hours=2)):
        declined = await stack.routing.DeclineMeasure(
            apb.DeclineMeasureRequest(
                measure_id=measure.id,
                reason=apb.DECLINE_REASON_NO_CAPACITY,
                comment="No psychologist until autumn",
            ),
            metadata=stack.md("health.ast"),
        )
    m = declined.measure
    assert m.state == pb.MEASURE_STATE_DECLINED
    assert (m.decline_reason, m.decline_comment) == ("no_capacity", "No psychologist until autumn")
    assert {o.state for o in m.obligations} == {"cancelled"}
    with clock_at(MONDAY + timedelta(days=1)):
        new_deadline = in_days(20)
        rerouted = await stack.routing.RerouteMeasure(
            apb.RerouteMeasureRequest(
                measure_id=measure.id, agency_id="edu-ast-1", deadline=new_deadline
            ),
            metadata=stack.md("caseworker.ast"),
        )
    m = rerouted.measure
    assert (m.state, m.agency_id, m.agency_type, m.deadline) == (
        pb.MEASURE_STATE_SENT,
        "edu-ast-1",
        "education",
        new_deadline,
    )
    assert m.agency_name == "School No. 1, Astana"
    assert m.agency_contact.email == "edu-ast-1@agencies.example"
    for rule in ("PLN-5", "PLN-6", "PLN-7"):
        assert obligation(m, rule).responsible_agency in ("fc-ast-1", "edu-ast-1")
    assert dt(obligation(m, "PLN-7").due_at) == end_of(date.fromisoformat(new_deadline), ASTANA)
    assert [(c.action, c.changed_by) for c in m.changes] == [
        ("declined", "health.ast"),
        ("rerouted", "caseworker.ast"),
    ]
    assert dict(m.changes[1].before)["agency_id"] == "hlt-ast-1"
    assert dict(m.changes[1].after) == {"agency_id": "edu-ast-1", "deadline": new_deadline}
    # The school now lists it; the clinic no longer acts on it (PLN-15).
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.routing.DeclineMeasure(
            apb.DeclineMeasureRequest(measure_id=m.id, reason=apb.DECLINE_REASON_NO_CAPACITY),
            metadata=stack.md("health.ast"),
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    async with stack.plans.wiring.uow() as session:  # type: ignore[union-attr]
        events = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).like("kamqor.plans.measure.%"))
            )
        ).all()
    subjects = [e.subject for e in events if m.id.encode() in e.body]
    assert {"kamqor.plans.measure.declined", "kamqor.plans.measure.rerouted"} <= set(subjects)
    assert subjects.count("kamqor.plans.measure.sent") == 2


async def test_bad_declines_and_reroutes_are_refused_naming_the_field(stack: Stack) -> None:
    plan = await approved(stack, measures=[measure_draft()])
    (measure,) = plan.measures
    coordinator, caseworker = stack.md("education.ast"), stack.md("caseworker.ast")
    # "other" needs a comment; only the coordinator declines; a sent measure is not re-routed.
    cases = [
        (
            lambda: stack.routing.DeclineMeasure(
                apb.DeclineMeasureRequest(measure_id=measure.id, reason=apb.DECLINE_REASON_OTHER),
                metadata=coordinator,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            ["comment"],
        ),
        (
            lambda: stack.routing.DeclineMeasure(
                apb.DeclineMeasureRequest(measure_id=measure.id), metadata=coordinator
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            ["reason"],
        ),
        (
            lambda: stack.routing.DeclineMeasure(
                apb.DeclineMeasureRequest(
                    measure_id=measure.id, reason=apb.DECLINE_REASON_NOT_COMPETENT
                ),
                metadata=stack.md("teacher.ast"),
            ),
            grpc.StatusCode.PERMISSION_DENIED,
            [],
        ),
        (
            lambda: stack.routing.RerouteMeasure(
                apb.RerouteMeasureRequest(
                    measure_id=measure.id, agency_id="fc-ast-1", deadline=in_days(10)
                ),
                metadata=caseworker,
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
            [],
        ),
    ]
    for call, code, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call()
        assert err.value.code() == code
        if fields:
            assert details(err.value)[1] == fields
    await stack.routing.DeclineMeasure(
        apb.DeclineMeasureRequest(measure_id=measure.id, reason=apb.DECLINE_REASON_NOT_COMPETENT),
        metadata=coordinator,
    )
    term_end = dt(plan.term_ends_at).astimezone(ASTANA).date()
    for agency_id, deadline, field in (
        ("edu-ast-1", in_days(10), "agency_id"),  # the agency that declined
        ("pol-ast-1", in_days(10), "agency_id"),  # not competent for pedagogical measures
        ("edu-ala-1", in_days(10), "agency_id"),  # another territory's
        ("fc-ast-1", (term_end + timedelta(days=1)).isoformat(), "deadline"),  # after the term
        ("fc-ast-1", in_days(0), "deadline"),  # not after today
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.routing.RerouteMeasure(
                apb.RerouteMeasureRequest(
                    measure_id=measure.id, agency_id=agency_id, deadline=deadline
                ),
                metadata=caseworker,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, agency_id
        assert details(err.value)[1] == [field]
    still = await measure_of(stack, plan.id, measure.id)
    assert (still.state, still.agency_id) == (pb.MEASURE_STATE_DECLINED, "edu-ast-1")
    assert [c.action for c in still.changes] == ["declined"]


async def reviewed(stack: Stack) -> pb.Plan:
    plan = await approved(stack)
    await stack.stub.OpenReview(
        pb.OpenReviewRequest(plan_id=plan.id, kind=pb.REVIEW_KIND_INTERIM),
        metadata=stack.md("caseworker.ast"),
    )
    return plan


async def test_pln13_measures_change_only_at_a_review_with_their_history(stack: Stack) -> None:
    """In force but not under review, nothing changes (FAILED_PRECONDITION, nothing written);
    at a review a measure is added and sent at once, one is amended (a new deadline is a new
    PLN-7 obligation) and one cancelled (its obligations with it), each change kept with who,
    when, why, before and after."""
    plan = await approved(stack)
    education = by_agency(plan, "edu-ast-1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.routing.CancelMeasure(
            apb.CancelMeasureRequest(measure_id=education.id, reason="Not needed"),
            metadata=stack.md("caseworker.ast"),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await measure_of(stack, plan.id, education.id)).state == pb.MEASURE_STATE_SENT

    plan = await reviewed(stack)
    education, health = by_agency(plan, "edu-ast-1"), by_agency(plan, "hlt-ast-1")
    at = utcnow()
    added = await stack.routing.AddMeasure(
        apb.AddMeasureRequest(
            plan_id=plan.id,
            measure=measure_draft(
                agency_id="pol-ast-1", agency_type="", kind=pb.MEASURE_KIND_LEGAL
            ),
            reason="The review found a custody question",
        ),
        metadata=stack.md("caseworker.ast"),
    )
    m = added.measure
    assert (m.state, m.agency_type, m.agency_name) == (
        pb.MEASURE_STATE_SENT,
        "police",
        "Juvenile Affairs Inspectorate, Police Department, Astana",
    )
    assert {o.rule for o in m.obligations} >= {"PLN-5", "PLN-6", "PLN-7"}
    assert [(c.action, c.reason) for c in m.changes] == [
        ("added", "The review found a custody question")
    ]

    new_deadline = in_days(40)
    amended = await stack.routing.AmendMeasure(
        apb.AmendMeasureRequest(
            measure_id=education.id,
            deadline=new_deadline,
            title="Tutoring three times a week",
            reason="The school asked for more time",
        ),
        metadata=stack.md("caseworker.ast"),
    )
    a = amended.measure
    assert (a.deadline, a.title) == (new_deadline, "Tutoring three times a week")
    assert dt(obligation(a, "PLN-7").due_at) == end_of(date.fromisoformat(new_deadline), ASTANA)
    assert len([o for o in a.obligations if o.rule == "PLN-7" and o.state == "cancelled"]) == 1
    (change,) = a.changes
    assert (change.action, change.changed_by, change.reason) == (
        "amended",
        "caseworker.ast",
        "The school asked for more time",
    )
    assert dt(change.changed_at) >= at.astimezone(UTC) - timedelta(seconds=1)
    assert dict(change.before) == {"deadline": education.deadline, "title": education.title}
    assert dict(change.after) == {"deadline": new_deadline, "title": "Tutoring three times a week"}

    cancelled = await stack.routing.CancelMeasure(
        apb.CancelMeasureRequest(measure_id=health.id, reason="The family moved clinics"),
        metadata=stack.md("caseworker.ast"),
    )
    c = cancelled.measure
    assert c.state == pb.MEASURE_STATE_CANCELLED
    assert {o.state for o in c.obligations} == {"cancelled"}
    assert [(x.action, dict(x.after)) for x in c.changes] == [("cancelled", {"state": "cancelled"})]
    whole = await stack.stub.GetPlan(
        pb.GetPlanRequest(plan_id=plan.id), metadata=stack.md("caseworker.ast")
    )
    assert len(whole.plan.measures) == len(plan.measures) + 1


async def test_pln13_bad_amendments_are_refused_naming_the_field(stack: Stack) -> None:
    """Issue 14 "Bad input": a measure without an agency, for an agency not competent, or
    with a deadline after the plan's end; an amendment changing nothing; nothing written."""
    plan = await reviewed(stack)
    education = by_agency(plan, "edu-ast-1")
    term_end = dt(plan.term_ends_at).astimezone(ASTANA).date()
    after_end = (term_end + timedelta(days=1)).isoformat()
    caseworker = stack.md("caseworker.ast")
    adds = [
        (measure_draft(agency_id="", agency_type=""), "measure.agency_id"),
        (measure_draft(agency_id="pol-ast-1", agency_type=""), "measure.agency_id"),
        (measure_draft(agency_type="health"), "measure.agency_type"),
        (measure_draft(deadline=after_end), "measure.deadline"),
    ]
    for draft, field in adds:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.routing.AddMeasure(
                apb.AddMeasureRequest(plan_id=plan.id, measure=draft, reason="Review"),
                metadata=caseworker,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert details(err.value)[1] == [field]
    amends = [
        (
            apb.AmendMeasureRequest(measure_id=education.id, deadline=after_end, reason="x"),
            "deadline",
        ),
        (
            apb.AmendMeasureRequest(measure_id=education.id, title=education.title, reason="x"),
            "deadline",
        ),
        (apb.AmendMeasureRequest(measure_id=education.id, title="New"), "reason"),
    ]
    for request, field in amends:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.routing.AmendMeasure(request, metadata=caseworker)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert details(err.value)[1] == [field]
    whole = await stack.stub.GetPlan(pb.GetPlanRequest(plan_id=plan.id), metadata=caseworker)
    assert [m.id for m in whole.plan.measures] == [m.id for m in plan.measures]
    assert not any(m.changes for m in whole.plan.measures)


async def test_mon3_measures_per_agency_count_declines_against_the_agency(stack: Stack) -> None:
    """Measures sent on one day of 2027: per agency, sendings, declines, reports on time and
    late. Aggregates only, of the caller's own territory."""
    day = datetime(2027, 4, 12, 10, 0, tzinfo=ASTANA)
    with clock_at(day):
        plan = await approved(stack)
        education, health = by_agency(plan, "edu-ast-1"), by_agency(plan, "hlt-ast-1")
        await stack.routing.DeclineMeasure(
            apb.DeclineMeasureRequest(
                measure_id=health.id, reason=apb.DECLINE_REASON_PERSON_UNREACHABLE
            ),
            metadata=stack.md("health.ast"),
        )
        await stack.stub.DesignateAssignee(
            pb.DesignateAssigneeRequest(measure_id=education.id, assignee="teacher.ast"),
            metadata=stack.md("education.ast"),
        )
        await stack.stub.ReportMeasure(
            pb.ReportMeasureRequest(measure_id=education.id, report="Done"),
            metadata=stack.md("teacher.ast"),
        )
    period = apb.MeasureIndicatorsRequest(from_date="2027-04-12", to_date="2027-04-13")
    reply = await stack.routing.MeasureIndicators(period, metadata=stack.md("analyst.ast"))
    rows = {a.agency_id: a for a in reply.agencies}
    assert reply.territory == "kz-ast"
    assert set(rows) == {"edu-ast-1", "hlt-ast-1"}
    assert (rows["hlt-ast-1"].sent, rows["hlt-ast-1"].declined) == (1, 1)
    edu = rows["edu-ast-1"]
    assert (edu.sent, edu.reported_on_time, edu.reported_late, edu.declined) == (1, 1, 0, 0)
    assert edu.agency_name == "School No. 1, Astana"
    elsewhere = await stack.routing.MeasureIndicators(period, metadata=stack.md("analyst.ala"))
    assert (elsewhere.territory, list(elsewhere.agencies)) == ("kz-ala", [])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.routing.MeasureIndicators(period, metadata=stack.md("caseworker.ast"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.routing.MeasureIndicators(
            apb.MeasureIndicatorsRequest(from_date="2027-04-13", to_date="2027-04-12"),
            metadata=stack.md("analyst.ast"),
        )
    assert details(err.value)[1] == ["to"]


async def test_nothing_is_written_for_a_refused_plan(stack: Stack) -> None:
    """PLN-2: a plan with a measure for an agency not competent for its kind is refused whole."""
    async with stack.plans.wiring.uow() as session:  # type: ignore[union-attr]
        before = len((await session.exec(select(col(Plan.id)))).all())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.stub.CreatePlan(
            plan_request(
                measures=[measure_draft(), health_measure(agency_id="pol-ast-1", agency_type="")]
            ),
            metadata=stack.md("caseworker.ast"),
        )
    assert details(err.value)[1] == ["measures[1].agency_id"]
    async with stack.plans.wiring.uow() as session:  # type: ignore[union-attr]
        assert len((await session.exec(select(col(Plan.id)))).all()) == before


async def test_pln13_a_retried_addition_returns_the_first_measure(stack: Stack) -> None:
    """A retry of AddMeasure with the same idempotency key returns the first measure, even
    once the review is over; nothing is added or sent twice. The same key with another measure
    is refused naming `idempotency_key`."""
    with clock_at(MONDAY):
        plan = await reviewed(stack)
        request = apb.AddMeasureRequest(
            plan_id=plan.id,
            measure=measure_draft(
                agency_id="pol-ast-1", agency_type="", kind=pb.MEASURE_KIND_LEGAL
            ),
            reason="The review found a custody question",
            idempotency_key="review-add-1",
        )
        first = (
            await stack.routing.AddMeasure(request, metadata=stack.md("caseworker.ast"))
        ).measure
        again = (
            await stack.routing.AddMeasure(request, metadata=stack.md("caseworker.ast"))
        ).measure
        assert again.id == first.id
        assert [c.action for c in again.changes] == ["added"]

        other = apb.AddMeasureRequest()
        other.CopyFrom(request)
        other.reason = "Another finding"
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.routing.AddMeasure(other, metadata=stack.md("caseworker.ast"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value) == ("idempotency-key-reused", ["idempotency_key"])

        whole = await stack.stub.GetPlan(
            pb.GetPlanRequest(plan_id=plan.id), metadata=stack.md("caseworker.ast")
        )
        assert [m.id for m in whole.plan.measures].count(first.id) == 1
        assert len(whole.plan.measures) == len(plan.measures) + 1
    async with stack.plans.wiring.uow() as session:  # type: ignore[union-attr]
        events = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).like("kamqor.plans.measure.%"))
            )
        ).all()
    subjects = [e.subject for e in events if first.id.encode() in e.body]
    assert sorted(subjects) == ["kamqor.plans.measure.added", "kamqor.plans.measure.sent"]
