"""/v1/agencies, measure routing and amendments, /v1/reports/measures through a real gRPC channel
to fake AgenciesService and MeasureRoutingService: conversion, roles, validation that names the
field, problems from the service's errors. The rules themselves are tested on the real stack
(tests/plans/test_agencies.py, tests/plans/test_routing.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import httpx
import pytest

from gateway.schemas.common import page_token_out
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import agencies_pb2_grpc
from kamqor.plans.v1 import plans_pb2 as pb
from tests.gateway.conftest import bearer
from tests.gateway.doubles import NOW, Ctx, Recorder, principal, ts
from tests.gateway.one_service import Api, gateway_before
from tests.support import clock

PRINCIPALS = {
    "caseworker": principal("case-worker", token="caseworker"),
    "head": principal("center-head", token="head"),
    "coordinator": principal("agency-coordinator", token="coordinator"),
    "assignee": principal("agency-assignee", token="assignee"),
    "analyst": principal("analyst", token="analyst"),
    "intake": principal("intake-operator", token="intake"),
}
PLAN_ID = str(uuid.uuid4())
MEASURE_ID = str(uuid.uuid4())


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def agency_pb(agency_id: str = "edu-ast-1") -> apb.Agency:
    return apb.Agency(
        id=agency_id,
        territory="kz-ast",
        agency_type="education",
        name="School No. 1, Astana",
        competences=[pb.MEASURE_KIND_PEDAGOGICAL, pb.MEASURE_KIND_PSYCHOLOGICAL],
        contact=pb.AgencyContact(phone="+7 7172 555", email="s1@edu.example", address="Astana"),
        active=True,
    )


def measure_pb(**kw: Any) -> pb.Measure:
    values: dict[str, Any] = {
        "id": MEASURE_ID,
        "plan_id": PLAN_ID,
        "territory": "kz-ast",
        "center_id": "fc-ast-1",
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "kind": pb.MEASURE_KIND_PEDAGOGICAL,
        "title": "Tutoring",
        "deadline": "2026-12-30",
        "state": pb.MEASURE_STATE_SENT,
        "sent_at": ts(NOW),
        "agency_name": "School No. 1, Astana",
        "agency_contact": pb.AgencyContact(phone="+7 7172 555", email="s1@edu.example"),
    }
    values.update(kw)
    return pb.Measure(**values)


def change_pb(action: str, **kw: Any) -> pb.MeasureChange:
    return pb.MeasureChange(action=action, changed_by="caseworker", changed_at=ts(NOW), **kw)


class FakeAgencies(agencies_pb2_grpc.AgenciesServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def ListAgencies(self, request: apb.ListAgenciesRequest, context: Ctx) -> Any:
        await self.rec.record("ListAgencies", request, context)
        return apb.ListAgenciesResponse(agencies=[agency_pb()], next_page_token="id~~edu-ast-1")

    async def GetAgency(self, request: apb.GetAgencyRequest, context: Ctx) -> Any:
        await self.rec.record("GetAgency", request, context)
        return apb.GetAgencyResponse(agency=agency_pb(request.agency_id))


class FakeRouting(agencies_pb2_grpc.MeasureRoutingServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def DeclineMeasure(self, request: apb.DeclineMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("DeclineMeasure", request, context)
        measure = measure_pb(
            state=pb.MEASURE_STATE_DECLINED,
            decline_reason="no_capacity",
            decline_comment=request.comment,
            changes=[change_pb("declined", after={"state": "declined"})],
        )
        return apb.DeclineMeasureResponse(measure=measure)

    async def RerouteMeasure(self, request: apb.RerouteMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("RerouteMeasure", request, context)
        measure = measure_pb(agency_id=request.agency_id, deadline=request.deadline)
        return apb.RerouteMeasureResponse(measure=measure)

    async def AddMeasure(self, request: apb.AddMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("AddMeasure", request, context)
        return apb.AddMeasureResponse(measure=measure_pb(changes=[change_pb("added")]))

    async def AmendMeasure(self, request: apb.AmendMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("AmendMeasure", request, context)
        change = change_pb(
            "amended", reason=request.reason, before={"title": "Tutoring"}, after={"title": "New"}
        )
        return apb.AmendMeasureResponse(measure=measure_pb(title="New", changes=[change]))

    async def CancelMeasure(self, request: apb.CancelMeasureRequest, context: Ctx) -> Any:
        await self.rec.record("CancelMeasure", request, context)
        return apb.CancelMeasureResponse(measure=measure_pb(state=pb.MEASURE_STATE_CANCELLED))

    async def MeasureIndicators(self, request: apb.MeasureIndicatorsRequest, context: Ctx) -> Any:
        await self.rec.record("MeasureIndicators", request, context)
        return apb.MeasureIndicatorsResponse(
            territory="kz-ast",
            agencies=[
                apb.AgencyMeasureCounts(
                    agency_id="hlt-ast-1", agency_name="Clinic", sent=3, declined=1, completed=1
                )
            ],
        )


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    def add_fakes(server: grpc.aio.Server, recorder: Recorder) -> None:
        agencies_pb2_grpc.add_AgenciesServiceServicer_to_server(FakeAgencies(recorder), server)
        agencies_pb2_grpc.add_MeasureRoutingServiceServicer_to_server(FakeRouting(recorder), server)

    async with gateway_before("plans", add_fakes, PRINCIPALS) as api:
        yield api


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


async def test_list_agencies_filters_and_pages(api: Api) -> None:
    token = page_token_out("id~~edu-aaa-1")
    response = await api.http.get(
        "/v1/agencies",
        params={"kind": "psychological", "page_size": 5, "page_token": token},
        headers=bearer("coordinator"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_page_token"] == page_token_out("id~~edu-ast-1")
    (agency,) = page["items"]
    assert agency["competences"] == ["pedagogical", "psychological"]
    assert agency["contact"] == {
        "phone": "+7 7172 555",
        "email": "s1@edu.example",
        "address": "Astana",
    }
    method, request, _ = api.only_call()
    assert method == "ListAgencies"
    assert (request.kind, request.page_size, request.page_token, request.include_inactive) == (
        pb.MEASURE_KIND_PSYCHOLOGICAL,
        5,
        "id~~edu-aaa-1",
        False,
    )


async def test_get_agency_and_its_absence(api: Api) -> None:
    response = await api.http.get("/v1/agencies/edu-ast-1", headers=bearer("caseworker"))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "School No. 1, Astana"
    api.recorder.fail_with = NotFound("agency not found")
    response = await api.http.get("/v1/agencies/edu-ala-1", headers=bearer("caseworker"))
    assert response.status_code == 404


async def test_decline_measure(api: Api) -> None:
    body = {"reason": "no_capacity", "comment": "No places\nthis term"}
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/decline", json=body, headers=bearer("coordinator")
    )
    assert response.status_code == 200, response.text
    measure = response.json()
    assert (measure["state"], measure["decline_reason"]) == ("declined", "no_capacity")
    assert measure["changes"][0]["action"] == "declined"
    assert measure["agency_name"] == "School No. 1, Astana"
    method, request, _ = api.only_call()
    assert (method, request.reason, request.comment) == (
        "DeclineMeasure",
        apb.DECLINE_REASON_NO_CAPACITY,
        "No places\nthis term",
    )


async def test_reroute_measure(api: Api) -> None:
    body = {"agency_id": "fc-ast-1", "deadline": in_days(20)}
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/reroute", json=body, headers=bearer("caseworker")
    )
    assert response.status_code == 200, response.text
    assert (response.json()["agency_id"], response.json()["deadline"]) == ("fc-ast-1", in_days(20))
    method, request, _ = api.only_call()
    assert (method, request.agency_id, request.deadline) == (
        "RerouteMeasure",
        "fc-ast-1",
        in_days(20),
    )


async def test_add_measure_answers_201_with_the_plan_as_location(api: Api) -> None:
    body = {
        "measure": {
            "kind": "medical",
            "agency_id": "hlt-ast-1",
            "agency_type": "health",
            "title": "Check-up",
            "deadline": in_days(30),
        },
        "reason": "Interim review",
    }
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/measures",
        json=body,
        headers={**bearer("caseworker"), "Idempotency-Key": "m-1"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/plans/{PLAN_ID}"
    method, request, _ = api.only_call()
    assert (method, request.plan_id, request.reason) == ("AddMeasure", PLAN_ID, "Interim review")
    assert request.idempotency_key == "m-1"
    assert (request.measure.agency_id, request.measure.kind) == (
        "hlt-ast-1",
        pb.MEASURE_KIND_MEDICAL,
    )


async def test_amend_measure_forwards_only_what_changes(api: Api) -> None:
    response = await api.http.patch(
        f"/v1/measures/{MEASURE_ID}",
        json={"title": "New", "target": "", "reason": "Review"},
        headers=bearer("caseworker"),
    )
    assert response.status_code == 200, response.text
    (change,) = response.json()["changes"]
    assert (change["before"], change["after"], change["reason"]) == (
        {"title": "Tutoring"},
        {"title": "New"},
        "Review",
    )
    method, request, _ = api.only_call()
    assert method == "AmendMeasure"
    assert (request.title, request.deadline, request.target, request.clear_target) == (
        "New",
        "",
        "",
        True,
    )


async def test_cancel_measure_and_a_plan_not_under_review(api: Api) -> None:
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/cancel", json={"reason": "Moved"}, headers=bearer("caseworker")
    )
    assert (response.status_code, response.json()["state"]) == (200, "cancelled")
    api.recorder.fail_with = Conflict("the plan is approved", code="plan-state")
    response = await api.http.post(
        f"/v1/measures/{MEASURE_ID}/cancel", json={"reason": "Moved"}, headers=bearer("caseworker")
    )
    assert response.status_code == 409
    assert response.json()["type"] == "https://kamqor.dev/problems/plan-state"


async def test_measure_report_is_aggregates_of_the_period(api: Api) -> None:
    response = await api.http.get(
        "/v1/reports/measures",
        params={"from": "2027-01-01", "to": "2027-04-01"},
        headers=bearer("analyst"),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"], report["territory"]) == (
        "2027-01-01",
        "2027-04-01",
        "kz-ast",
    )
    (row,) = report["agencies"]
    assert (row["agency_id"], row["sent"], row["declined"], row["completed"]) == (
        "hlt-ast-1",
        3,
        1,
        1,
    )
    method, request, _ = api.only_call()
    assert (method, request.from_date, request.to_date) == (
        "MeasureIndicators",
        "2027-01-01",
        "2027-04-01",
    )


@pytest.mark.parametrize(
    ("who", "method", "url", "body", "errors"),
    [
        (
            "coordinator",
            "POST",
            f"/v1/measures/{MEASURE_ID}/decline",
            {"reason": "bored"},
            ["reason"],
        ),
        ("coordinator", "POST", "/v1/measures/x/decline", {"reason": "other"}, ["measure_id"]),
        (
            "caseworker",
            "POST",
            f"/v1/measures/{MEASURE_ID}/reroute",
            {"agency_id": ""},
            ["agency_id", "deadline"],
        ),
        (
            "caseworker",
            "POST",
            f"/v1/plans/{PLAN_ID}/measures",
            {"measure": {"kind": "medical", "title": "x", "deadline": "2027-01-01"}, "reason": "r"},
            ["measure.agency_id", "measure.agency_type"],
        ),
        ("caseworker", "PATCH", f"/v1/measures/{MEASURE_ID}", {"title": "x"}, ["reason"]),
        ("caseworker", "POST", f"/v1/measures/{MEASURE_ID}/cancel", {}, ["reason"]),
        ("analyst", "GET", "/v1/reports/measures?from=2027-02-01&to=2027-01-01", None, ["to"]),
        ("coordinator", "GET", "/v1/agencies?kind=magic", None, ["kind"]),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_reaches_no_service(
    api: Api, who: str, method: str, url: str, body: Any, errors: list[str]
) -> None:
    response = await api.http.request(method, url, json=body, headers=bearer(who))
    assert fields(response) == errors
    assert api.recorder.calls == []


async def test_the_services_invalid_argument_names_its_field(api: Api) -> None:
    api.recorder.fail_with = Invalid("measures[0].agency_id", "not competent (PLN-2)")
    body = {
        "measure": {
            "kind": "medical",
            "agency_id": "pol-ast-1",
            "agency_type": "police",
            "title": "x",
            "deadline": in_days(10),
        },
        "reason": "r",
    }
    response = await api.http.post(
        f"/v1/plans/{PLAN_ID}/measures", json=body, headers=bearer("caseworker")
    )
    assert fields(response) == ["measures[0].agency_id"]


@pytest.mark.parametrize(
    ("who", "method", "url"),
    [
        ("intake", "GET", "/v1/agencies"),
        ("analyst", "GET", "/v1/agencies/edu-ast-1"),
        ("caseworker", "POST", f"/v1/measures/{MEASURE_ID}/decline"),
        ("assignee", "POST", f"/v1/measures/{MEASURE_ID}/decline"),
        ("coordinator", "POST", f"/v1/measures/{MEASURE_ID}/reroute"),
        ("head", "POST", f"/v1/plans/{PLAN_ID}/measures"),
        ("head", "PATCH", f"/v1/measures/{MEASURE_ID}"),
        ("coordinator", "POST", f"/v1/measures/{MEASURE_ID}/cancel"),
        ("caseworker", "GET", "/v1/reports/measures?from=2027-01-01&to=2027-02-01"),
    ],
)
async def test_roles_are_checked_before_the_service(
    api: Api, who: str, method: str, url: str
) -> None:
    response = await api.http.request(method, url, json={}, headers=bearer(who))
    assert response.status_code == 403, response.text
    assert api.recorder.calls == []
