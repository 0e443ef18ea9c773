"""The OpenAPI document is 3.1, lists every route with its roles, and problems as such."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from gateway.app import create_app
from gateway.schemas import intake, notify, shelter
from gateway.schemas.common import EnumMap
from gateway.settings import GatewaySettings

ROUTES = {
    ("post", "/v1/appeals"): {"hotline-operator", "intake-operator"},
    ("get", "/v1/appeals"): {"hotline-operator", "intake-operator", "case-worker", "center-head"},
    ("get", "/v1/appeals/{appeal_id}"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("get", "/v1/shelters"): {"shelter-operator", "center-head", "case-worker"},
    ("post", "/v1/shelters"): {"center-head"},
    ("post", "/v1/stays"): {"shelter-operator"},
    ("get", "/v1/stays/{stay_id}"): {"shelter-operator"},
    ("post", "/v1/stays/{stay_id}/discharge"): {"shelter-operator"},
    ("get", "/v1/notices"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
    },
    ("get", "/v1/notices/{notice_id}"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
    },
    ("post", "/v1/notices/{notice_id}/ack"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
    },
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(GatewaySettings()).openapi()


def test_version_is_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")


def test_routes_and_roles(document: dict[str, Any]) -> None:
    listed = {
        (method, path): set(op.get("x-required-roles", []))
        for path, ops in document["paths"].items()
        if path.startswith("/v1/")
        for method, op in ops.items()
    }
    assert listed == ROUTES
    assert {"/healthz", "/readyz"} <= set(document["paths"])


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/stays"]["post"]["responses"]
    assert set(responses) >= {"201", "401", "403", "409", "422"}
    assert list(responses["409"]["content"]) == ["application/problem+json"]
    assert "Location" in responses["201"]["headers"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_bearer_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "keycloak": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Keycloak access token of the `kamqor` realm.",
        }
    }


@pytest.mark.parametrize(
    ("literal", "mapping"),
    [
        (intake.Channel, intake.CHANNELS),
        (intake.Relation, intake.RELATIONS),
        (shelter.Referral, shelter.REFERRALS),
        (shelter.StayState, shelter.STAY_STATES),
        (notify.NoticeState, notify.NOTICE_STATES),
    ],
)
def test_api_enums_match_the_protos(literal: object, mapping: EnumMap[Any, Any]) -> None:
    assert set(get_args(literal)) == mapping.names()
