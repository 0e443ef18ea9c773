"""Plan use cases through a real gRPC channel on a real PostgreSQL, NATS and Keycloak, with the
realm's users of Astana (kz) and Irkutsk (ru-irk).

Due times are literal instants computed by hand from the production calendars, at clock
instants pinned with `clock_at`; the services run in this process and read the same clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlmodel import col, select

from kamqor.audit import AuditRecord
from kamqor.clock import clock_at
from kamqor.grpcserver import STATUS_DETAILS_KEY
from kamqor.obligations import Obligation
from kamqor.outbox import OutboxEvent
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc
from kamqor.protoconv import dt
from kamqor.runtime import ServiceApp
from plans.models import Plan
from tests.plans.factories import (
    health_measure,
    in_days,
    measure_draft,
    participation_measure,
    plan_request,
)
from tests.support import clock
from tests.support.clock import ASTANA, IRKUTSK
from tests.support.services import bearer, channel_to

Stub = plans_pb2_grpc.PlansServiceStub
# Wednesday 30 December 2026, 17:00 in Astana: the next working days in Kazakhstan are
# Thursday 31 December, then Tuesday 5 and Wednesday 6 January 2027 (1-2 January are New Year;
# 2 January is a Saturday, so Monday 4 January is off; 3 January is a Sunday).
BEFORE_NEW_YEAR = datetime(2026, 12, 30, 17, 0, tzinfo=ASTANA)
# 23:00 UTC on 1 December 2026 is already 04:00 on 2 December in Astana.
UTC_EVENING = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def end_of(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` in `zone`, as terms in days end."""
    return datetime.combine(day, time.max, tzinfo=zone)


AGENCY_OF = {"education.ast": "edu-ast-1", "health.ast": "hlt-ast-1", "police.ast": "pol-ast-1"}
USERS = (
    "caseworker.ast",
    "caseworker.ala",
    "head.ast",
    "head.ala",
    "commission.ast",
    "education.ast",
    "teacher.ast",
    "health.ast",
    "police.ast",
)


@pytest.fixture(scope="module")
async def stub(plans_app: ServiceApp) -> AsyncIterator[Stub]:
    async with channel_to(plans_app) as channel:
        yield plans_pb2_grpc.PlansServiceStub(channel)


def details(err: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """(ErrorInfo reason, BadRequest fields) from the rich status the kit attaches."""
    raw = dict(err.trailing_metadata() or ()).get(STATUS_DETAILS_KEY)
    assert raw is not None, "no rich status details"
    status = status_pb2.Status.FromString(raw)  # type: ignore[arg-type]
    reason, fields = "", []
    for item in status.details:
        info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        if item.Unpack(info):
            reason = info.reason
        elif item.Unpack(bad):
            fields = [v.field for v in bad.field_violations]
    return reason, fields


async def approved_plan(stub: Stub, tokens: dict[str, str], **kw: object) -> pb.Plan:
    created = await stub.CreatePlan(plan_request(**kw), metadata=bearer(tokens["caseworker.ast"]))
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=created.plan.id), metadata=bearer(tokens["caseworker.ast"])
    )
    approved = await stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=created.plan.id, decision="Working group protocol 12"),
        metadata=bearer(tokens["head.ast"]),
    )
    return approved.plan


def by_agency(plan: pb.Plan, agency_id: str) -> pb.Measure:
    return next(m for m in plan.measures if m.agency_id == agency_id)


async def designated(stub: Stub, tokens: dict[str, str]) -> pb.Measure:
    plan = await approved_plan(stub, tokens)
    measure = by_agency(plan, "edu-ast-1")
    resp = await stub.DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="teacher.ast"),
        metadata=bearer(tokens["education.ast"]),
    )
    return resp.measure


async def reported(stub: Stub, tokens: dict[str, str]) -> pb.Measure:
    measure = await designated(stub, tokens)
    resp = await stub.ReportMeasure(
        pb.ReportMeasureRequest(measure_id=measure.id, report="Eight lessons given, grades up"),
        metadata=bearer(tokens["teacher.ast"]),
    )
    return resp.measure


async def test_pln1_a_draft_covers_one_family_for_at_most_a_year_in_kz(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with clock_at(BEFORE_NEW_YEAR):
        resp = await stub.CreatePlan(plan_request(), metadata=bearer(tokens["caseworker.ast"]))
    plan = resp.plan
    assert plan.state == pb.PLAN_STATE_DRAFT
    assert (plan.center_id, plan.territory) == ("fc-ast-1", "kz-ast")
    # One year from 30 December 2026: Thursday 30 December 2027, a working day.
    assert dt(plan.term_ends_at) == end_of(date(2027, 12, 30), ASTANA)
    assert [m.state for m in plan.measures] == [pb.MEASURE_STATE_DRAFT] * 3
    assert all(not m.obligations for m in plan.measures)


async def test_pln2_family_participation_is_followed_by_the_center(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    resp = await stub.CreatePlan(plan_request(), metadata=bearer(tokens["caseworker.ast"]))
    own = next(m for m in resp.plan.measures if m.kind == pb.MEASURE_KIND_FAMILY_PARTICIPATION)
    assert (own.agency_id, own.agency_type) == ("fc-ast-1", "family_center")


async def test_pln1_measure_deadline_past_the_term_names_the_field(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    request = plan_request(measures=[measure_draft(), health_measure(deadline=in_days(400))])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePlan(request, metadata=bearer(tokens["caseworker.ast"]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", ["measures[1].deadline"])


async def test_pln2_measure_without_kind_or_bad_date_is_refused(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    for bad, field in (
        (measure_draft(kind=pb.MEASURE_KIND_UNSPECIFIED), "measures[0].kind"),
        (measure_draft(deadline="next month"), "measures[0].deadline"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CreatePlan(
                plan_request(measures=[bad]), metadata=bearer(tokens["caseworker.ast"])
            )
        assert details(err.value)[1] == [field]


async def test_create_plan_retry_with_same_key_returns_the_first_plan(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    request = plan_request()
    first = await stub.CreatePlan(request, metadata=bearer(tokens["caseworker.ast"]))
    again = await stub.CreatePlan(request, metadata=bearer(tokens["caseworker.ast"]))
    assert first.plan.id == again.plan.id
    assert [m.id for m in first.plan.measures] == [m.id for m in again.plan.measures]


async def test_only_case_workers_draft_plans(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    for user in ("head.ast", "education.ast"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CreatePlan(plan_request(), metadata=bearer(tokens[user]))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_pln4_sdp_plans_have_no_approver_in_kz(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePlan(
            plan_request(situation=pb.SITUATION_SDP), metadata=bearer(tokens["caseworker.ast"])
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "no-approver"


async def test_pln4_pln5_pln6_approval_sends_measures_and_starts_designation_terms(
    stub, tokens, plans_app
) -> None:  # type: ignore[no-untyped-def]
    """Approved on 30 December 2026 at 17:00 in Astana: the agencies owe a responsible person
    within 2 working days, 31 December and 5 January (New Year in between), so by the end of
    Tuesday 5 January 2027; the plan runs one year, to the end of 30 December 2027."""
    with clock_at(BEFORE_NEW_YEAR):
        plan = await approved_plan(stub, tokens)
    assert plan.state == pb.PLAN_STATE_APPROVED
    assert plan.approval_decision == "Working group protocol 12"
    approved_at = dt(plan.approved_at)
    assert approved_at.astimezone(ASTANA).date() == date(2026, 12, 30)
    assert dt(plan.term_ends_at) == end_of(date(2027, 12, 30), ASTANA)
    for agency in ("edu-ast-1", "hlt-ast-1"):
        m = by_agency(plan, agency)
        assert m.state == pb.MEASURE_STATE_SENT
        assert dt(m.sent_at) == approved_at
        rows = {o.rule: o for o in m.obligations}
        # Sent now; met when notify delivers the measure's notice (tests/plans/test_routing.py).
        assert rows["PLN-5"].state == "open"
        assert rows["PLN-5"].responsible_agency == "fc-ast-1"
        assert dt(rows["PLN-5"].due_at) == end_of(date(2027, 1, 5), ASTANA)
        # The measure's own deadline is the agency's obligation (PLN-7).
        assert rows["PLN-7"].state == "open" and rows["PLN-7"].responsible_agency == agency
        assert dt(rows["PLN-7"].due_at) == end_of(date.fromisoformat(m.deadline), ASTANA)
        assert rows["PLN-6"].state == "open"
        assert rows["PLN-6"].responsible_agency == agency
        assert dt(rows["PLN-6"].due_at) == end_of(date(2027, 1, 5), ASTANA)
    own = by_agency(plan, "fc-ast-1")
    assert own.state == pb.MEASURE_STATE_ASSIGNED
    assert not own.obligations
    async with plans_app.wiring.uow() as session:  # type: ignore[union-attr]
        subjects = (
            await session.exec(
                select(OutboxEvent.subject).where(col(OutboxEvent.subject).like("kamqor.plans.%"))
            )
        ).all()
    assert "kamqor.plans.plan.approved" in subjects
    assert subjects.count("kamqor.plans.measure.sent") >= 2


async def test_pln4_only_the_centers_head_approves_a_dls_plan(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    created = await stub.CreatePlan(plan_request(), metadata=bearer(tokens["caseworker.ast"]))
    request = pb.ApprovePlanRequest(plan_id=created.plan.id, decision="protocol 1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ApprovePlan(request, metadata=bearer(tokens["head.ast"]))
    assert details(err.value)[0] == "plan-state"  # a draft is submitted first (PLN-4)
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=created.plan.id), metadata=bearer(tokens["caseworker.ast"])
    )
    for user, code in (
        ("commission.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("caseworker.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("head.ala", grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ApprovePlan(request, metadata=bearer(tokens[user]))
        assert err.value.code() == code, user
    await stub.ApprovePlan(request, metadata=bearer(tokens["head.ast"]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ApprovePlan(request, metadata=bearer(tokens["head.ast"]))
    assert details(err.value)[0] == "plan-approved"


async def test_pln15_an_agency_sees_only_its_own_sent_measures(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """PLN-15: an agency lists the measures sent to it, never drafts or whole plans."""
    plan = await approved_plan(stub, tokens)
    await stub.CreatePlan(plan_request(), metadata=bearer(tokens["caseworker.ast"]))  # a draft
    seen: dict[str, set[str]] = {}
    for user in ("education.ast", "health.ast", "police.ast"):
        ids: set[str] = set()
        token = ""
        while True:
            page = await stub.ListMyMeasures(
                pb.ListMyMeasuresRequest(page_size=2, page_token=token),
                metadata=bearer(tokens[user]),
            )
            assert all(m.state != pb.MEASURE_STATE_DRAFT for m in page.measures)
            ids |= {m.id for m in page.measures}
            assert {m.agency_id for m in page.measures} <= {AGENCY_OF[user]}
            token = page.next_page_token
            if not token:
                break
        seen[user] = ids
    assert by_agency(plan, "edu-ast-1").id in seen["education.ast"]
    assert by_agency(plan, "hlt-ast-1").id in seen["health.ast"]
    assert by_agency(plan, "edu-ast-1").id not in seen["health.ast"]
    assert not seen["police.ast"] & (seen["education.ast"] | seen["health.ast"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPlan(
            pb.GetPlanRequest(plan_id=plan.id), metadata=bearer(tokens["education.ast"])
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_pln6_the_agency_coordinator_designates_within_the_term(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    measure = await designated(stub, tokens)
    assert measure.state == pb.MEASURE_STATE_ASSIGNED
    assert measure.assignee == "teacher.ast"
    pln6 = next(o for o in measure.obligations if o.rule == "PLN-6")
    assert pln6.state == "met" and pln6.on_time
    # Replacing the person later keeps the term met.
    again = await stub.DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="education.ast"),
        metadata=bearer(tokens["education.ast"]),
    )
    assert again.measure.assignee == "education.ast"


async def test_pln15_another_agency_cannot_touch_the_measure(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """PLN-15, PLN-6: another agency gets NOT_FOUND; an assignee cannot designate."""
    plan = await approved_plan(stub, tokens)
    measure = by_agency(plan, "edu-ast-1")
    request = pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="doctor.ast")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.DesignateAssignee(request, metadata=bearer(tokens["health.ast"]))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.DesignateAssignee(request, metadata=bearer(tokens["teacher.ast"]))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_pln7_only_the_designated_person_reports_and_timeliness_is_kept(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    measure = await designated(stub, tokens)
    request = pb.ReportMeasureRequest(measure_id=measure.id, report="Lessons given")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ReportMeasure(request, metadata=bearer(tokens["education.ast"]))
    assert details(err.value)[0] == "not-assignee"
    resp = await stub.ReportMeasure(request, metadata=bearer(tokens["teacher.ast"]))
    assert resp.measure.state == pb.MEASURE_STATE_REPORTED
    assert resp.measure.reported_on_time
    assert resp.measure.report == "Lessons given"


async def test_pln7_no_report_before_a_responsible_person_is_designated(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    plan = await approved_plan(stub, tokens)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ReportMeasure(
            pb.ReportMeasureRequest(measure_id=by_agency(plan, "edu-ast-1").id, report="x"),
            metadata=bearer(tokens["teacher.ast"]),
        )
    assert details(err.value)[0] == "no-assignee"


async def test_pln8_return_for_rework_with_reason_and_new_deadline(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """PLN-8: the returned measure carries reason, mode and new deadline, then is redone."""
    measure = await reported(stub, tokens)
    resp = await stub.ReturnMeasure(
        pb.ReturnMeasureRequest(
            measure_id=measure.id,
            mode=pb.RETURN_MODE_REWORK,
            reason="Only two lessons were given",
            new_deadline=in_days(60),
        ),
        metadata=bearer(tokens["caseworker.ast"]),
    )
    m = resp.measure
    assert m.state == pb.MEASURE_STATE_RETURNED
    assert (m.return_mode, m.return_reason, m.deadline, m.returns) == (
        pb.RETURN_MODE_REWORK,
        "Only two lessons were given",
        in_days(60),
        1,
    )
    again = await stub.ReportMeasure(
        pb.ReportMeasureRequest(measure_id=m.id, report="All lessons given"),
        metadata=bearer(tokens["teacher.ast"]),
    )
    assert again.measure.state == pb.MEASURE_STATE_REPORTED


async def test_pln8_return_needs_a_reason_and_a_future_deadline(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """PLN-8: no return without a reason, or with a deadline not after today or past PLN-1."""
    measure = await reported(stub, tokens)
    for kw, field in (
        ({"reason": " ", "new_deadline": in_days(10)}, "reason"),
        ({"reason": "redo", "new_deadline": in_days(0)}, "new_deadline"),
        ({"reason": "redo", "new_deadline": in_days(500)}, "new_deadline"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ReturnMeasure(
                pb.ReturnMeasureRequest(measure_id=measure.id, mode=pb.RETURN_MODE_REPEAT, **kw),
                metadata=bearer(tokens["caseworker.ast"]),
            )
        assert details(err.value)[1] == [field]


async def test_pln9_completion_after_the_report_with_its_date(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """At 23:00 UTC on 1 December it is 2 December in Astana: completion dates are Astana's.
    The UTC date would be before the day the measure was sent, and Astana's tomorrow is future."""
    with clock_at(UTC_EVENING):
        today = clock.today(ASTANA)
        assert (today, in_days(0)) == (date(2026, 12, 2), "2026-12-02")
        measure = await designated(stub, tokens)
        request = pb.CompleteMeasureRequest(measure_id=measure.id, completed_on=in_days(0))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CompleteMeasure(request, metadata=bearer(tokens["caseworker.ast"]))
        assert details(err.value)[0] == "measure-state"
        await stub.ReportMeasure(
            pb.ReportMeasureRequest(measure_id=measure.id, report="Done"),
            metadata=bearer(tokens["teacher.ast"]),
        )
        for wrong in ("2026-12-01", "2026-12-03"):  # UTC's date; Astana's tomorrow
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.CompleteMeasure(
                    pb.CompleteMeasureRequest(measure_id=measure.id, completed_on=wrong),
                    metadata=bearer(tokens["caseworker.ast"]),
                )
            assert details(err.value)[1] == ["completed_on"], wrong
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CompleteMeasure(request, metadata=bearer(tokens["caseworker.ala"]))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        resp = await stub.CompleteMeasure(request, metadata=bearer(tokens["caseworker.ast"]))
    assert resp.measure.state == pb.MEASURE_STATE_COMPLETED
    assert resp.measure.completed_on == "2026-12-02"


async def test_pln9_the_familys_own_measure_is_completed_by_the_center(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Sent and completed at 23:00 UTC on 1 December, 2 December in Astana: the local date."""
    with clock_at(UTC_EVENING):
        plan = await approved_plan(stub, tokens)
        own = by_agency(plan, "fc-ast-1")
        resp = await stub.CompleteMeasure(
            pb.CompleteMeasureRequest(measure_id=own.id, completed_on=in_days(0)),
            metadata=bearer(tokens["caseworker.ast"]),
        )
    assert resp.measure.state == pb.MEASURE_STATE_COMPLETED
    assert resp.measure.completed_on == "2026-12-02"


async def test_reg9_get_plan_is_audited_and_territory_scoped(stub, tokens, plans_app) -> None:  # type: ignore[no-untyped-def]
    created = await stub.CreatePlan(
        plan_request(measures=[participation_measure()]), metadata=bearer(tokens["caseworker.ast"])
    )
    plan_id = created.plan.id
    got = await stub.GetPlan(
        pb.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["head.ast"])
    )
    assert got.plan.measures[0].title == "The mother attends the parenting course"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPlan(
            pb.GetPlanRequest(plan_id=plan_id), metadata=bearer(tokens["caseworker.ala"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    async with plans_app.wiring.uow() as session:  # type: ignore[union-attr]
        rows = (
            await session.exec(select(AuditRecord).where(AuditRecord.entity == f"plan/{plan_id}"))
        ).all()
    assert [r.action for r in rows].count("create") == 1
    reads = [r for r in rows if r.action == "read"]
    assert len(reads) == 1 and reads[0].agency == "fc-ast-1"


async def test_unauthenticated_calls_are_refused(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePlan(plan_request())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


# --- Irkutsk: SDP plans approved by the commission, terms by support level -------------------

IRK_USERS = ("caseworker.irk", "head.irk", "commission.irk", "education.irk")


@pytest.fixture(scope="module")
def irk_tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in IRK_USERS}


def irk_measure(days: int = 30) -> pb.MeasureDraft:
    return measure_draft(
        agency_id="edu-irk-1",
        agency_type="education",
        title="Daily attendance check",
        target="",
        deadline=(clock.today(IRKUTSK) + timedelta(days=days)).isoformat(),
    )


def irk_plan(**kw: object) -> pb.CreatePlanRequest:
    values: dict[str, object] = {
        "situation": pb.SITUATION_SDP,
        "support_level": pb.SUPPORT_LEVEL_EMERGENCY,
        "measures": [irk_measure()],
    }
    values.update(kw)
    return plan_request(**values)


async def approved_irk_plan(stub: Stub, irk_tokens: dict[str, str]) -> pb.Plan:
    draft = await stub.CreatePlan(irk_plan(), metadata=bearer(irk_tokens["caseworker.irk"]))
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=draft.plan.id), metadata=bearer(irk_tokens["caseworker.irk"])
    )
    approved = await stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=draft.plan.id, decision="KDN 14/2"),
        metadata=bearer(irk_tokens["commission.irk"]),
    )
    return approved.plan


async def test_pln4_irkutsk_sdp_plan_is_approved_by_the_commission_pln1_by_level(  # type: ignore[no-untyped-def]
    stub, irk_tokens
) -> None:
    """Approved on 30 December 2026 in Irkutsk at the emergency level: at most 3 months (INT-6),
    to the end of Tuesday 30 March 2027; the center head may not approve an SDP plan."""
    with clock_at(datetime(2026, 12, 30, 10, 0, tzinfo=IRKUTSK)):
        draft = await stub.CreatePlan(irk_plan(), metadata=bearer(irk_tokens["caseworker.irk"]))
        await stub.SubmitPlan(
            pb.SubmitPlanRequest(plan_id=draft.plan.id),
            metadata=bearer(irk_tokens["caseworker.irk"]),
        )
        request = pb.ApprovePlanRequest(plan_id=draft.plan.id, decision="KDN 14/2")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ApprovePlan(request, metadata=bearer(irk_tokens["head.irk"]))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        resp = await stub.ApprovePlan(request, metadata=bearer(irk_tokens["commission.irk"]))
    plan = resp.plan
    assert plan.state == pb.PLAN_STATE_APPROVED
    assert dt(plan.approved_at).astimezone(IRKUTSK).date() == date(2026, 12, 30)
    assert dt(plan.term_ends_at) == end_of(date(2027, 3, 30), IRKUTSK)


async def test_pln1_irkutsk_needs_the_support_level_and_keeps_deadlines_within_it(  # type: ignore[no-untyped-def]
    stub, irk_tokens, plans_app
) -> None:
    """No level, no plan; a deadline past the level's 3 months is refused; a refused draft
    writes nothing, a valid one is written."""

    async def written() -> tuple[int, int, int]:
        async with plans_app.wiring.uow() as session:
            plans = (await session.exec(select(Plan.id).where(Plan.territory == "ru-irk"))).all()
            terms = (
                await session.exec(select(Obligation.id).where(Obligation.territory == "ru-irk"))
            ).all()
            created = (
                await session.exec(
                    select(OutboxEvent.id).where(OutboxEvent.subject == "kamqor.plans.plan.created")
                )
            ).all()
        return len(plans), len(terms), len(created)

    caseworker = bearer(irk_tokens["caseworker.irk"])
    before = await written()
    for request, field in (
        (
            irk_plan(situation=pb.SITUATION_DLS, support_level=pb.SUPPORT_LEVEL_UNSPECIFIED),
            "support_level",
        ),
        (
            irk_plan(situation=pb.SITUATION_DLS, measures=[irk_measure(days=120)]),
            "measures[0].deadline",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CreatePlan(request, metadata=caseworker)
        assert details(err.value) == ("invalid", [field])
    assert await written() == before
    ok = await stub.CreatePlan(
        irk_plan(situation=pb.SITUATION_DLS, measures=[irk_measure(days=80)]), metadata=caseworker
    )
    assert ok.plan.state == pb.PLAN_STATE_DRAFT
    assert (
        ok.plan.measures[0].deadline
        <= dt(ok.plan.term_ends_at).astimezone(IRKUTSK).date().isoformat()
    )
    plans, terms, created = await written()
    assert (plans, terms, created) == (before[0] + 1, before[1], before[2] + 1)


async def test_pln5_pln6_irkutsk_sends_and_designates_with_no_legal_term(  # type: ignore[no-untyped-def]
    stub, irk_tokens, plans_app
) -> None:
    """PLN-5 and PLN-6 set terms in Kazakhstan only; in Irkutsk the same steps happen with no
    legal term (DOMAIN.md PLN-6): approval sends the measure to its agency, which lists it and
    designates a responsible person, and no obligation is opened for either step."""
    plan = await approved_irk_plan(stub, irk_tokens)
    (measure,) = plan.measures
    assert (measure.state, measure.agency_id) == (pb.MEASURE_STATE_SENT, "edu-irk-1")
    assert dt(measure.sent_at) == dt(plan.approved_at)
    # Only the measure's own deadline (PLN-7), which every profile has.
    assert [o.rule for o in measure.obligations] == ["PLN-7"]

    school = bearer(irk_tokens["education.irk"])
    seen: set[str] = set()
    token = ""
    while True:
        page = await stub.ListMyMeasures(
            pb.ListMyMeasuresRequest(page_size=50, page_token=token), metadata=school
        )
        seen |= {m.id for m in page.measures}
        token = page.next_page_token
        if not token:
            break
    assert measure.id in seen
    resp = await stub.DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="education.irk"),
        metadata=school,
    )
    assert (resp.measure.state, resp.measure.assignee) == (
        pb.MEASURE_STATE_ASSIGNED,
        "education.irk",
    )
    assert [(o.rule, o.responsible_person) for o in resp.measure.obligations] == [
        ("PLN-7", "education.irk")
    ]

    async with plans_app.wiring.uow() as session:
        terms = (
            await session.exec(
                select(Obligation).where(Obligation.subject == f"measure/{measure.id}")
            )
        ).all()
        events = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).like("kamqor.plans.measure.%"))
            )
        ).all()
    assert [t.rule for t in terms] == ["PLN-7"]
    mine = {e.subject for e in events if measure.id.encode() in e.body}
    assert {"kamqor.plans.measure.sent", "kamqor.plans.measure.assigned"} <= mine


async def every_measure(stub: Stub, token: str, **kw: Any) -> list[pb.Measure]:
    """Every measure the agency's list gives, two a page."""
    found: list[pb.Measure] = []
    page_token = ""
    while True:
        page = await stub.ListMyMeasures(
            pb.ListMyMeasuresRequest(page_size=2, page_token=page_token, **kw),
            metadata=bearer(token),
        )
        found += page.measures
        page_token = page.next_page_token
        if not page_token:
            return found


async def test_pln15_an_agencys_list_in_each_order_across_pages(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Whatever else the agency has, each order lists every measure once, sorted across pages;
    equal deadlines and one approval's sending instant are ordered by id."""
    deadlines = [40, 10, 25, 25]
    plan = await approved_plan(
        stub, tokens, measures=[measure_draft(deadline=in_days(d)) for d in deadlines]
    )
    ours = {m.id for m in plan.measures}
    school = tokens["education.ast"]
    as_drafted = await every_measure(stub, school)
    by_deadline = await every_measure(stub, school, order=pb.MEASURE_ORDER_DEADLINE)
    latest_sent = await every_measure(stub, school, order=pb.MEASURE_ORDER_LATEST_SENT)
    for listed in (as_drafted, by_deadline, latest_sent):
        ids = [m.id for m in listed]
        assert len(ids) == len(set(ids)) and set(ids) == {m.id for m in as_drafted}
        assert ours <= set(ids)
    assert [m.id for m in as_drafted] == sorted(m.id for m in as_drafted)
    keys = [(m.deadline, m.id) for m in by_deadline]
    assert keys == sorted(keys)
    sent = [(dt(m.sent_at), m.id) for m in latest_sent]
    assert sent == sorted(sent, reverse=True)
    at = [i for i, m in enumerate(latest_sent) if m.id in ours]  # one approval: side by side
    assert at == list(range(at[0], at[0] + len(ours)))
    mine = [m for m in by_deadline if m.id in ours]
    assert [m.deadline for m in mine] == sorted(in_days(d) for d in deadlines)

    first = await stub.ListMyMeasures(
        pb.ListMyMeasuresRequest(page_size=1, order=pb.MEASURE_ORDER_DEADLINE),
        metadata=bearer(school),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListMyMeasures(
            pb.ListMyMeasuresRequest(page_size=1, page_token=first.next_page_token),
            metadata=bearer(school),
        )
    assert details(refused.value) == ("invalid", ["page_token"])
