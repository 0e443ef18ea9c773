"""Routes through a real gRPC channel to fake services: conversion, token, errors, tracing."""

from __future__ import annotations

import re
import uuid

import pytest

from gateway.schemas.common import page_token_out
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.notify.v1 import notify_pb2
from kamqor.shelter.v1 import shelter_pb2
from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import appeal_body, stay_body

TYPE = "https://kamqor.dev/problems/"
TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


async def test_admit_converts_forwards_and_answers_201(gateway: Gateway) -> None:
    appeal_id = str(uuid.uuid4())
    body = stay_body(appeal_id=appeal_id)
    response = await gateway.http.post(
        "/v1/stays", json=body, headers={**bearer("shelter-op"), "Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201, response.text
    stay = response.json()
    assert response.headers["location"] == f"/v1/stays/{stay['id']}"
    assert stay["adult"] == body["adult"]
    assert stay["minors"] == body["minors"]
    assert (stay["referral"], stay["state"], stay["appeal_id"]) == ("police", "active", appeal_id)
    assert stay["admitted_at"] == "2026-03-02T09:30:00Z"
    assert stay["discharged_at"] is None and stay["discharge_reason"] is None

    [(method, request, metadata)] = gateway.services.recorder.calls
    assert method == "Admit"
    assert isinstance(request, shelter_pb2.AdmitRequest)
    assert request.idempotency_key == "k-1"
    assert request.referral == shelter_pb2.REFERRAL_POLICE
    assert request.minors[1].birth_date == "2020-01-09"
    assert metadata["authorization"] == "Bearer shelter-op"
    # One trace: the gRPC call carries the trace of the gateway's HTTP server span.
    forwarded = TRACEPARENT.match(metadata["traceparent"])
    assert forwarded is not None
    server_spans = [s for s in gateway.spans.get_finished_spans() if s.name == "POST /v1/stays"]
    assert [f"{s.context.trace_id:032x}" for s in server_spans] == [forwarded["trace"]]


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (Conflict("the shelter has no free bed", code="shelter-full"), 409, "shelter-full"),
        (NotFound("shelter not found"), 404, "not-found"),
    ],
)
async def test_service_errors_become_problems(
    gateway: Gateway, error: Exception, status: int, reason: str
) -> None:
    gateway.services.recorder.fail_with = error
    response = await gateway.http.post("/v1/stays", json=stay_body(), headers=bearer("shelter-op"))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["status"]) == (TYPE + reason, status)
    assert problem["detail"] == str(error)
    assert problem["instance"] == "/v1/stays"


async def test_service_validation_names_the_field(gateway: Gateway) -> None:
    gateway.services.recorder.fail_with = Invalid(
        "minors[1].birth_date", "a minor must be under 18"
    )
    response = await gateway.http.post("/v1/stays", json=stay_body(), headers=bearer("shelter-op"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "minors[1].birth_date", "message": "a minor must be under 18"}
    ]


async def test_service_crash_is_a_generic_500(gateway: Gateway) -> None:
    gateway.services.recorder.fail_with = RuntimeError("db password is hunter2")
    response = await gateway.http.get("/v1/shelters", headers=bearer("head"))
    assert response.status_code == 500
    assert response.json()["type"] == TYPE + "internal"
    assert "hunter2" not in response.text


async def test_unhandled_gateway_error_is_a_generic_500(gateway: Gateway) -> None:
    # A stay the gateway cannot represent (referral unset) fails inside the route.
    gateway.services.recorder.reply_override = shelter_pb2.Stay(id=str(uuid.uuid4()))
    response = await gateway.http.post("/v1/stays", json=stay_body(), headers=bearer("shelter-op"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE + "internal"
    assert "Traceback" not in response.text and "referral" not in response.text


async def test_service_down_is_503(gateway: Gateway) -> None:
    response = await gateway.http.get(f"/v1/appeals/{uuid.uuid4()}", headers=bearer("hotline"))
    assert response.status_code == 503
    assert response.json()["type"] == TYPE + "service-unavailable"


async def test_notices_filter_and_page(gateway: Gateway) -> None:
    response = await gateway.http.get(
        f"/v1/notices?state=pending&page_size=10&page_token={page_token_out('p1')}",
        headers=bearer("police"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_page_token"] == page_token_out("p2")
    assert page["items"][0]["state"] == "pending"
    assert page["items"][0]["acknowledged_at"] is None
    [(_, request, _)] = gateway.services.recorder.calls
    assert (request.state, request.page_size, request.page_token) == (
        notify_pb2.NOTICE_STATE_PENDING,
        10,
        "p1",
    )


async def test_acknowledge_notice(gateway: Gateway) -> None:
    notice_id = str(uuid.uuid4())
    response = await gateway.http.post(f"/v1/notices/{notice_id}/ack", headers=bearer("police"))
    assert response.status_code == 200, response.text
    notice = response.json()
    assert (notice["id"], notice["state"]) == (notice_id, "acknowledged")
    assert notice["acknowledged_by_agency"] == "police-ast"


async def test_discharge(gateway: Gateway) -> None:
    stay_id = str(uuid.uuid4())
    response = await gateway.http.post(
        f"/v1/stays/{stay_id}/discharge",
        json={"reason": "moved to relatives"},
        headers=bearer("shelter-op"),
    )
    assert response.status_code == 200, response.text
    stay = response.json()
    assert (stay["id"], stay["state"]) == (stay_id, "discharged")
    assert (stay["discharged_at"], stay["discharge_reason"]) == (
        "2026-03-05T09:30:00Z",
        "moved to relatives",
    )
    assert stay["appeal_id"] is None


async def test_register_shelter_and_list(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/shelters",
        json={"name": "Crisis unit", "capacity": 12},
        headers={**bearer("head"), "Idempotency-Key": "s-1"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["capacity"] == 12
    listed = await gateway.http.get("/v1/shelters", headers=bearer("head"))
    assert listed.json()["items"][0]["occupied"] == 0
    request = gateway.services.recorder.calls[0][1]
    assert (request.idempotency_key, request.name) == ("s-1", "Crisis unit")


async def test_get_notice_and_stay(gateway: Gateway) -> None:
    notice_id, stay_id = str(uuid.uuid4()), str(uuid.uuid4())
    notice = await gateway.http.get(f"/v1/notices/{notice_id}", headers=bearer("police"))
    stay = await gateway.http.get(f"/v1/stays/{stay_id}", headers=bearer("shelter-op"))
    assert (notice.status_code, notice.json()["id"]) == (200, notice_id)
    assert (stay.status_code, stay.json()["referral"]) == (200, "health")


async def test_register_appeal(intake_up: Gateway) -> None:
    body = appeal_body(
        persons=[
            {"full_name": "Dana K.", "relation": "mother"},
            {"full_name": "Arman K.", "relation": "child", "birth_date": "2017-04-02"},
        ],
        threat_to_life=True,
    )
    response = await intake_up.http.post(
        "/v1/appeals", json=body, headers={**bearer("hotline"), "Idempotency-Key": "a-1"}
    )
    assert response.status_code == 201, response.text
    appeal = response.json()
    assert response.headers["location"] == f"/v1/appeals/{appeal['id']}"
    assert (appeal["channel"], appeal["threat_to_life"]) == ("hotline_111", True)
    assert appeal["persons"] == [
        {"full_name": "Dana K.", "relation": "mother", "birth_date": None, "person_id": None}
        | {"iin": None, "snils": None, "documents": []},
        {
            "full_name": "Arman K.",
            "relation": "child",
            "birth_date": "2017-04-02",
            "person_id": None,
        }
        | {"iin": None, "snils": None, "documents": []},
    ]
    [obligation] = appeal["obligations"]
    assert (obligation["rule"], obligation["due_at"]) == ("INT-3/threat", "2026-03-03T09:30:00Z")
    assert (obligation["subject"], obligation["met_at"], obligation["on_time"]) == (
        "appeal/1",
        None,
        None,
    )
    [(_, request, _)] = intake_up.services.recorder.calls
    assert request.idempotency_key == "a-1"
    assert request.persons[0].birth_date == ""


async def test_read_the_journal(intake_up: Gateway) -> None:
    appeal_id = str(uuid.uuid4())
    one = await intake_up.http.get(f"/v1/appeals/{appeal_id}", headers=bearer("head"))
    page = await intake_up.http.get("/v1/appeals?page_size=5", headers=bearer("head"))
    assert (one.status_code, one.json()["id"], one.json()["channel"]) == (200, appeal_id, "phone")
    assert page.status_code == 200
    assert page.json()["next_page_token"] is None
    assert page.json()["items"][0]["channel"] == "media"
