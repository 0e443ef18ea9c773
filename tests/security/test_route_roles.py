"""Every route's documented roles agree with what the gateway and the owning service admit.

For each `/v1` route of the OpenAPI document and each role of the realm, with a token holding
that role only (a user made for the test in the route's context, `route_roles.CONTEXTS`):

- the gateway admits the role iff the route lists it: a listed role is not refused with the
  gateway's role 403 (the request is built to stop at the gateway's own validation, 422, where
  the route has anything to validate); an unlisted role is;
- the owning service, called over gRPC, answers PERMISSION_DENIED iff the route does not list
  the role (`route_roles.ROUTES` says which call each route makes).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from keycloak import KeycloakAdmin

from devstack.keycloak import KeycloakServer, default_realm_file
from devstack.tokens import a_password_token
from gateway.app import create_app
from gateway.routes import ROUTERS
from gateway.settings import GatewaySettings
from tests.e2e.harness import Suite, running_suite
from tests.security.route_roles import CONTEXTS, ROUTES, SIGNED, Context
from tests.support.services import bearer, channel_to

pytestmark = pytest.mark.e2e

PASSWORD = "roles-check"
GATEWAY_REFUSAL = "requires one of the roles"


def realm_roles() -> list[str]:
    realm = json.loads(default_realm_file().read_text())
    return sorted(r["name"] for r in realm["roles"]["realm"])


def username(role: str, context: Context) -> str:
    return f"roles-{role}-{context.name}"


def _create_users(keycloak: KeycloakServer) -> None:
    """One user per realm role and context, holding that role alone."""
    admin = KeycloakAdmin(
        server_url=keycloak.base_url + "/",
        username=keycloak.admin_username,
        password=keycloak.admin_password,
        realm_name=keycloak.realm,
        user_realm_name="master",
    )
    for role in realm_roles():
        representation = admin.get_realm_role(role)
        for context in CONTEXTS:
            name = username(role, context)
            user_id = admin.create_user(
                {
                    "username": name,
                    "enabled": True,
                    "email": f"{name}@roles.invalid",
                    "emailVerified": True,
                    "firstName": "Roles",
                    "lastName": "Check",
                    "attributes": {
                        "agency": [context.agency],
                        "agency_type": [context.agency_type],
                        "territory": [context.territory],
                    },
                    "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
                },
                exist_ok=True,
            )
            admin.assign_realm_roles(user_id, [representation])


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    _create_users(keycloak)
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        for role in realm_roles():
            for context in CONTEXTS:
                name = username(role, context)
                s.tokens[name] = await a_password_token(keycloak.base_url, name, PASSWORD)
        yield s


@pytest.fixture(scope="module")
def gateway() -> FastAPI:
    """The gateway's routes and document (no service is called through this one)."""
    return create_app(GatewaySettings())


@pytest.fixture(scope="module")
def document(gateway: FastAPI) -> dict[str, Any]:
    return gateway.openapi()


def documented(document: dict[str, Any]) -> Iterator[tuple[str, str, frozenset[str]]]:
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for method, operation in operations.items():
                yield method, path, frozenset(operation.get("x-required-roles", ()))


def test_the_table_covers_every_route(document: dict[str, Any]) -> None:
    assert {(m, p) for m, p, _ in documented(document)} == set(ROUTES)


def _gateway_request(route: APIRoute, method: str) -> dict[str, Any]:
    """A request the gateway, once it admits the role, refuses itself (422) where it can: ids
    that are not UUIDs, an empty body, a page size of 0, required query parameters left out."""
    path = route.path_format
    for param in route.dependant.path_params:
        path = path.replace("{" + param.name + "}", "not-a-uuid")
    request: dict[str, Any] = {"method": method.upper(), "url": path}
    if route.body_field is not None:
        request["json"] = {}
    if any(p.name == "page_size" for p in route.dependant.query_params):
        request["params"] = {"page_size": 0}
    return request


async def test_documented_roles_are_what_the_gateway_and_the_services_admit(
    suite: Suite, gateway: FastAPI, document: dict[str, Any]
) -> None:
    app_routes = {
        (method.lower(), route.path_format): route
        for router in ROUTERS.values()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    roles = realm_roles()
    mismatches: list[str] = []
    async with AsyncExitStack() as stack:
        channels = {
            name: await stack.enter_async_context(channel_to(app))
            for name, app in suite.apps.items()
        }
        for method, path, listed in documented(document):
            route, table = app_routes[method, path], ROUTES[method, path]
            if (method, path) in SIGNED:
                continue  # no role admits: `test_signed_routes_take_no_bearer_token`
            for role in roles:
                token = suite.token(username(role, table.context))
                admitted = role in listed
                async with suite.client() as http:
                    resp = await http.request(
                        **_gateway_request(route, method),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                refused = resp.status_code == 403 and resp.json()["detail"].startswith(
                    GATEWAY_REFUSAL
                )
                if refused == admitted:
                    mismatches.append(
                        f"gateway {method.upper()} {path} {role}: {resp.status_code} "
                        f"(listed: {admitted})"
                    )
                for call in table.calls:
                    try:
                        await call(channels[call.service], bearer(token))
                        code = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as err:
                        code = err.code()
                    if (code == grpc.StatusCode.PERMISSION_DENIED) == admitted:
                        mismatches.append(
                            f"{call.service} for {method.upper()} {path} {role}: {code.name} "
                            f"(listed: {admitted})"
                        )
    assert mismatches == [], "\n".join(mismatches)


def test_the_signed_routes_are_the_routes_without_a_bearer_scheme(
    document: dict[str, Any],
) -> None:
    """A route whose document names no security scheme is a signed one, and lists no role."""
    unsecured = {
        (method, path)
        for method, path, _ in documented(document)
        if document["paths"][path][method].get("security") == []
    }
    assert unsecured == SIGNED
    assert all(not listed for m, p, listed in documented(document) if (m, p) in SIGNED)


async def test_signed_routes_take_no_bearer_token(suite: Suite, gateway: FastAPI) -> None:
    """Every role's token alone, without the signature, is 401 at the gateway and
    UNAUTHENTICATED at the service; so is no token at all."""
    app_routes = {
        (method.lower(), route.path_format): route
        for router in ROUTERS.values()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    wrong: list[str] = []
    async with AsyncExitStack() as stack:
        channels = {
            name: await stack.enter_async_context(channel_to(app))
            for name, app in suite.apps.items()
        }
        for method, path in sorted(SIGNED):
            route, table = app_routes[method, path], ROUTES[method, path]
            async with suite.client() as http:
                resp = await http.request(**_gateway_request(route, method))
                if resp.status_code != 401:
                    wrong.append(
                        f"gateway {method.upper()} {path} without a token: {resp.status_code}"
                    )
            for role in realm_roles():
                token = suite.token(username(role, table.context))
                async with suite.client() as http:
                    resp = await http.request(
                        **_gateway_request(route, method),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                if resp.status_code != 401:
                    wrong.append(f"gateway {method.upper()} {path} {role}: {resp.status_code}")
                for call in table.calls:
                    try:
                        await call(channels[call.service], bearer(token))
                        code = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as err:
                        code = err.code()
                    if code != grpc.StatusCode.UNAUTHENTICATED:
                        wrong.append(
                            f"{call.service} for {method.upper()} {path} {role}: {code.name}"
                        )
    assert wrong == [], "\n".join(wrong)
