"""The lists' filters and orders as query parameters: each reaches the service as its proto field
(so the service filters and sorts every page, not the client one page), an absent one stays
unset, and a value outside the documented set is a 422 naming the parameter before any call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from gateway.schemas.common import page_token_out
from kamqor.intake.v1 import intake_pb2, intake_pb2_grpc
from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.plans.v1 import plans_pb2, plans_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from tests.gateway.conftest import bearer
from tests.gateway.doubles import Ctx, FakeIntake, FakeNotify, FakeShelter, Recorder, principal
from tests.gateway.one_service import Api, gateway_before

PRINCIPALS = {
    "caseworker": principal("case-worker", token="caseworker"),
    "operator": principal("shelter-operator", token="operator"),
    "coordinator": principal("agency-coordinator", token="coordinator"),
}


@pytest.fixture
async def intake_api() -> AsyncIterator[Api]:
    def add(server: grpc.aio.Server, recorder: Any) -> None:
        intake_pb2_grpc.add_IntakeServiceServicer_to_server(FakeIntake(recorder), server)

    async with gateway_before("intake", add, PRINCIPALS) as api:
        yield api


async def test_journal_filters_and_order_reach_the_service(intake_api: Api) -> None:
    token = page_token_out("journal_number~ZmMtYXN0LTE~0190c1d2-0000-7000-8000-000000000001")
    answer = await intake_api.http.get(
        "/v1/appeals",
        params={
            "channel": "phone",
            "threat_to_life": "false",
            "registered_from": "2026-03-10",
            "registered_to": "2026-03-12",
            "order": "journal_number",
            "page_size": 10,
            "page_token": token,
        },
        headers=bearer("caseworker"),
    )
    assert answer.status_code == 200, answer.text
    method, request, _ = intake_api.only_call()
    assert method == "ListAppeals"
    assert request.channel == intake_pb2.CHANNEL_PHONE
    assert request.HasField("threat_to_life") and request.threat_to_life is False
    assert (request.registered_from, request.registered_to) == ("2026-03-10", "2026-03-12")
    assert request.order == intake_pb2.APPEAL_ORDER_JOURNAL_NUMBER
    assert request.page_token == "journal_number~ZmMtYXN0LTE~0190c1d2-0000-7000-8000-000000000001"
    assert request.page_size == 10


async def test_journal_without_filters_asks_newest_first(intake_api: Api) -> None:
    answer = await intake_api.http.get("/v1/appeals", headers=bearer("caseworker"))
    assert answer.status_code == 200, answer.text
    _, request, _ = intake_api.only_call()
    assert request.channel == intake_pb2.CHANNEL_UNSPECIFIED
    assert not request.HasField("threat_to_life")
    assert (request.registered_from, request.registered_to) == ("", "")
    assert request.order == intake_pb2.APPEAL_ORDER_NEWEST_FIRST


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("channel", "fax"),
        ("threat_to_life", "perhaps"),
        ("registered_from", "10.03.2026"),
        ("registered_to", "0"),
        ("order", "alphabetical"),
    ],
)
async def test_journal_refuses_an_unknown_filter_value(
    intake_api: Api, param: str, value: str
) -> None:
    answer = await intake_api.http.get(
        "/v1/appeals", params={param: value}, headers=bearer("caseworker")
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [param]
    assert intake_api.recorder.calls == []


def test_journal_parameters_are_documented(intake_api: Api) -> None:
    operation = intake_api.app.openapi()["paths"]["/v1/appeals"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"channel", "threat_to_life", "registered_from", "registered_to", "order"} <= names


class ListingShelter(FakeShelter):
    async def ListStays(self, request: shelter_pb2.ListStaysRequest, context: Ctx) -> Any:
        await self.rec.record("ListStays", request, context)
        return shelter_pb2.ListStaysResponse()


class ListingPlans(plans_pb2_grpc.PlansServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def ListMyMeasures(self, request: plans_pb2.ListMyMeasuresRequest, context: Ctx) -> Any:
        await self.rec.record("ListMyMeasures", request, context)
        return plans_pb2.ListMyMeasuresResponse()


SHELTER_ID = str(uuid.uuid4())
Adder = Callable[[grpc.aio.Server, Any], None]
# service, how its fake is added, who asks, the path, the parameters every call needs,
# the API's orders -> the proto's, and the order asked for when none is given.
LISTS: dict[str, tuple[str, Adder, str, str, dict[str, str], dict[str, int], int]] = {
    "stays": (
        "shelter",
        lambda s, r: shelter_pb2_grpc.add_ShelterServiceServicer_to_server(ListingShelter(r), s),
        "operator",
        "/v1/stays",
        {"shelter_id": SHELTER_ID},
        {
            "latest_admission": shelter_pb2.STAY_ORDER_LATEST_ADMISSION,
            "days_left": shelter_pb2.STAY_ORDER_DAYS_LEFT,
            "name": shelter_pb2.STAY_ORDER_NAME,
        },
        shelter_pb2.STAY_ORDER_LATEST_ADMISSION,
    ),
    "notices": (
        "notify",
        lambda s, r: notify_pb2_grpc.add_NotifyServiceServicer_to_server(FakeNotify(r), s),
        "coordinator",
        "/v1/notices",
        {},
        {
            "newest_first": notify_pb2.NOTICE_ORDER_NEWEST_FIRST,
            "due_first": notify_pb2.NOTICE_ORDER_DUE_FIRST,
        },
        notify_pb2.NOTICE_ORDER_NEWEST_FIRST,
    ),
    "measures": (
        "plans",
        lambda s, r: plans_pb2_grpc.add_PlansServiceServicer_to_server(ListingPlans(r), s),
        "coordinator",
        "/v1/measures",
        {},
        {
            "deadline": plans_pb2.MEASURE_ORDER_DEADLINE,
            "latest_sent": plans_pb2.MEASURE_ORDER_LATEST_SENT,
        },
        plans_pb2.MEASURE_ORDER_UNSPECIFIED,  # as drafted
    ),
}


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_each_order_reaches_the_service(name: str) -> None:
    service, add, who, path, needed, orders, default = LISTS[name]
    async with gateway_before(service, add, PRINCIPALS) as api:
        for order in orders:
            answer = await api.http.get(
                path, params={**needed, "order": order}, headers=bearer(who)
            )
            assert answer.status_code == 200, answer.text
        answer = await api.http.get(path, params=needed, headers=bearer(who))
        assert answer.status_code == 200, answer.text
        refused = await api.http.get(
            path, params={**needed, "order": "alphabetical"}, headers=bearer(who)
        )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["order"]
    asked = [request.order for _, request, _ in api.recorder.calls]
    assert asked == [*orders.values(), default]
    documented = api.app.openapi()["paths"][path]["get"]["parameters"]
    assert "order" in {p["name"] for p in documented}
