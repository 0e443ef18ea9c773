"""Shared parts of the security suites: one running suite (five services and the gateway on the
session's real PostgreSQL, NATS and Keycloak) for the whole package, and the realm's admin API.

A module that needs a suite of its own (its own users created first, say) defines its own
`suite` fixture, which takes precedence over this one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from keycloak import KeycloakAdmin

from devstack.keycloak import KeycloakServer
from tests.e2e.harness import Suite, running_suite

PASSWORD = "security-check"


@pytest.fixture(scope="package")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def realm_admin(keycloak: KeycloakServer) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=keycloak.base_url + "/",
        username=keycloak.admin_username,
        password=keycloak.admin_password,
        realm_name=keycloak.realm,
        user_realm_name="master",
    )


def create_user(
    keycloak: KeycloakServer,
    username: str,
    *,
    roles: tuple[str, ...],
    agency: str,
    agency_type: str,
    territory: str,
) -> None:
    """A realm user (password `PASSWORD`) with the given roles and agency attributes."""
    admin = realm_admin(keycloak)
    user: dict[str, Any] = {
        "username": username,
        "enabled": True,
        "email": f"{username}@security.invalid",
        "emailVerified": True,
        "firstName": "Security",
        "lastName": "Check",
        "attributes": {
            "agency": [agency],
            "agency_type": [agency_type],
            "territory": [territory],
        },
        "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
    }
    user_id = admin.create_user(user, exist_ok=True)
    admin.assign_realm_roles(user_id, [admin.get_realm_role(role) for role in roles])
