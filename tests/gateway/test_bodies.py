"""Request bodies: the size limit (413), the media type (415) and strict JSON parsing (422 for a
duplicated name, bytes that are not UTF-8, NaN, a number or nesting past reading), each before
any service is called."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from gateway.bodies import MAX_BODY_BYTES, JSONRoute, loads
from gateway.routes import ROUTERS
from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import stay_body

PROBLEMS = "https://kamqor.dev/problems/"


def problem_of(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == (PROBLEMS + reason, status)
    return body


def fields(response: Any) -> list[str]:
    return [e["field"] for e in problem_of(response, 422, "invalid")["errors"]]


def raw(text: str) -> bytes:
    return text.encode()


async def post_stay(gateway: Gateway, content: bytes, content_type: str | None) -> Any:
    headers = bearer("shelter-op")
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await gateway.http.post("/v1/stays", content=content, headers=headers)


# --- media type -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "application/xml",
        None,  # a body with no Content-Type at all
    ],
)
async def test_a_body_that_is_not_json_is_415(gateway: Gateway, content_type: str | None) -> None:
    response = await post_stay(gateway, json.dumps(stay_body()).encode(), content_type)
    if content_type is None:
        # httpx sends no Content-Type for raw content; the gateway must not guess.
        assert "content-type" not in response.request.headers
    problem_of(response, 415, "unsupported-media-type")
    assert gateway.services.recorder.calls == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json"],
)
async def test_json_media_types_are_taken(gateway: Gateway, content_type: str) -> None:
    response = await post_stay(gateway, json.dumps(stay_body()).encode(), content_type)
    assert response.status_code == 201, response.text


async def test_a_route_without_a_body_ignores_the_media_type(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/notices/01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e/ack",
        headers={**bearer("police"), "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text


# --- strict JSON ----------------------------------------------------------------------------

_STAY = json.dumps(stay_body())[1:-1]  # the members of a valid body, to add to


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"referral": "health", ' + _STAY + "}", "referral"),
        (
            "{" + _STAY.replace('"adult": {', '"adult": {"full_name": "Other", ', 1) + "}",
            "adult.full_name",
        ),
        (
            "{"
            + _STAY.replace(
                '{"full_name": "Aru K."', '{"birth_date": "2020-01-01", "full_name": "Aru K."'
            )
            + "}",
            "minors[1].birth_date",
        ),
    ],
)
async def test_a_duplicated_name_is_422_naming_it(gateway: Gateway, body: str, field: str) -> None:
    response = await post_stay(gateway, raw(body), "application/json")
    assert fields(response) == [field]
    assert gateway.services.recorder.calls == []


@pytest.mark.parametrize(
    "content",
    [
        '{"shelter_id": "caf\xe9"}'.encode("latin-1"),  # Latin-1, not UTF-8
        b'{"shelter_id": "\xff\xfe"}',
        json.dumps(stay_body()).encode("utf-16"),  # a JSON text in UTF-16 is still refused
        b'{"adult": NaN}',
        b'{"adult": -Infinity}',
        b'{"capacity": 1' + b"0" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        "\ufeff".encode() + json.dumps(stay_body()).encode(),  # a byte order mark
    ],
)
async def test_unreadable_json_is_422_on_the_body_never_500(
    gateway: Gateway, content: bytes
) -> None:
    response = await post_stay(gateway, content, "application/json")
    assert fields(response) == ["body"]
    assert gateway.services.recorder.calls == []


async def test_a_well_formed_body_parses_as_before() -> None:
    body = stay_body(minors=[{"full_name": "A", "birth_date": "2020-01-01"}], note=None)
    assert loads(json.dumps(body).encode()) == body


# --- size -----------------------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid admission body of exactly `size` bytes (spaces are insignificant in JSON)."""
    text = json.dumps(stay_body()).encode()
    return text[:-1] + b" " * (size - len(text)) + b"}"


async def test_a_body_of_exactly_the_limit_is_taken(gateway: Gateway) -> None:
    response = await post_stay(gateway, padded(MAX_BODY_BYTES), "application/json")
    assert response.status_code == 201, response.text


async def test_a_body_over_the_limit_is_413(gateway: Gateway) -> None:
    response = await post_stay(gateway, padded(MAX_BODY_BYTES + 1), "application/json")
    assert response.request.headers["content-length"] == str(MAX_BODY_BYTES + 1)
    body = problem_of(response, 413, "payload-too-large")
    assert "1 MiB" in body["detail"]
    assert gateway.services.recorder.calls == []


async def test_a_chunked_body_over_the_limit_is_413(gateway: Gateway) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(2 * MAX_BODY_BYTES // 65536):
            sent += 65536
            yield b" " * 65536

    response = await gateway.http.post(
        "/v1/stays",
        content=chunks(),
        headers={**bearer("shelter-op"), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    problem_of(response, 413, "payload-too-large")
    assert gateway.services.recorder.calls == []


async def test_the_limit_holds_on_routes_without_a_body_too(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/notices/01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e/ack",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers=bearer("police"),
    )
    problem_of(response, 413, "payload-too-large")
    assert gateway.services.recorder.calls == []


# --- every route, every document --------------------------------------------------------------


def test_every_v1_route_parses_its_body_strictly() -> None:
    routes = [r for router in ROUTERS.values() for r in router.routes]
    assert routes and all(isinstance(r, APIRoute) for r in routes)
    assert all(isinstance(r, JSONRoute) for r in routes)


def test_the_limits_are_documented(gateway: Gateway) -> None:
    document = gateway.app.openapi()
    assert "1 MiB" in document["info"]["description"]
    with_body = [
        (path, method, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    ]
    assert len(with_body) >= 10
    for path, method, op in with_body:
        for code in ("413", "415", "422"):
            content = op["responses"][code]["content"]
            assert list(content) == ["application/problem+json"], (method, path, code)
    keyed = [
        op
        for ops in document["paths"].values()
        for op in ops.values()
        if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
    ]
    assert len(keyed) >= 11
    # Every route that creates a record (201) is safe to retry: none is born without the key.
    unkeyed = [
        op["operationId"]
        for ops in document["paths"].values()
        for op in ops.values()
        if "201" in op["responses"] and op not in keyed
    ]
    # ...except where the record has a natural key: a territory's mobile group is approved once
    # per year, so a retry is a 409 `group-approved` and nothing is doubled (INT-4).
    assert unkeyed == ["approveMobileGroup"], unkeyed
    for op in keyed:
        assert "idempotency-key-in-flight" in op["responses"]["409"]["description"]
        assert "idempotency-key-reused" in op["responses"]["422"]["description"]
