"""The routes the operator console needed first (issue 9): a shelter's stays with days left
(`GET /v1/stays`) and the notices about given subjects (`GET /v1/notices?subject=`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from gateway.schemas.common import page_token_out
from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc
from tests.gateway.conftest import bearer
from tests.gateway.doubles import Ctx, FakeNotify, FakeShelter, admitted, principal, stay_pb
from tests.gateway.one_service import Api, gateway_before

PRINCIPALS = {
    "operator": principal("shelter-operator", token="operator"),
    "head": principal("center-head", token="head"),
    "analyst": principal("analyst", token="analyst"),
}


class StaysShelter(FakeShelter):
    async def ListStays(self, request: pb.ListStaysRequest, context: Ctx) -> Any:
        await self.rec.record("ListStays", request, context)
        active = stay_pb(admitted())
        active.days_left = 3
        ended = stay_pb(admitted())
        ended.state = pb.STAY_STATE_DISCHARGED
        return pb.ListStaysResponse(stays=[active, ended], next_page_token="next")


@pytest.fixture
async def shelter_api() -> AsyncIterator[Api]:
    def add(server: grpc.aio.Server, recorder: Any) -> None:
        shelter_pb2_grpc.add_ShelterServiceServicer_to_server(StaysShelter(recorder), server)

    async with gateway_before("shelter", add, PRINCIPALS) as api:
        yield api


@pytest.fixture
async def notify_api() -> AsyncIterator[Api]:
    def add(server: grpc.aio.Server, recorder: Any) -> None:
        notify_pb2_grpc.add_NotifyServiceServicer_to_server(FakeNotify(recorder), server)

    async with gateway_before("notify", add, PRINCIPALS) as api:
        yield api


async def test_stays_of_a_shelter_page_with_days_left(shelter_api: Api) -> None:
    shelter_id = str(uuid.uuid4())
    answer = await shelter_api.http.get(
        "/v1/stays",
        params={
            "shelter_id": shelter_id,
            "state": "active",
            "page_size": 2,
            "page_token": page_token_out("t"),
        },
        headers=bearer("operator"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["days_left"] for s in body["items"]] == [3, None]  # null once discharged
    assert body["next_page_token"] == page_token_out("next")
    method, request, _ = shelter_api.only_call()
    assert method == "ListStays"
    assert request.shelter_id == shelter_id and request.state == pb.STAY_STATE_ACTIVE
    assert (request.page_size, request.page_token) == (2, "t")


async def test_stays_need_a_shelter_and_a_shelter_role(shelter_api: Api) -> None:
    missing = await shelter_api.http.get("/v1/stays", headers=bearer("operator"))
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["shelter_id"]
    refused = await shelter_api.http.get(
        "/v1/stays", params={"shelter_id": str(uuid.uuid4())}, headers=bearer("analyst")
    )
    assert refused.status_code == 403
    assert shelter_api.recorder.calls == []


async def test_notices_about_given_subjects(notify_api: Api) -> None:
    subjects = [f"stay/{uuid.uuid4()}", f"stay/{uuid.uuid4()}"]
    answer = await notify_api.http.get(
        "/v1/notices", params={"subject": subjects}, headers=bearer("operator")
    )
    assert answer.status_code == 200, answer.text
    method, request, _ = notify_api.only_call()
    assert method == "ListNotices"
    assert list(request.subjects) == subjects
    assert request.state == notify_pb2.NOTICE_STATE_UNSPECIFIED


async def test_a_shelter_operator_reads_but_never_acknowledges(notify_api: Api) -> None:
    ack = await notify_api.http.post(f"/v1/notices/{uuid.uuid4()}/ack", headers=bearer("operator"))
    assert ack.status_code == 403
