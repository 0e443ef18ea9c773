"""/v1/plans and /v1/measures through a real gRPC channel to a fake PlansService: conversion,
Idempotency-Key, roles, validation that names the field, problems from the service's errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, get_args

import grpc
import httpx
import pytest

from gateway.schemas.common import page_token_out
from gateway.schemas.plans import AgencyType
from kamqor.auth import AGENCY_TYPES
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc
from tests.gateway.conftest import bearer
from tests.gateway.doubles import NOW, Ctx, Recorder, principal, ts
from tests.gateway.one_service import Api, gateway_before
from tests.support import clock

TYPE = "https://kamqor.dev/problems/"
PRINCIPALS = {
    "caseworker": principal("case-worker", token="caseworker"),
    "head": principal("center-head", token="head"),
    "commission": principal("commission-member", token="commission"),
    "coordinator": principal("agency-coordinator", token="coordinator"),
    "assignee": principal("agency-assignee", token="assignee"),
    "analyst": principal("analyst", token="analyst"),
}
PLAN_ID = str(uuid.uuid4())
MEASURE_ID = str(uuid.uuid4())
REVIEW_ID = str(uuid.uuid4())
REVISION_ID = str(uuid.uuid4())


def measure_pb(**kw: Any) -> pb.Measure:
    values: dict[str, Any] = {
        "id": MEASURE_ID,
        "plan_id": PLAN_ID,
        "territory": "kz-ast",
        "center_id": "fc-ast-1",
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "kind": pb.MEASURE_KIND_PEDAGOGICAL,
        "title": "Tutoring in mathematics",
        "target": "eldest child",
        "deadline": "2026-04-30",
        "state": pb.MEASURE_STATE_SENT,
        "sent_at": ts(NOW),
        "obligations": [
            deadlines_pb2.Obligation(
                id=str(uuid.uuid4()),
                rule="PLN-6",
                responsible_agency="edu-ast-1",
                due_at=ts(NOW + timedelta(days=2)),
                state="open",
            )
        ],
    }
    values.update(kw)
    return pb.Measure(**values)


def plan_pb(request: pb.CreatePlanRequest) -> pb.Plan:
    return pb.Plan(
        id=PLAN_ID,
        center_id="fc-ast-1",
        territory="kz-ast",
        case_id=request.case_id,
        situation=request.situation,
        support_level=request.support_level,
        state=pb.PLAN_STATE_DRAFT,
        created_by="caseworker",
        created_at=ts(NOW),
        term_ends_at=ts(NOW + timedelta(days=365)),
        participants=request.participants,
        applied_on=request.applied_on,
        measures=[
            measure_pb(
                id=str(uuid.uuid4()),
                agency_id=m.agency_id,
                agency_type=m.agency_type,
                kind=m.kind,
                title=m.title,
                target=m.target,
                deadline=m.deadline,
                state=pb.MEASURE_STATE_DRAFT,
                sent_at=None,
                obligations=[],
            )
            for m in request.measures
        ],
    )


class FakePlans(plans_pb2_grpc.PlansServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def CreatePlan(self, request: pb.CreatePlanRequest, context: Ctx) -> Any:
        await self.rec.record("CreatePlan", request, context)
        return pb.CreatePlanResponse(plan=plan_pb(request))

    async def GetPlan(self, request: pb.GetPlanRequest, context: Ctx) -> Any:
        await self.rec.record("GetPlan", request, context)
        plan = plan_pb(pb.CreatePlanRequest(situation=pb.SITUATION_DLS))
        plan.id = request.plan_id
        return pb.GetPlanResponse(plan=plan)

    async def ApprovePlan(self, request: pb.ApprovePlanRequest, context: Ctx) -> Any:
        await self.rec.record("ApprovePlan", request, context)
        plan = plan_pb(pb.CreatePlanRequest(situation=pb.SITUATION_SDP))
        plan.id = request.plan_id
        plan.state = pb.PLAN_STATE_APPROVED
        plan.approved_by = "head"
        plan.approved_at.CopyFrom(ts(NOW))
        plan.approval_decision = request.decision
        plan.measures.append(measure_pb())
        return pb.ApprovePlanResponse(plan=plan)

    async def DesignateAssignee(self, request: pb.DesignateAssigneeRequest, context: Ctx) -> Any:
        await self.rec.record("DesignateAssignee", request, context)
        measure = measure_pb(
            id=request.measure_id,
            state=pb.MEASURE_STATE_ASSIGNED,
            assignee=request.assignee,
            assigned_at=ts(NOW),
        )
        measure.obligations[0].met_at.CopyFrom(ts(NOW))
        measure.obligations[0].state = "met"
        measure.obligations[0].on_time = True
        return pb.DesignateAssigneeResponse(measure=measure)

    async def ListMyMeasures(self, request: pb.ListMyMeasuresRequest, context: Ctx) -> Any:
        await self.rec.record("ListMyMeasures", request, context)
        return pb.ListMyMeasuresResponse(measures=[measure_pb()], next_page_token="m2")

    async def ReportMeasure(self, request: pb.ReportMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("ReportMeasure", request, context)
        return pb.ReportMeasureResponse(
            measure=measure_pb(
                id=request.measure_id,
                state=pb.MEASURE_STATE_REPORTED,
                report=request.report,
                reported_at=ts(NOW),
                reported_on_time=True,
            )
        )

    async def CompleteMeasure(self, request: pb.CompleteMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("CompleteMeasure", request, context)
        return pb.CompleteMeasureResponse(
            measure=measure_pb(
                id=request.measure_id,
                state=pb.MEASURE_STATE_COMPLETED,
                completed_on=request.completed_on,
            )
        )

    async def ReturnMeasure(self, request: pb.ReturnMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("ReturnMeasure", request, context)
        return pb.ReturnMeasureResponse(
            measure=measure_pb(
                id=request.measure_id,
                state=pb.MEASURE_STATE_RETURNED,
                return_mode=request.mode,
                return_reason=request.reason,
                deadline=request.new_deadline,
                returns=1,
            )
        )

    # --- a plan's life after drafting (issue 14): each answers the plan in its new state ---
    def _plan(self, plan_id: str, state: pb.PlanState.ValueType) -> pb.Plan:
        plan = plan_pb(pb.CreatePlanRequest(situation=pb.SITUATION_DLS))
        plan.id, plan.state = plan_id, state
        return plan

    async def ListPlans(self, request: pb.ListPlansRequest, context: Ctx) -> Any:
        await self.rec.record("ListPlans", request, context)
        row = pb.PlanSummary(
            id=PLAN_ID,
            situation=pb.SITUATION_DLS,
            state=pb.PLAN_STATE_APPROVED,
            created_by="caseworker",
            created_at=ts(NOW),
            term_ends_at=ts(NOW + timedelta(days=365)),
            measures=3,
            open_measures=2,
            next_due=measure_pb().obligations[0],
        )
        return pb.ListPlansResponse(plans=[row], next_page_token="p2")

    async def SubmitPlan(self, request: pb.SubmitPlanRequest, context: Ctx) -> Any:
        await self.rec.record("SubmitPlan", request, context)
        plan = self._plan(request.plan_id, pb.PLAN_STATE_SUBMITTED)
        plan.submitted_by = "caseworker"
        plan.submitted_at.CopyFrom(ts(NOW))
        return pb.SubmitPlanResponse(plan=plan)

    async def OpenReview(self, request: pb.OpenReviewRequest, context: Ctx) -> Any:
        await self.rec.record("OpenReview", request, context)
        plan = self._plan(request.plan_id, pb.PLAN_STATE_UNDER_REVIEW)
        plan.reviews.append(
            pb.Review(id=REVIEW_ID, kind=request.kind, opened_at=ts(NOW), opened_by="head")
        )
        return pb.OpenReviewResponse(plan=plan)

    async def ConcludeReview(self, request: pb.ConcludeReviewRequest, context: Ctx) -> Any:
        await self.rec.record("ConcludeReview", request, context)
        plan = self._plan(request.plan_id, pb.PLAN_STATE_APPROVED)
        plan.reviews.append(
            pb.Review(
                id=REVIEW_ID,
                kind=pb.REVIEW_KIND_FINAL,
                opened_at=ts(NOW - timedelta(days=1)),
                opened_by="head",
                concluded_at=ts(NOW),
                concluded_by="head",
                decision=request.decision,
                conclusion=request.conclusion,
            )
        )
        return pb.ConcludeReviewResponse(plan=plan)

    async def ChangeSupportLevel(self, request: pb.ChangeSupportLevelRequest, context: Ctx) -> Any:
        await self.rec.record("ChangeSupportLevel", request, context)
        plan = self._plan(request.plan_id, pb.PLAN_STATE_APPROVED)
        plan.level_changes.append(
            pb.LevelChange(
                id=str(uuid.uuid4()),
                person=request.person,
                from_level=request.from_level,
                to_level=request.to_level,
                direction="better",
                indicator="crisis_to_basic",
                reason=request.reason,
                at=ts(NOW),
                by="caseworker",
            )
        )
        return pb.ChangeSupportLevelResponse(plan=plan)

    async def ExtendPlan(self, request: pb.ExtendPlanRequest, context: Ctx) -> Any:
        await self.rec.record("ExtendPlan", request, context)
        plan = self._plan(request.plan_id, pb.PLAN_STATE_APPROVED)
        plan.term_ends_at.CopyFrom(ts(NOW + timedelta(days=30 * request.months)))
        return pb.ExtendPlanResponse(plan=plan)

    def _closed(self, plan_id: str, state: pb.PlanState.ValueType, **closure: Any) -> pb.Plan:
        plan = self._plan(plan_id, state)
        plan.closure.CopyFrom(pb.Closure(decision="Protocol 30", closed_by="head", **closure))
        return plan

    async def ClosePlan(self, request: pb.ClosePlanRequest, context: Ctx) -> Any:
        await self.rec.record("ClosePlan", request, context)
        monitoring = {"monitoring_from": ts(NOW + timedelta(days=92))}
        plan = self._closed(
            request.plan_id,
            pb.PLAN_STATE_MONITORING,
            ground=request.ground,
            explanation=request.explanation,
            closed_at=ts(NOW),
            **monitoring,
        )
        plan.closure.decision = request.decision
        return pb.ClosePlanResponse(plan=plan)

    async def EndMonitoring(self, request: pb.EndMonitoringRequest, context: Ctx) -> Any:
        await self.rec.record("EndMonitoring", request, context)
        ended = {"monitoring_ended_at": ts(NOW), "monitoring_outcome": request.outcome}
        plan = self._closed(
            request.plan_id,
            pb.PLAN_STATE_CLOSED,
            ground=pb.CLOSURE_GROUND_RESULT_ACHIEVED,
            closed_at=ts(NOW - timedelta(days=120)),
            **ended,
        )
        return pb.EndMonitoringResponse(plan=plan)

    async def ReopenPlan(self, request: pb.ReopenPlanRequest, context: Ctx) -> Any:
        await self.rec.record("ReopenPlan", request, context)
        plan = plan_pb(pb.CreatePlanRequest(situation=pb.SITUATION_DLS, measures=request.measures))
        plan.id, plan.revises_plan_id = REVISION_ID, request.plan_id
        return pb.ReopenPlanResponse(plan=plan)

    async def ReportPlanIndicators(
        self, request: pb.ReportPlanIndicatorsRequest, context: Ctx
    ) -> Any:
        await self.rec.record("ReportPlanIndicators", request, context)
        return pb.ReportPlanIndicatorsResponse(
            level_changes=[
                pb.Count(key="crisis_to_basic", count=2),
                pb.Count(key="better", count=2),
            ],
            closures=[pb.Count(key="result_achieved", count=1)],
            plans_approved=4,
            plans_closed=1,
            plans_reopened=0,
        )


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    def add_fake(server: grpc.aio.Server, recorder: Recorder) -> None:
        plans_pb2_grpc.add_PlansServiceServicer_to_server(FakePlans(recorder), server)

    async with gateway_before("plans", add_fake, PRINCIPALS) as api:
        yield api


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def plan_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_id": str(uuid.uuid4()),
        "situation": "dls",
        "measures": [
            {
                "kind": "pedagogical",
                "agency_id": "edu-ast-1",
                "agency_type": "education",
                "title": "Tutoring in mathematics twice a week",
                "target": "eldest child",
                "deadline": in_days(30),
            },
            {
                "kind": "family_participation",
                "title": "The mother attends the parenting course",
                "target": "mother",
                "deadline": in_days(45),
            },
        ],
        "participants": [
            {"role": "family", "name": "Aigerim S. (mother)"},
            {"role": "psychologist", "name": "Dana K.", "organisation": "fc-ast-1"},
        ],
    }
    body.update(kw)
    return body


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE + "invalid"
    return [e["field"] for e in response.json()["errors"]]


# --- happy paths: the right RPC with the right fields ----------------------------------------


async def test_create_plan_converts_forwards_and_answers_201(api: Api) -> None:
    body = plan_body(situation="sdp", support_level="crisis")
    response = await api.http.post(
        "/v1/plans", json=body, headers={**bearer("caseworker"), "Idempotency-Key": "p-1"}
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["location"] == f"/v1/plans/{PLAN_ID}"
    assert (plan["id"], plan["state"], plan["situation"]) == (PLAN_ID, "draft", "sdp")
    assert (plan["support_level"], plan["case_id"]) == ("crisis", body["case_id"])
    assert plan["approved_at"] is None and plan["approval_decision"] is None
    assert [m["kind"] for m in plan["measures"]] == ["pedagogical", "family_participation"]
    assert plan["measures"][0]["deadline"] == body["measures"][0]["deadline"]
    assert plan["measures"][0]["assignee"] is None and plan["measures"][0]["sent_at"] is None
    assert plan["participants"] == [
        {"role": "family", "name": "Aigerim S. (mother)", "organisation": None},
        {"role": "psychologist", "name": "Dana K.", "organisation": "fc-ast-1"},
    ]

    method, request, metadata = api.only_call()
    assert method == "CreatePlan"
    assert (request.idempotency_key, request.case_id) == ("p-1", body["case_id"])
    assert (request.situation, request.support_level) == (
        pb.SITUATION_SDP,
        pb.SUPPORT_LEVEL_CRISIS,
    )
    education, own = request.measures
    assert (education.agency_id, education.agency_type, education.kind) == (
        "edu-ast-1",
        "education",
        pb.MEASURE_KIND_PEDAGOGICAL,
    )
    assert (education.deadline, education.target) == (in_days(30), "eldest child")
    assert (own.agency_id, own.agency_type, own.kind) == (
        "",
        "",
        pb.MEASURE_KIND_FAMILY_PARTICIPATION,
    )
    assert [(p.role, p.name, p.organisation) for p in request.participants] == [
        (pb.PARTICIPANT_ROLE_FAMILY, "Aigerim S. (mother)", ""),
        (pb.PARTICIPANT_ROLE_PSYCHOLOGIST, "Dana K.", "fc-ast-1"),
    ]
    assert request.applied_on == ""
    assert metadata["authorization"] == "Bearer caseworker"


async def test_create_plan_forwards_the_application_date(api: Api) -> None:
    response = await api.http.post(
        "/v1/plans", json=plan_body(applied_on=in_days(-3)), headers=bearer("caseworker")
    )
    assert response.status_code == 201, response.text
    assert response.json()["applied_on"] == in_days(-3)
    _, request, _ = api.only_call()
    assert request.applied_on == in_days(-3)


async def test_create_plan_without_optional_fields(api: Api) -> None:
    body = plan_body()
    del body["case_id"]
    response = await api.http.post("/v1/plans", json=body, headers=bearer("caseworker"))
    assert response.status_code == 201, response.text
    assert response.json()["case_id"] is None and response.json()["support_level"] is None
    _, request, _ = api.only_call()
    assert (request.idempotency_key, request.case_id) == ("", "")
    assert request.support_level == pb.SUPPORT_LEVEL_UNSPECIFIED


async def test_get_plan(api: Api) -> None:
    plan_id = str(uuid.uuid4())
    response = await api.http.get(f"/v1/plans/{plan_id}", headers=bearer("head"))
    assert (response.status_code, response.json()["id"]) == (200, plan_id)
    method, request, _ = api.only_call()
    assert (method, request.plan_id) == ("GetPlan", plan_id)


async def test_approve_plan(api: Api) -> None:
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/approve",
        json={"decision": "Working group protocol 12"},
        headers=bearer("head"),
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["state"], plan["approval_decision"]) == ("approved", "Working group protocol 12")
    assert plan["approved_at"] == "2026-03-02T09:30:00Z"
    sent = plan["measures"][-1]
    assert (sent["state"], sent["sent_at"]) == ("sent", "2026-03-02T09:30:00Z")
    [obligation] = sent["obligations"]
    assert (obligation["rule"], obligation["state"], obligation["on_time"]) == (
        "PLN-6",
        "open",
        None,
    )
    method, request, _ = api.only_call()
    assert (method, request.plan_id, request.decision) == (
        "ApprovePlan",
        PLAN_ID,
        "Working group protocol 12",
    )


async def test_list_my_measures_filters_and_pages(api: Api) -> None:
    response = await api.http.get(
        f"/v1/measures?state=sent&page_size=10&page_token={page_token_out('m1')}",
        headers=bearer("coordinator"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_page_token"] == page_token_out("m2")
    assert [m["id"] for m in page["items"]] == [MEASURE_ID]
    method, request, _ = api.only_call()
    assert method == "ListMyMeasures"
    assert (request.state, request.page_size, request.page_token) == (
        pb.MEASURE_STATE_SENT,
        10,
        "m1",
    )


async def test_list_my_measures_unfiltered(api: Api) -> None:
    response = await api.http.get("/v1/measures", headers=bearer("assignee"))
    assert response.status_code == 200, response.text
    _, request, _ = api.only_call()
    assert (request.state, request.page_size, request.page_token) == (
        pb.MEASURE_STATE_UNSPECIFIED,
        0,
        "",
    )


async def test_designate_assignee(api: Api) -> None:
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/assignee",
        json={"assignee": "teacher.ast"},
        headers=bearer("coordinator"),
    )
    assert response.status_code == 200, response.text
    measure = response.json()
    assert (measure["state"], measure["assignee"]) == ("assigned", "teacher.ast")
    [obligation] = measure["obligations"]
    assert (obligation["state"], obligation["on_time"]) == ("met", True)
    method, request, _ = api.only_call()
    assert (method, request.measure_id, request.assignee) == (
        "DesignateAssignee",
        MEASURE_ID,
        "teacher.ast",
    )


async def test_report_measure(api: Api) -> None:
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/report",
        json={"report": "Eight lessons given"},
        headers=bearer("assignee"),
    )
    assert response.status_code == 200, response.text
    measure = response.json()
    assert (measure["state"], measure["report"], measure["reported_on_time"]) == (
        "reported",
        "Eight lessons given",
        True,
    )
    method, request, _ = api.only_call()
    assert (method, request.report) == ("ReportMeasure", "Eight lessons given")


async def test_complete_measure(api: Api) -> None:
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/complete",
        json={"completed_on": "2026-03-01"},
        headers=bearer("caseworker"),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["completed_on"]) == (
        "completed",
        "2026-03-01",
    )
    method, request, _ = api.only_call()
    assert (method, request.measure_id, request.completed_on) == (
        "CompleteMeasure",
        MEASURE_ID,
        "2026-03-01",
    )


async def test_return_measure(api: Api) -> None:
    body = {"mode": "repeat", "reason": "Not done", "new_deadline": in_days(14)}
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/return", json=body, headers=bearer("caseworker")
    )
    assert response.status_code == 200, response.text
    measure = response.json()
    assert (measure["state"], measure["return_mode"], measure["return_reason"]) == (
        "returned",
        "repeat",
        "Not done",
    )
    assert (measure["deadline"], measure["returns"]) == (in_days(14), 1)
    method, request, _ = api.only_call()
    assert method == "ReturnMeasure"
    assert (request.mode, request.reason, request.new_deadline) == (
        pb.RETURN_MODE_REPEAT,
        "Not done",
        in_days(14),
    )


# --- a plan's life after drafting (issue 14) -------------------------------------------------


async def _act(
    api: Api, token: str, path: str, body: dict[str, Any] | None = None, **kw: Any
) -> tuple[dict[str, Any], str, Any]:
    """POST to a plan's act: the answer (200), and the one RPC made with its request."""
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/{path}", json=body, headers={**bearer(token), **kw}
    )
    assert response.status_code == (201 if path == "reopen" else 200), response.text
    rpc, request, _ = api.only_call()
    assert request.plan_id == PLAN_ID
    return response.json(), rpc, request


async def test_list_plans_filters_and_pages(api: Api) -> None:
    case_id = str(uuid.uuid4())
    query = {"state": "under_review", "case_id": case_id, "mine": "true", "page_size": 5}
    response = await api.http.get(
        "/v1/plans",
        params={**query, "page_token": page_token_out("p1")},
        headers=bearer("caseworker"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_page_token"] == page_token_out("p2")
    [row] = page["items"]
    assert (row["id"], row["state"], row["situation"], row["case_id"]) == (
        PLAN_ID,
        "approved",
        "dls",
        None,
    )
    assert (row["measures"], row["open_measures"], row["next_due"]["rule"]) == (3, 2, "PLN-6")
    assert row["next_due"]["due_at"] == "2026-03-04T09:30:00Z"
    rpc, request, _ = api.only_call()
    assert (rpc, request.state, request.case_id, request.mine) == (
        "ListPlans",
        pb.PLAN_STATE_UNDER_REVIEW,
        case_id,
        True,
    )
    assert (request.page_size, request.page_token) == (5, "p1")


async def test_list_plans_unfiltered(api: Api) -> None:
    response = await api.http.get("/v1/plans", headers=bearer("commission"))
    assert response.status_code == 200, response.text
    _, request, _ = api.only_call()
    assert (request.state, request.case_id, request.mine) == (pb.PLAN_STATE_UNSPECIFIED, "", False)
    assert (request.page_size, request.page_token) == (0, "")


async def test_submit_plan(api: Api) -> None:
    plan, rpc, _ = await _act(api, "caseworker", "submit")
    assert (rpc, plan["state"], plan["submitted_by"], plan["submitted_at"]) == (
        "SubmitPlan",
        "submitted",
        "caseworker",
        "2026-03-02T09:30:00Z",
    )


async def test_open_review(api: Api) -> None:
    plan, rpc, request = await _act(api, "head", "reviews", {"kind": "interim"})
    assert (rpc, request.kind, plan["state"]) == (
        "OpenReview",
        pb.REVIEW_KIND_INTERIM,
        "under_review",
    )
    [review] = plan["reviews"]
    assert (review["id"], review["kind"], review["opened_by"]) == (REVIEW_ID, "interim", "head")
    assert review["concluded_at"] is None and review["decision"] is None


async def test_conclude_review(api: Api) -> None:
    body = {"decision": "close", "conclusion": "School attendance restored"}
    plan, rpc, request = await _act(api, "caseworker", "reviews/conclude", body)
    assert (rpc, request.decision, request.conclusion) == (
        "ConcludeReview",
        pb.REVIEW_DECISION_CLOSE,
        body["conclusion"],
    )
    [review] = plan["reviews"]
    assert (review["kind"], review["decision"], review["conclusion"]) == (
        "final",
        "close",
        body["conclusion"],
    )
    assert review["concluded_at"] == "2026-03-02T09:30:00Z"


async def test_change_support_level(api: Api) -> None:
    body = {"person": "mother", "from_level": "crisis", "to_level": "basic", "reason": "Employed"}
    plan, rpc, request = await _act(api, "caseworker", "level-changes", body)
    assert (rpc, request.person, request.reason) == ("ChangeSupportLevel", "mother", "Employed")
    assert (request.from_level, request.to_level) == (
        pb.SUPPORT_LEVEL_CRISIS,
        pb.SUPPORT_LEVEL_BASIC,
    )
    [change] = plan["level_changes"]
    assert [change[k] for k in ("person", "from_level", "to_level", "direction", "indicator")] == [
        "mother",
        "crisis",
        "basic",
        "better",
        "crisis_to_basic",
    ]


async def test_extend_plan(api: Api) -> None:
    body = {"request_received_on": in_days(-2), "months": 12, "decision": "Working group No. 9"}
    plan, rpc, request = await _act(api, "head", "extend", body)
    assert plan["term_ends_at"] == "2027-02-25T09:30:00Z"
    assert (rpc, request.request_received_on, request.months, request.decision) == (
        "ExtendPlan",
        in_days(-2),
        12,
        "Working group No. 9",
    )


async def test_close_plan(api: Api) -> None:
    body = {
        "ground": "result_impossible",
        "explanation": "The family moved abroad",
        "decision": "Working group protocol 30",
    }
    plan, rpc, request = await _act(api, "commission", "close", body)
    assert (rpc, request.ground, request.explanation, request.decision) == (
        "ClosePlan",
        pb.CLOSURE_GROUND_RESULT_IMPOSSIBLE,
        body["explanation"],
        body["decision"],
    )
    closure = plan["closure"]
    assert (plan["state"], closure["ground"], closure["explanation"]) == (
        "monitoring",
        "result_impossible",
        body["explanation"],
    )
    assert closure["monitoring_from"] == "2026-06-02T09:30:00Z"
    assert closure["monitoring_ended_at"] is None


async def test_close_plan_without_an_explanation(api: Api) -> None:
    body = {"ground": "family_refused", "decision": "Protocol 31"}
    plan, _, request = await _act(api, "head", "close", body)
    assert plan["closure"]["explanation"] is None
    assert (request.ground, request.explanation) == (pb.CLOSURE_GROUND_FAMILY_REFUSED, "")


async def test_end_monitoring(api: Api) -> None:
    body = {"outcome": "Stable for four months"}
    plan, rpc, request = await _act(api, "head", "monitoring/end", body)
    assert (rpc, request.outcome) == ("EndMonitoring", body["outcome"])
    assert (plan["state"], plan["closure"]["monitoring_outcome"]) == ("closed", body["outcome"])


def _reopen_body(**kw: Any) -> dict[str, Any]:
    return {"reason": "The father's drinking resumed", "measures": plan_body()["measures"][:1]} | kw


async def test_reopen_plan_answers_201_with_the_revision(api: Api) -> None:
    body = _reopen_body(support_level="crisis")
    plan, rpc, request = await _act(api, "caseworker", "reopen", body, **{"Idempotency-Key": "r-1"})
    assert (plan["id"], plan["revises_plan_id"], plan["state"]) == (REVISION_ID, PLAN_ID, "draft")
    assert (rpc, request.idempotency_key, request.reason) == ("ReopenPlan", "r-1", body["reason"])
    assert [m.agency_id for m in request.measures] == ["edu-ast-1"]
    assert request.support_level == pb.SUPPORT_LEVEL_CRISIS


async def test_reopen_plan_says_where_the_revision_is(api: Api) -> None:
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/reopen", json=_reopen_body(), headers=bearer("caseworker")
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/plans/{REVISION_ID}"
    _, request, _ = api.only_call()
    assert (request.idempotency_key, request.support_level) == ("", pb.SUPPORT_LEVEL_UNSPECIFIED)


async def test_plan_indicators(api: Api) -> None:
    period = {"from": "2026-01-01", "to": "2026-04-01"}
    response = await api.http.get("/v1/reports/plans", params=period, headers=bearer("analyst"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert {k: report[k] for k in ("territory", "from", "to")} == {"territory": "kz-ast", **period}
    assert report["level_changes"] == {"crisis_to_basic": 2, "better": 2}
    assert report["closures"] == {"result_achieved": 1}
    assert [report[f"plans_{k}"] for k in ("approved", "closed", "reopened")] == [4, 1, 0]
    rpc, request, _ = api.only_call()
    assert (rpc, getattr(request, "from"), request.to, request.territory) == (
        "ReportPlanIndicators",
        *period.values(),
        "",
    )


# --- roles -----------------------------------------------------------------------------------

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/plans", plan_body()),
    ("GET", f"/v1/plans/{PLAN_ID}", None),
    ("POST", f"/v1/plans/{PLAN_ID}/approve", {"decision": "Protocol 1"}),
    ("GET", "/v1/measures", None),
    ("POST", f"/v1/measures/{MEASURE_ID}/assignee", {"assignee": "teacher.ast"}),
    ("POST", f"/v1/measures/{MEASURE_ID}/report", {"report": "Done"}),
    ("POST", f"/v1/measures/{MEASURE_ID}/complete", {"completed_on": "2026-03-01"}),
    (
        "POST",
        f"/v1/measures/{MEASURE_ID}/return",
        {"mode": "rework", "reason": "x", "new_deadline": in_days(3)},
    ),
    # The list shares its path with the draft's POST: a filter tells the two apart here.
    ("GET", "/v1/plans?state=draft", None),
    ("POST", f"/v1/plans/{PLAN_ID}/submit", None),
    ("POST", f"/v1/plans/{PLAN_ID}/reviews", {"kind": "final"}),
    ("POST", f"/v1/plans/{PLAN_ID}/reviews/conclude", {"decision": "continue", "conclusion": "x"}),
    (
        "POST",
        f"/v1/plans/{PLAN_ID}/level-changes",
        {"person": "father", "from_level": "basic", "to_level": "crisis"},
    ),
    (
        "POST",
        f"/v1/plans/{PLAN_ID}/extend",
        {"request_received_on": in_days(0), "months": 12, "decision": "WG 1"},
    ),
    ("POST", f"/v1/plans/{PLAN_ID}/close", {"ground": "family_refused", "decision": "P 2"}),
    ("POST", f"/v1/plans/{PLAN_ID}/monitoring/end", {"outcome": "Stable"}),
    (
        "POST",
        f"/v1/plans/{PLAN_ID}/reopen",
        {"reason": "Worse", "measures": plan_body()["measures"][:1]},
    ),
    ("GET", "/v1/reports/plans?from=2026-01-01&to=2026-02-01", None),
]
ALLOWED = {
    "/v1/plans": {"caseworker"},
    f"/v1/plans/{PLAN_ID}": {"caseworker", "head", "commission"},
    f"/v1/plans/{PLAN_ID}/approve": {"head", "commission"},
    "/v1/measures": {"coordinator", "assignee"},
    f"/v1/measures/{MEASURE_ID}/assignee": {"coordinator"},
    f"/v1/measures/{MEASURE_ID}/report": {"assignee"},
    f"/v1/measures/{MEASURE_ID}/complete": {"caseworker"},
    f"/v1/measures/{MEASURE_ID}/return": {"caseworker"},
    "/v1/plans?state=draft": {"caseworker", "head", "commission"},
    f"/v1/plans/{PLAN_ID}/submit": {"caseworker"},
    f"/v1/plans/{PLAN_ID}/reviews": {"caseworker", "head"},
    f"/v1/plans/{PLAN_ID}/reviews/conclude": {"caseworker", "head"},
    f"/v1/plans/{PLAN_ID}/level-changes": {"caseworker", "head"},
    f"/v1/plans/{PLAN_ID}/extend": {"head"},
    f"/v1/plans/{PLAN_ID}/close": {"head", "commission"},
    f"/v1/plans/{PLAN_ID}/monitoring/end": {"caseworker", "head"},
    f"/v1/plans/{PLAN_ID}/reopen": {"caseworker"},
    "/v1/reports/plans?from=2026-01-01&to=2026-02-01": {"head", "analyst"},
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[r[1] for r in ROUTES])
@pytest.mark.parametrize("token", sorted(PRINCIPALS))
async def test_route_roles(
    api: Api, token: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await api.http.request(method, path, json=body, headers=bearer(token))
    if token in ALLOWED[path]:
        assert response.status_code in (200, 201), response.text
        assert len(api.recorder.calls) == 1
    else:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == TYPE + "forbidden"
        assert api.recorder.calls == []


async def test_no_token_is_401(api: Api) -> None:
    response = await api.http.get("/v1/measures")
    assert response.status_code == 401
    assert api.recorder.calls == []


# --- validation at the edge ------------------------------------------------------------------


def _measure(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(plan_body()["measures"][0])
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({k: v for k, v in plan_body().items() if k != "situation"}, ["situation"]),
        (plan_body(situation="urgent"), ["situation"]),
        (plan_body(support_level="high"), ["support_level"]),
        (plan_body(case_id="case-7"), ["case_id"]),
        (plan_body(measures=[]), ["measures"]),
        (plan_body(measures=[_measure(kind="magic")]), ["measures[0].kind"]),
        (plan_body(measures=[_measure(deadline="30.06.2026")]), ["measures[0].deadline"]),
        (plan_body(measures=[_measure(agency_type="bank")]), ["measures[0].agency_type"]),
        (
            plan_body(measures=[_measure(), _measure(agency_id=None, agency_type=None)]),
            ["measures[1].agency_id", "measures[1].agency_type"],
        ),
        (plan_body(measures=[_measure(title="")]), ["measures[0].title"]),
        (plan_body(measures=[_measure(deadine=in_days(3))]), ["measures[0].deadine"]),
        (plan_body(sitaution="dls"), ["sitaution"]),
        ({k: v for k, v in plan_body().items() if k != "participants"}, ["participants"]),
        (plan_body(participants=[]), ["participants"]),
        (plan_body(participants=[{"role": "uncle", "name": "Marat"}]), ["participants[0].role"]),
        (plan_body(participants=[{"role": "family", "name": ""}]), ["participants[0].name"]),
        (plan_body(applied_on="03.03.2026"), ["applied_on"]),
    ],
)
async def test_plan_fields_are_named(api: Api, body: dict[str, Any], expected: list[str]) -> None:
    response = await api.http.post("/v1/plans", json=body, headers=bearer("caseworker"))
    assert fields(response) == expected
    assert api.recorder.calls == []


@pytest.mark.parametrize(
    ("token", "method", "path", "body", "expected"),
    [
        ("head", "GET", "/v1/plans/12345", None, ["plan_id"]),
        ("head", "POST", f"/v1/plans/{PLAN_ID}/approve", {"decision": ""}, ["decision"]),
        ("head", "POST", f"/v1/plans/{PLAN_ID}/approve", {}, ["decision"]),
        ("coordinator", "GET", "/v1/measures?state=lost", None, ["state"]),
        ("coordinator", "GET", "/v1/measures?page_size=0", None, ["page_size"]),
        ("coordinator", "POST", "/v1/measures/x/assignee", {"assignee": "t"}, ["measure_id"]),
        ("coordinator", "POST", f"/v1/measures/{MEASURE_ID}/assignee", {}, ["assignee"]),
        ("assignee", "POST", f"/v1/measures/{MEASURE_ID}/report", {"report": ""}, ["report"]),
        (
            "caseworker",
            "POST",
            f"/v1/measures/{MEASURE_ID}/complete",
            {"completed_on": "yesterday"},
            ["completed_on"],
        ),
        (
            "caseworker",
            "POST",
            f"/v1/measures/{MEASURE_ID}/return",
            {"mode": "redo", "reason": "", "new_deadline": "soon"},
            ["mode", "reason", "new_deadline"],
        ),
        ("caseworker", "GET", "/v1/plans?state=lost", None, ["state"]),
        ("caseworker", "GET", "/v1/plans?case_id=case-7", None, ["case_id"]),
        ("caseworker", "GET", "/v1/plans?page_size=0", None, ["page_size"]),
        ("caseworker", "POST", "/v1/plans/12345/submit", None, ["plan_id"]),
        ("head", "POST", f"/v1/plans/{PLAN_ID}/reviews", {"kind": "annual"}, ["kind"]),
        (
            "head",
            "POST",
            f"/v1/plans/{PLAN_ID}/reviews/conclude",
            {"decision": "pause", "conclusion": ""},
            ["decision", "conclusion"],
        ),
        (
            "head",
            "POST",
            f"/v1/plans/{PLAN_ID}/level-changes",
            {"person": "", "from_level": "high", "to_level": "basic"},
            ["person", "from_level"],
        ),
        (
            "head",
            "POST",
            f"/v1/plans/{PLAN_ID}/extend",
            {"request_received_on": "20.05.2026", "months": 0, "decision": ""},
            ["request_received_on", "months", "decision"],
        ),
        (
            "head",
            "POST",
            f"/v1/plans/{PLAN_ID}/close",
            {"ground": "tired", "decision": ""},
            ["ground", "decision"],
        ),
        ("head", "POST", f"/v1/plans/{PLAN_ID}/monitoring/end", {}, ["outcome"]),
        (
            "caseworker",
            "POST",
            f"/v1/plans/{PLAN_ID}/reopen",
            {"reason": "", "measures": []},
            ["reason", "measures"],
        ),
        ("analyst", "GET", "/v1/reports/plans?from=0&to=2026-02-01", None, ["from"]),
        ("analyst", "GET", "/v1/reports/plans?from=2026-02-01&to=2026-01-01", None, ["to"]),
    ],
)
async def test_other_fields_are_named(
    api: Api,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: list[str],
) -> None:
    response = await api.http.request(method, path, json=body, headers=bearer(token))
    assert fields(response) == expected
    assert api.recorder.calls == []


def test_agency_types_match_the_kit() -> None:
    assert set(get_args(AgencyType.__value__)) == AGENCY_TYPES


# --- the service's errors as problems --------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (Conflict("the plan is already approved", code="plan-approved"), 409, "plan-approved"),
        (NotFound("plan not found"), 404, "not-found"),
        (
            Forbidden("the center_head of the plan's own center approves it (PLN-4)"),
            403,
            "forbidden",
        ),
    ],
)
async def test_service_errors_become_problems(
    api: Api, error: Exception, status: int, reason: str
) -> None:
    api.recorder.fail_with = error
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/approve", json={"decision": "Protocol 1"}, headers=bearer("head")
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["detail"]) == (TYPE + reason, str(error))
    assert problem["instance"] == f"/v1/plans/{PLAN_ID}/approve"


@pytest.mark.parametrize(
    ("path", "body", "token", "code"),
    [
        (
            "extend",
            {"request_received_on": "2026-03-01", "months": 12, "decision": "WG 1"},
            "head",
            "no-extension",
        ),
        ("monitoring/end", {"outcome": "Stable"}, "caseworker", "monitoring-too-short"),
        ("submit", None, "caseworker", "plan-state"),
    ],
)
async def test_lifecycle_refusals_are_409_problems(
    api: Api, path: str, body: dict[str, Any] | None, token: str, code: str
) -> None:
    api.recorder.fail_with = Conflict(f"refused: {code}", code=code)
    response = await api.http.post(f"/v1/plans/{PLAN_ID}/{path}", json=body, headers=bearer(token))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE + code


async def test_service_validation_names_the_field(api: Api) -> None:
    api.recorder.fail_with = Invalid(
        "measures[1].deadline", "must be within the plan term, on or before 2027-03-02 (PLN-1)"
    )
    response = await api.http.post("/v1/plans", json=plan_body(), headers=bearer("caseworker"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "measures[1].deadline",
            "message": "must be within the plan term, on or before 2027-03-02 (PLN-1)",
        }
    ]


async def test_plans_service_down_is_503(api: Api) -> None:
    clients = api.app.state.clients
    clients._channels["plans"] = clients.channel("intake")  # the closed port
    response = await api.http.get(f"/v1/plans/{PLAN_ID}", headers=bearer("head"))
    assert response.status_code == 503
    assert response.json()["type"] == TYPE + "service-unavailable"
