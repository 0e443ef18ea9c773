"""Bad input is a 422 problem naming each field, before any service is called."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import appeal_body, stay_body

TYPE = "https://kamqor.dev/problems/invalid"


def fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["status"]) == (TYPE, 422)
    return [e["field"] for e in body["errors"]]


async def test_malformed_json_names_the_body(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/stays",
        content=b'{"shelter_id": "x", "adult": {',
        headers={**bearer("shelter-op"), "Content-Type": "application/json"},
    )
    assert fields(response) == ["body"]
    assert gateway.services.recorder.calls == []


async def test_missing_body_names_the_body(gateway: Gateway) -> None:
    response = await gateway.http.post("/v1/stays", headers=bearer("shelter-op"))
    assert fields(response) == ["body"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in stay_body().items() if k != "adult"}, "adult"),
        ({k: v for k, v in stay_body().items() if k != "referral"}, "referral"),
        (stay_body(adult={"full_name": "Dana K."}), "adult.birth_date"),
    ],
)
async def test_missing_field_is_named(gateway: Gateway, body: dict[str, Any], field: str) -> None:
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (stay_body(shelter_id="not-a-uuid"), "shelter_id"),
        (stay_body(referral="taxi"), "referral"),
        (stay_body(adult={"full_name": "Dana K.", "birth_date": "14.05.1990"}), "adult.birth_date"),
        (
            stay_body(
                minors=[stay_body()["minors"][0], {"full_name": 7, "birth_date": "2019-01-01"}]
            ),
            "minors[1].full_name",
        ),
        (stay_body(minors={"full_name": "A"}), "minors"),
        (stay_body(apeal_id=str(uuid.uuid4())), "apeal_id"),
    ],
)
async def test_wrong_type_or_value_is_named(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert fields(response) == [field]
    assert gateway.services.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (appeal_body(channel="pigeon"), "channel"),
        (appeal_body(threat_to_life="yes"), "threat_to_life"),
        (appeal_body(persons=[{"full_name": "A", "relation": "uncle"}]), "persons[0].relation"),
        (appeal_body(summary=""), "summary"),
    ],
)
async def test_appeal_fields_are_named(gateway: Gateway, body: dict[str, Any], field: str) -> None:
    response = await gateway.http.post("/v1/appeals", json=body, headers=bearer("hotline"))
    assert fields(response) == [field]


async def test_every_bad_field_is_listed(gateway: Gateway) -> None:
    body = stay_body(shelter_id="x", referral="taxi")
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert sorted(fields(response)) == ["referral", "shelter_id"]
    assert "referral" in response.json()["detail"]


async def test_malformed_path_id_names_the_parameter(gateway: Gateway) -> None:
    response = await gateway.http.get("/v1/stays/12345", headers=bearer("shelter-op"))
    assert fields(response) == ["stay_id"]


@pytest.mark.parametrize(
    ("query", "field"), [("state=lost", "state"), ("page_size=0", "page_size")]
)
async def test_bad_query_parameter_is_named(gateway: Gateway, query: str, field: str) -> None:
    response = await gateway.http.get(f"/v1/notices?{query}", headers=bearer("police"))
    assert fields(response) == [field]


async def test_validation_problem_does_not_echo_the_input(gateway: Gateway) -> None:
    secret = "Aigerim Secret-Surname"
    body = stay_body(adult={"full_name": secret, "birth_date": "not a date"})
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert fields(response) == ["adult.birth_date"]
    assert secret not in response.text
