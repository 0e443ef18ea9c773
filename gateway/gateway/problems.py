"""RFC 9457 problem details: every error the gateway returns, mapped in one place.

`type` is `https://kamqor.dev/problems/<reason>`, stable per error: the service's ErrorInfo
reason (`shelter-full`, `not-found`, ...) or the gateway's own (`invalid`, `unauthenticated`).
Server faults get a generic detail; their traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from opentelemetry import trace
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.access_log import route_template
from kamqor.grpcserver import STATUS_DETAILS_KEY

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://kamqor.dev/problems/"
GENERIC_DETAIL = "The request could not be completed because of a server fault."
UNAVAILABLE_DETAIL = "A service this request needs is unavailable; retry later."
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class FieldError(BaseModel):
    field: str = Field(examples=["adult.birth_date"])
    message: str = Field(examples=["Input should be a valid date"])


class Problem(BaseModel):
    """An error response (RFC 9457), served as `application/problem+json`."""

    type: str = Field(examples=[f"{TYPE_BASE}shelter-full"])
    title: str = Field(examples=["Shelter full"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["the shelter has no free bed"])
    instance: str | None = Field(default=None, examples=["/v1/stays"])
    errors: list[FieldError] | None = None


def problem(
    status: int,
    reason: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] | None = None,
) -> Problem:
    return Problem(
        type=TYPE_BASE + reason,
        title=reason.replace("-", " ").capitalize(),
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors is not None else None,
    )


def problem_response(body: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=body.status,
        media_type=MEDIA_TYPE,
        headers=dict(headers) if headers else None,
    )


# --- request validation ---------------------------------------------------------------------

_LOCATIONS = frozenset({"body", "path", "query", "header", "cookie"})


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "minors", 1, "full_name")` -> `minors[1].full_name`; where the error is."""
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "body")


def validation_problem(exc: RequestValidationError, instance: str) -> Problem:
    errors: list[FieldError] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            # The position of a JSON syntax error is not a field; the whole body is at fault.
            errors.append(FieldError(field="body", message="malformed JSON"))
        else:
            errors.append(FieldError(field=field_path(loc), message=str(err.get("msg", ""))))
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    return problem(422, "invalid", f"invalid input: {fields}", instance=instance, errors=errors)


# --- gRPC status ----------------------------------------------------------------------------

_GRPC: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.NOT_FOUND: (404, "not-found"),
    grpc.StatusCode.INVALID_ARGUMENT: (422, "invalid"),
    grpc.StatusCode.OUT_OF_RANGE: (422, "invalid"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "conflict"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "conflict"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated"),
    grpc.StatusCode.UNAVAILABLE: (503, "service-unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "service-unavailable"),
    # A request over the services' message limit (the gateway refuses bodies over it first).
    grpc.StatusCode.RESOURCE_EXHAUSTED: (413, "payload-too-large"),
}


def _rich_status(exc: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    for key, value in exc.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def rpc_problem(exc: grpc.aio.AioRpcError, instance: str) -> Problem:
    """The problem for a failed service call; 5xx carry no detail from the service."""
    status, reason = _GRPC.get(exc.code(), (500, "internal"))
    if status == 503:
        return problem(status, reason, UNAVAILABLE_DETAIL, instance=instance)
    if status == 500:
        return problem(status, reason, GENERIC_DETAIL, instance=instance)
    errors: list[FieldError] = []
    rich = _rich_status(exc)
    for detail in rich.details if rich is not None else ():
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and info.domain == "kamqor":
            reason = info.reason or reason
        elif detail.Is(bad.DESCRIPTOR) and detail.Unpack(bad):
            errors += [
                FieldError(field=v.field, message=v.description) for v in bad.field_violations
            ]
    message = (rich.message if rich is not None else "") or exc.details() or reason
    return problem(status, reason, message, instance=instance, errors=errors or None)


# --- handlers -------------------------------------------------------------------------------

_HTTP_REASONS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    503: "service-unavailable",
}


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc, request.url.path))


async def _on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, grpc.aio.AioRpcError)
    body = rpc_problem(exc, request.url.path)
    if body.status >= 500:
        log.error(
            "service call for %s %s failed: %s %s",
            request.method,
            route_template(request.scope),  # never the raw path: ids, personal data (REG-9)
            exc.code().name,
            exc.details(),
            exc_info=exc if body.status == 500 else None,
        )
    headers = BEARER_CHALLENGE if body.status == 401 else None
    return problem_response(body, headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this request's path. Starlette's 405
    names only the first route whose path matched (`POST` for `DELETE /v1/appeals`, though
    `GET` is there too); RFC 9110 wants all of them in `Allow`. Asks the router itself, so
    it holds however routers are included."""
    base = {
        "type": "http",
        "path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
        "headers": [],
        "query_string": b"",
    }
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**base, "method": method})[0] is Match.FULL for route in routes)
    ]


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = exc.status_code
    reason = _HTTP_REASONS.get(code, "internal" if code >= 500 else f"http-{code}")
    detail = GENERIC_DETAIL if code >= 500 and code != 503 else str(exc.detail)
    headers = dict(exc.headers or {})
    if code == 405 and (methods := allowed_methods(request)):
        headers["Allow"] = ", ".join(methods)
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
    return problem_response(problem(code, reason, detail, instance=request.url.path), headers)


class CatchAllMiddleware:
    """Any exception nothing else handled: a generic 500 problem, the traceback to the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope.get("method"), route_template(scope))
            trace.get_current_span().record_exception(exc)
            if started:
                raise
            body = problem(500, "internal", GENERIC_DETAIL, instance=scope.get("path"))
            await problem_response(body)(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers and the catch-all on `app`."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(grpc.aio.AioRpcError, _on_rpc_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_middleware(CatchAllMiddleware)
