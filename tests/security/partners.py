"""What the contract suites share: the served OpenAPI document, and a token for every role of the
realm (a demo user per role, both territories' registry users, and the partner system's client
credentials), with the roles read from the tokens themselves."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from devstack.keycloak import default_realm_file
from tests.e2e.harness import Suite

PARTNER_CLIENT = "kamqor-partner"
# One user per role of the realm (Astana), and the Irkutsk users of the SDP data bank, where the
# registry rules apply; `partner` stands for the partner system's service account.
USERS = (
    "hotline.ast",
    "intake.ast",
    "shelter.ast",
    "caseworker.ast",
    "head.ast",
    "police.ast",
    "teacher.ast",
    "commission.ast",
    "analyst.ast",
    "auditor.ast",
    "commission.irk",
    "registry.irk",
    "caseworker.irk",
    "partner",
)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def partner_token(suite: Suite) -> str:
    """The partner system's token (client credentials, its secret from the realm file)."""
    realm = json.loads(default_realm_file().read_text())
    (client,) = [c for c in realm["clients"] if c["clientId"] == PARTNER_CLIENT]
    response = httpx.post(
        suite.keycloak.issuer + "/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": PARTNER_CLIENT,
            "client_secret": client["secret"],
        },
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class Callers:
    """A token per name of `USERS`, fetched again once older than `max_age` seconds (access
    tokens live 5 minutes; a long run outlives them); `roles` as the tokens carry them."""

    def __init__(self, suite: Suite, *, max_age: float = 120.0) -> None:
        self._suite = suite
        self._max_age = max_age
        self._tokens: dict[str, tuple[float, str]] = {}
        self.roles = {
            name: frozenset(_claims(self.token(name)).get("realm_access", {}).get("roles", ()))
            for name in USERS
        }

    @property
    def names(self) -> list[str]:
        return list(USERS)

    def token(self, name: str) -> str:
        now = time.monotonic()
        fetched, token = self._tokens.get(name, (0.0, ""))
        if not token or now - fetched > self._max_age:
            suite = self._suite
            token = partner_token(suite) if name == "partner" else suite.keycloak.token(name)
            self._tokens[name] = (now, token)
        return token


async def served_document(suite: Suite) -> dict[str, Any]:
    async with suite.client() as anonymous:
        response = await anonymous.get("/openapi.json")
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document
