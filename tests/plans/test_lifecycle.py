"""A plan's life after drafting through a real gRPC channel on a real PostgreSQL, NATS and
Keycloak: submission and four eyes (PLN-4), reviews (PLN-13), level changes (PLN-14), the Yugra
extension (PLN-1), closure on a listed ground (PLN-10, PLN-11), monitoring and reopening (PLN-12),
the participants (PLN-3), the list of plans and the MON-2 figures.

Clock instants are pinned with `clock_at`; due times are computed by hand from the calendars.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import grpc
import pytest
from sqlmodel import select

from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.plans_pb2 import PlanClosed
from kamqor.outbox import OutboxEvent
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc
from kamqor.protoconv import dt
from kamqor.runtime import ServiceApp
from tests.plans.factories import measure_draft, participants, plan_request
from tests.plans.test_service import details
from tests.support.clock import ASTANA, YEKATERINBURG
from tests.support.services import bearer, channel_to

Stub = plans_pb2_grpc.PlansServiceStub
USERS = (
    "caseworker.ast",
    "head.ast",
    "caseworker.khm",
    "head.khm",
    "senior.khm",
    "analyst.khm",
    "education.khm",
    "caseworker.ba",
    "commission.ba",
)
# Monday 1 February 2027, 10:00 in Khanty-Mansiysk; the application came on Friday 29 January.
KHM_START = datetime(2027, 2, 1, 10, 0, tzinfo=YEKATERINBURG)
KZ_START = datetime(2027, 2, 1, 10, 0, tzinfo=ASTANA)
# Six months on is Sunday 1 August, so the term ends on Monday 2 August 2027 (seed 003 p. 5.1);
# three months on is Saturday 1 May, a holiday like Monday 3 May: the interim review is due on
# Tuesday 4 May (p. 5.5); the final one two weeks before the end, on Monday 19 July (p. 5.6).
TERM_END = date(2027, 8, 2)
INTERIM_DUE = date(2027, 5, 4)
FINAL_DUE = date(2027, 7, 19)


@pytest.fixture(scope="module")
async def stub(plans_app: ServiceApp) -> AsyncIterator[Stub]:
    async with channel_to(plans_app) as channel:
        yield plans_pb2_grpc.PlansServiceStub(channel)


def as_(tokens: dict[str, str], user: str) -> dict[str, Any]:
    return {"metadata": bearer(tokens[user])}


def khm_plan(**kw: Any) -> pb.CreatePlanRequest:
    values: dict[str, Any] = {
        "measures": [
            measure_draft(
                agency_id="edu-khm-1",
                deadline=(KHM_START.date() + timedelta(days=60)).isoformat(),
            )
        ],
        "applied_on": "2027-01-29",
    }
    values.update(kw)
    return plan_request(**values)


async def expect(code: grpc.StatusCode, call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return err.value


def due(plan: pb.Plan, rule: str) -> datetime:
    [row] = [o for o in plan.obligations if o.rule == rule and o.state == "open"]
    return dt(row.due_at)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=YEKATERINBURG)


async def approved_khm(stub: Stub, tokens: dict[str, str], **kw: Any) -> pb.Plan:
    draft = await stub.CreatePlan(khm_plan(**kw), **as_(tokens, "caseworker.khm"))
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=draft.plan.id), **as_(tokens, "caseworker.khm")
    )
    resp = await stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=draft.plan.id, decision="Working group protocol 3"),
        **as_(tokens, "head.khm"),
    )
    return resp.plan


async def test_pln3_the_plan_is_drafted_with_the_family(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """A plan without a family member among its drafters is refused naming `participants`;
    the drafters are kept with the plan."""
    only_specialists = [p for p in participants() if p.role != pb.PARTICIPANT_ROLE_FAMILY]
    with clock_at(KZ_START):
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            stub.CreatePlan(
                plan_request(participants=only_specialists), **as_(tokens, "caseworker.ast")
            ),
        )
        assert details(err)[1] == ["participants"]
        plan = (await stub.CreatePlan(plan_request(), **as_(tokens, "caseworker.ast"))).plan
    assert [(p.role, p.name) for p in plan.participants] == [
        (pb.PARTICIPANT_ROLE_FAMILY, "Aigerim S. (mother)"),
        (pb.PARTICIPANT_ROLE_PSYCHOLOGIST, "Dana K."),
    ]


async def test_pln4_yugra_terms_and_four_eyes(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Yugra (seed 003 pp. 4.1, 4.4): the draft goes to the working group within 1 working day
    (due the end of Tuesday 2 February 2027) and approval is due 10 working days after the
    application of Friday 29 January (the end of Friday 12 February). Whoever drafted and
    submitted a plan cannot approve it, even holding the center head's role."""
    with clock_at(KHM_START):
        draft = (await stub.CreatePlan(khm_plan(), **as_(tokens, "senior.khm"))).plan
        assert due(draft, "PLN-4/draft") == end_of(date(2027, 2, 2))
        assert due(draft, "PLN-4/approve") == end_of(date(2027, 2, 12))
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            stub.CreatePlan(khm_plan(applied_on=""), **as_(tokens, "caseworker.khm")),
        )
        assert details(err)[1] == ["applied_on"]
        await expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            stub.ApprovePlan(
                pb.ApprovePlanRequest(plan_id=draft.id, decision="WG 1"), **as_(tokens, "head.khm")
            ),
        )
        submitted = (
            await stub.SubmitPlan(
                pb.SubmitPlanRequest(plan_id=draft.id), **as_(tokens, "senior.khm")
            )
        ).plan
    assert submitted.state == pb.PLAN_STATE_SUBMITTED
    assert [o.on_time for o in submitted.obligations if o.rule == "PLN-4/draft"] == [True]
    with clock_at(KHM_START + timedelta(days=3)):
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            stub.ApprovePlan(
                pb.ApprovePlanRequest(plan_id=draft.id, decision="WG 1"),
                **as_(tokens, "senior.khm"),
            ),
        )
        approved = (
            await stub.ApprovePlan(
                pb.ApprovePlanRequest(plan_id=draft.id, decision="WG 1"), **as_(tokens, "head.khm")
            )
        ).plan
    assert approved.state == pb.PLAN_STATE_APPROVED
    assert [o.state for o in approved.obligations if o.rule == "PLN-4/approve"] == ["met"]
    assert [h.act for h in approved.history] == ["submit", "approve"]
    assert approved.history[0].by and approved.history[1].reason == "WG 1"


async def test_pln13_reviews_owe_their_terms_and_conclude(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Approved on 1 February 2027: the interim review is due 3 months later (seed 003 p. 5.5)
    and the final one 2 weeks before the term's end (p. 5.6); concluding a review meets it.
    Measures are amended only under review."""
    with clock_at(KHM_START):
        plan = await approved_khm(stub, tokens)
    term_end = dt(plan.term_ends_at).astimezone(YEKATERINBURG).date()
    assert due(plan, "PLN-13/interim") == end_of(INTERIM_DUE)
    assert due(plan, "PLN-13/final") == end_of(FINAL_DUE)
    assert term_end == TERM_END
    with clock_at(KHM_START + timedelta(days=85)):
        await expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            stub.ConcludeReview(
                pb.ConcludeReviewRequest(
                    plan_id=plan.id, decision=pb.REVIEW_DECISION_CONTINUE, conclusion="x"
                ),
                **as_(tokens, "caseworker.khm"),
            ),
        )
        opened = (
            await stub.OpenReview(
                pb.OpenReviewRequest(plan_id=plan.id, kind=pb.REVIEW_KIND_INTERIM),
                **as_(tokens, "caseworker.khm"),
            )
        ).plan
        assert opened.state == pb.PLAN_STATE_UNDER_REVIEW
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            stub.ConcludeReview(
                pb.ConcludeReviewRequest(plan_id=plan.id, decision=pb.REVIEW_DECISION_CONTINUE),
                **as_(tokens, "caseworker.khm"),
            ),
        )
        assert details(err)[1] == ["conclusion"]
        done = (
            await stub.ConcludeReview(
                pb.ConcludeReviewRequest(
                    plan_id=plan.id,
                    decision=pb.REVIEW_DECISION_CONTINUE,
                    conclusion="Attendance restored; tutoring goes on",
                ),
                **as_(tokens, "caseworker.khm"),
            )
        ).plan
    assert done.state == pb.PLAN_STATE_APPROVED
    [interim] = [o for o in done.obligations if o.rule == "PLN-13/interim"]
    assert (interim.state, interim.on_time) == ("met", True)
    [review] = done.reviews
    assert (review.kind, review.decision) == (pb.REVIEW_KIND_INTERIM, pb.REVIEW_DECISION_CONTINUE)


async def test_pln14_level_changes_keep_their_direction_and_count_in_mon2(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """crisis→basic is better, basic→crisis worse (seed 002 indicators 2.1-2.4); a change to
    the emergency level is recorded as "other"; MON-2 counts each direction in the period."""
    with clock_at(KHM_START):
        plan = await approved_khm(stub, tokens)
        for person, old, new in (
            ("mother", pb.SUPPORT_LEVEL_CRISIS, pb.SUPPORT_LEVEL_BASIC),
            ("father", pb.SUPPORT_LEVEL_BASIC, pb.SUPPORT_LEVEL_CRISIS),
            ("son", pb.SUPPORT_LEVEL_CRISIS, pb.SUPPORT_LEVEL_EMERGENCY),
        ):
            plan = (
                await stub.ChangeSupportLevel(
                    pb.ChangeSupportLevelRequest(
                        plan_id=plan.id, person=person, from_level=old, to_level=new
                    ),
                    **as_(tokens, "caseworker.khm"),
                )
            ).plan
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            stub.ChangeSupportLevel(
                pb.ChangeSupportLevelRequest(
                    plan_id=plan.id,
                    person="mother",
                    from_level=pb.SUPPORT_LEVEL_BASIC,
                    to_level=pb.SUPPORT_LEVEL_BASIC,
                ),
                **as_(tokens, "caseworker.khm"),
            ),
        )
        assert details(err)[1] == ["to_level"]
        report = await stub.ReportPlanIndicators(
            pb.ReportPlanIndicatorsRequest(
                **{"from": "2027-02-01", "to": "2027-02-02"}  # type: ignore[arg-type]
            ),
            **as_(tokens, "analyst.khm"),
        )
    assert [(c.person, c.direction, c.indicator) for c in plan.level_changes] == [
        ("mother", "better", "crisis_to_basic"),
        ("father", "worse", "basic_to_crisis"),
        ("son", "other", ""),
    ]
    counts = {c.key: c.count for c in report.level_changes}
    assert counts["crisis_to_basic"] >= 1 and counts["basic_to_crisis"] >= 1
    assert counts["worse"] >= 1 and counts["better"] >= 1 and counts["other"] >= 1
    assert report.plans_approved >= 1


async def test_pln1_yugra_extension_to_a_year_on_written_request(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Six months, extendable to at most a year from approval on the person's written request
    by the working group (seed 003 pp. 5.1-5.3); in Kazakhstan plans are not extended."""
    with clock_at(KHM_START):
        plan = await approved_khm(stub, tokens)
    six = dt(plan.term_ends_at)
    request = pb.ExtendPlanRequest(
        plan_id=plan.id, request_received_on="2027-06-20", months=13, decision="WG 9"
    )
    with clock_at(KHM_START + timedelta(days=140)):
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT, stub.ExtendPlan(request, **as_(tokens, "head.khm"))
        )
        assert details(err)[1] == ["months"]
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            stub.ExtendPlan(request, **as_(tokens, "caseworker.khm")),
        )
        request.months = 12
        extended = (await stub.ExtendPlan(request, **as_(tokens, "head.khm"))).plan
    assert dt(extended.term_ends_at) > six
    assert dt(extended.term_ends_at).astimezone(YEKATERINBURG).date() >= date(2028, 2, 1)
    [term] = [o for o in extended.obligations if o.rule == "PLN-1" and o.state == "open"]
    assert dt(term.due_at) == dt(extended.term_ends_at)
    assert (
        len([o for o in extended.obligations if o.rule == "PLN-13/final" and o.state == "open"])
        == 1
    )

    with clock_at(KZ_START):
        kz = (await stub.CreatePlan(plan_request(), **as_(tokens, "caseworker.ast"))).plan
        await stub.SubmitPlan(pb.SubmitPlanRequest(plan_id=kz.id), **as_(tokens, "caseworker.ast"))
        await stub.ApprovePlan(
            pb.ApprovePlanRequest(plan_id=kz.id, decision="P-1"), **as_(tokens, "head.ast")
        )
        err = await expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            stub.ExtendPlan(
                pb.ExtendPlanRequest(
                    plan_id=kz.id, request_received_on="2027-02-01", months=13, decision="x"
                ),
                **as_(tokens, "head.ast"),
            ),
        )
    assert details(err)[0] == "no-extension"


async def test_pln10_pln11_pln12_closure_monitoring_and_reopening(  # type: ignore[no-untyped-def]
    stub, tokens, plans_app
) -> None:
    """Closure needs a listed ground (PLN-10): "result achieved" only when every measure is
    done, Yugra's "result impossible" not in Kazakhstan; not by the plan's own case worker.
    The closure is published for the family's letter (PLN-11, NTF-4); monitoring lasts 3 to 6
    months (PLN-12: kz obligation due 6 months on, not endable before 3); reopening makes a
    revised draft and keeps the history."""
    with clock_at(KZ_START):
        created = (await stub.CreatePlan(plan_request(), **as_(tokens, "caseworker.ast"))).plan
        await stub.SubmitPlan(
            pb.SubmitPlanRequest(plan_id=created.id), **as_(tokens, "caseworker.ast")
        )
        await stub.ApprovePlan(
            pb.ApprovePlanRequest(plan_id=created.id, decision="P-2"), **as_(tokens, "head.ast")
        )
    close = pb.ClosePlanRequest(
        plan_id=created.id, ground=pb.CLOSURE_GROUND_RESULT_ACHIEVED, decision="Order 15"
    )
    at = KZ_START + timedelta(days=30)
    with clock_at(at):
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            stub.ClosePlan(close, **as_(tokens, "caseworker.ast")),
        )
        err = await expect(
            grpc.StatusCode.FAILED_PRECONDITION, stub.ClosePlan(close, **as_(tokens, "head.ast"))
        )
        assert details(err)[0] == "measures-open"
        close.ground = pb.CLOSURE_GROUND_RESULT_IMPOSSIBLE
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT, stub.ClosePlan(close, **as_(tokens, "head.ast"))
        )
        assert details(err)[1] == ["ground"]
        close.ground = pb.CLOSURE_GROUND_FAMILY_REFUSED
        closed = (await stub.ClosePlan(close, **as_(tokens, "head.ast"))).plan
    assert closed.state == pb.PLAN_STATE_MONITORING
    assert closed.closure.ground == pb.CLOSURE_GROUND_FAMILY_REFUSED
    monitoring = [o for o in closed.obligations if o.rule == "PLN-12"]
    assert [o.state for o in monitoring] == ["open"]
    assert dt(monitoring[0].due_at).astimezone(ASTANA).date() >= (at + timedelta(days=180)).date()
    assert (
        dt(closed.closure.monitoring_from).astimezone(ASTANA).date()
        >= (at + timedelta(days=89)).date()
    )
    # Nothing is owed any more by the measures of a closed plan.
    assert all(o.state != "open" for m in closed.measures for o in m.obligations)
    async with plans_app.wiring.uow() as session:  # type: ignore[union-attr]
        bodies = (
            await session.exec(
                select(OutboxEvent.body).where(OutboxEvent.subject == "kamqor.plans.plan.closed")
            )
        ).all()
    letters = [PlanClosed() for _ in bodies]
    for body, letter in zip(bodies, letters, strict=True):
        Envelope.FromString(body).data.Unpack(letter)
    [published] = [e for e in letters if e.plan_id == created.id]
    assert (published.reason, published.territory) == ("family_refused", "kz-ast")

    end = pb.EndMonitoringRequest(plan_id=created.id, outcome="Stable")
    with clock_at(at + timedelta(days=40)):
        err = await expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            stub.EndMonitoring(end, **as_(tokens, "caseworker.ast")),
        )
        assert details(err)[0] == "monitoring-too-short"
        key = uuid.uuid4().hex
        reopen = pb.ReopenPlanRequest(
            idempotency_key=key,
            plan_id=created.id,
            reason="The children missed school again",
            measures=[measure_draft(deadline=(at + timedelta(days=90)).date().isoformat())],
        )
        revised = (await stub.ReopenPlan(reopen, **as_(tokens, "caseworker.ast"))).plan
        again = (await stub.ReopenPlan(reopen, **as_(tokens, "caseworker.ast"))).plan
        assert again.id == revised.id
        reopen.idempotency_key = uuid.uuid4().hex
        await expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            stub.ReopenPlan(reopen, **as_(tokens, "caseworker.ast")),
        )
        old = (
            await stub.GetPlan(pb.GetPlanRequest(plan_id=created.id), **as_(tokens, "head.ast"))
        ).plan
    assert (revised.state, revised.revises_plan_id, revised.case_id) == (
        pb.PLAN_STATE_DRAFT,
        created.id,
        created.case_id,
    )
    assert (old.state, old.revised_by_plan_id) == (pb.PLAN_STATE_REOPENED, revised.id)
    assert [h.act for h in old.history] == ["submit", "approve", "close", "reopen"]
    assert [o.state for o in old.obligations if o.rule == "PLN-12"] == ["met"]
    assert len(revised.participants) == len(created.participants)


async def test_pln12_monitoring_ends_after_its_minimum(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """After 3 months of stable monitoring the plan is closed for good; the PLN-12 obligation
    is met on time."""
    with clock_at(KZ_START):
        plan = (await stub.CreatePlan(plan_request(), **as_(tokens, "caseworker.ast"))).plan
        await stub.SubmitPlan(
            pb.SubmitPlanRequest(plan_id=plan.id), **as_(tokens, "caseworker.ast")
        )
        await stub.ApprovePlan(
            pb.ApprovePlanRequest(plan_id=plan.id, decision="P-3"), **as_(tokens, "head.ast")
        )
        await stub.ClosePlan(
            pb.ClosePlanRequest(
                plan_id=plan.id,
                ground=pb.CLOSURE_GROUND_OTHER_CONFIRMED,
                explanation="The family moved to another region",
                decision="Order 16",
            ),
            **as_(tokens, "head.ast"),
        )
    with clock_at(KZ_START + timedelta(days=100)):
        ended = (
            await stub.EndMonitoring(
                pb.EndMonitoringRequest(plan_id=plan.id, outcome="Stable for three months"),
                **as_(tokens, "caseworker.ast"),
            )
        ).plan
        listed = await stub.ListPlans(
            pb.ListPlansRequest(state=pb.PLAN_STATE_CLOSED), **as_(tokens, "caseworker.ast")
        )
    assert ended.state == pb.PLAN_STATE_CLOSED
    [monitoring] = [o for o in ended.obligations if o.rule == "PLN-12"]
    assert (monitoring.state, monitoring.on_time) == ("met", True)
    assert plan.id in [p.id for p in listed.plans]
    assert all(p.state == pb.PLAN_STATE_CLOSED for p in listed.plans)


async def test_list_plans_shows_the_next_thing_due(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """The case worker's own plans, newest first, each with its earliest open obligation."""
    with clock_at(KHM_START):
        draft = (await stub.CreatePlan(khm_plan(), **as_(tokens, "caseworker.khm"))).plan
        page = await stub.ListPlans(
            pb.ListPlansRequest(mine=True, page_size=50), **as_(tokens, "caseworker.khm")
        )
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            stub.ListPlans(pb.ListPlansRequest(), **as_(tokens, "education.khm")),
        )
    first = page.plans[0]
    assert first.id == draft.id
    assert (first.next_due.rule, first.measures, first.open_measures) == ("PLN-4/draft", 1, 1)
    assert all(p.created_by == draft.created_by for p in page.plans)


async def test_pln1_in_bashkortostan_the_commission_sets_the_term(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Seed 004: the commission approves the programme and sets its term, within the profile's
    ceiling of 12 months; approved on Wednesday 3 February 2027 for 9 months, it runs to the end
    of Wednesday 3 November. Where the profile fixes the term (kz), none may be given."""
    start = datetime(2027, 2, 3, 10, 0, tzinfo=YEKATERINBURG)
    with clock_at(start):
        draft = (
            await stub.CreatePlan(
                plan_request(
                    measures=[
                        measure_draft(
                            agency_id="edu-ba-1",
                            deadline=(start.date() + timedelta(days=60)).isoformat(),
                        )
                    ]
                ),
                **as_(tokens, "caseworker.ba"),
            )
        ).plan
        await stub.SubmitPlan(
            pb.SubmitPlanRequest(plan_id=draft.id), **as_(tokens, "caseworker.ba")
        )
        approve = pb.ApprovePlanRequest(plan_id=draft.id, decision="KDN resolution 7")
        for months in (0, 13):
            approve.term_months = months
            err = await expect(
                grpc.StatusCode.INVALID_ARGUMENT,
                stub.ApprovePlan(approve, **as_(tokens, "commission.ba")),
            )
            assert details(err)[1] == ["term_months"], months
        approve.term_months = 9
        plan = (await stub.ApprovePlan(approve, **as_(tokens, "commission.ba"))).plan
    assert plan.state == pb.PLAN_STATE_APPROVED
    assert dt(plan.term_ends_at) == datetime.combine(
        date(2027, 11, 3), time.max, tzinfo=YEKATERINBURG
    )

    with clock_at(KZ_START):
        kz = (await stub.CreatePlan(plan_request(), **as_(tokens, "caseworker.ast"))).plan
        await stub.SubmitPlan(pb.SubmitPlanRequest(plan_id=kz.id), **as_(tokens, "caseworker.ast"))
        err = await expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            stub.ApprovePlan(
                pb.ApprovePlanRequest(plan_id=kz.id, decision="P-9", term_months=6),
                **as_(tokens, "head.ast"),
            ),
        )
    assert details(err)[1] == ["term_months"]
