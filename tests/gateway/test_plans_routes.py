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
    assert metadata["authorization"] == "Bearer caseworker"


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
