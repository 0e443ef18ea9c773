"""401 without an acceptable bearer token, 403 without a role the route accepts."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import stay_body

TYPE = "https://kamqor.dev/problems/"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic b3BlcmF0b3I6c2VjcmV0"},
        bearer("expired"),
        bearer("tampered.jwt.token"),
    ],
    ids=["none", "empty", "basic", "expired", "tampered"],
)
async def test_missing_or_bad_token_is_401_with_challenge(
    gateway: Gateway, headers: dict[str, str]
) -> None:
    response = await gateway.http.get("/v1/shelters", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE + "unauthenticated"
    assert "tampered.jwt.token" not in response.text


async def test_401_comes_before_validation(gateway: Gateway) -> None:
    response = await gateway.http.post("/v1/stays", json={"junk": True})
    assert response.status_code == 401


async def test_wrong_role_is_403(gateway: Gateway) -> None:
    response = await gateway.http.post("/v1/stays", json=stay_body(), headers=bearer("analyst"))
    assert response.status_code == 403
    assert response.json()["type"] == TYPE + "forbidden"
    assert "shelter-operator" in response.json()["detail"]
    assert gateway.services.recorder.calls == []


async def test_403_comes_before_validation(gateway: Gateway) -> None:
    response = await gateway.http.post("/v1/stays", json={"junk": True}, headers=bearer("head"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("token", "method", "path", "status"),
    [
        ("shelter-op", "POST", "/v1/shelters", 403),
        ("head", "POST", "/v1/stays", 403),
        ("hotline", "GET", "/v1/notices", 403),
        ("police", "GET", "/v1/shelters", 403),
        ("hotline", "GET", "/v1/stays/2b1f7f5e-6d9c-4d44-9a53-6e0f0f5f5d10", 403),
        ("head", "GET", "/v1/notices", 200),
        ("police", "GET", "/v1/notices", 200),
        ("head", "GET", "/v1/shelters", 200),
    ],
)
async def test_route_roles(
    gateway: Gateway, token: str, method: str, path: str, status: int
) -> None:
    response = await gateway.http.request(method, path, headers=bearer(token))
    assert response.status_code == status, response.text


async def test_identity_provider_down_is_503(gateway: Gateway) -> None:
    response = await gateway.http.get("/v1/shelters", headers=bearer("nokeys"))
    assert response.status_code == 503
    assert response.json()["type"] == TYPE + "service-unavailable"
