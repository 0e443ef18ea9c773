"""The OpenAPI 3.1 document: problems as `application/problem+json`, each route's roles, the
statuses any route may answer before it runs, the server partners call.

It is the contract partners generate clients from (`tests/security/test_generated_client.py`
generates one and fails on any warning), so: every operation has an explicit, stable
`operationId` (`operation_id=` on the route), every component schema a title of its own, every
enum a name of its own (`TypeAliasType` in the schema modules); `check_operation_ids` and
`check_schema_names` are what the tests hold the document to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from gateway.auth import RoleCheck
from gateway.bodies import MAX_BODY_BYTES
from gateway.problems import MEDIA_TYPE, Problem


def route_roles(route: APIRoute) -> frozenset[str]:
    """The roles a route admits, from `require_roles` on it or on its router: a principal must
    pass every check, so with checks on both only the roles they share admit on their own."""
    checks = [d.dependency.roles for d in route.dependencies if isinstance(d.dependency, RoleCheck)]
    return frozenset.intersection(*checks) if checks else frozenset()


def _problem_media(operation: dict[str, Any]) -> None:
    for code, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if str(code)[0] in "45" and "application/json" in content:
            content[MEDIA_TYPE] = content.pop("application/json")


def _problem_ref(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


_WRITES = frozenset({"post", "put", "patch"})


def _document_bodies(method: str, operation: dict[str, Any]) -> None:
    """What any route with a body may answer before it runs (`gateway.bodies`), and what the
    `Idempotency-Key` header may bring. A write without a body still gets 413 for a body sent
    anyway over the limit (`BodyLimitMiddleware` runs before routing)."""
    responses = operation.setdefault("responses", {})
    if method in _WRITES:
        responses.setdefault("413", _problem_ref(_DESCRIPTIONS[413]))
    if "requestBody" in operation:
        for code in (415, 422):
            responses.setdefault(str(code), _problem_ref(_DESCRIPTIONS[code]))
    headers = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
    if "Idempotency-Key" in headers:
        for code in (409, 422):
            response = responses.setdefault(str(code), _problem_ref(_DESCRIPTIONS[code]))
            note = _IDEMPOTENCY[code]
            if note not in response["description"]:
                response["description"] += f"; {note}"


def _document_roles(schema: dict[str, Any], routers: Iterable[APIRouter]) -> None:
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or not (roles := sorted(route_roles(route))):
                continue
            for method in (m.lower() for m in route.methods or ()):
                operation = schema["paths"].get(route.path_format, {}).get(method)
                if operation is None:
                    continue
                operation["x-required-roles"] = roles
                # OpenAPI 3.1: for non-OAuth schemes the array may list the roles required.
                operation["security"] = [
                    {name: roles} for s in operation.get("security", []) for name in s
                ]
                note = f"Roles (any of): {', '.join(f'`{r}`' for r in roles)}."
                text = operation.get("description")
                operation["description"] = f"{text}\n\n{note}" if text else note


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The app's routes, through included routers (FastAPI keeps them as router objects)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(router.routes)


def check_operation_ids(app: FastAPI) -> None:
    """Every route names its `operationId` (`operation_id=`), and no two share one: a client's
    function names follow them, so FastAPI's generated ids (which change with the path) are
    never published."""
    seen: dict[str, str] = {}
    for route in _api_routes(app.router.routes):
        if not route.include_in_schema:
            continue
        if not route.operation_id:
            raise ValueError(f"route {route.path} ({route.name}) has no operation_id")
        if (other := seen.setdefault(route.operation_id, route.name)) != route.name:
            raise ValueError(f"operation_id {route.operation_id!r}: {other} and {route.name}")


def check_schema_names(schema: dict[str, Any]) -> None:
    """No two component schemas with one title (clients name their classes by it), and no
    module-qualified name (FastAPI's way out of two models with one class name)."""
    titles: dict[str, str] = {}
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        title = component.get("title", name)
        if "__" in name or titles.setdefault(title, name) != name:
            raise ValueError(f"component schema {name!r}: title {title!r} is not unique")


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Post-process FastAPI's own document once; `routers` are the ones `app` includes."""
    generate = app.openapi
    routers = list(routers)
    done: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not done:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for method, operation in operations.items():
                    _problem_media(operation)
                    _document_bodies(method, operation)
            _document_roles(schema, routers)
            schema["servers"] = [
                {"url": app.state.settings.base_url(), "description": "This gateway"}
            ]
            done.update(schema)
        return done

    app.openapi = openapi  # type: ignore[method-assign]


_DESCRIPTIONS = {
    401: "Missing, expired or invalid bearer token",
    403: "The caller's roles do not allow this",
    404: "No such resource in the caller's territory",
    409: "Conflicts with the current state (the `type` names the rule)",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes (1 MiB)",
    415: "The body is not `application/json` in UTF-8",
    422: "Invalid input; `errors` names each field (a duplicated JSON name included)",
    503: "A service is unavailable; retry later",
}
_IDEMPOTENCY = {
    409: "`idempotency-key-in-flight`: a request with this `Idempotency-Key` is still being "
    "processed; retry it later",
    422: "`idempotency-key-reused`: this `Idempotency-Key` came with a different body before",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may return, as `application/problem+json`."""
    return {
        code: {"model": Problem, "description": _DESCRIPTIONS.get(code, "Error")} for code in codes
    }
