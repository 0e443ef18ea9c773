"""Request bodies: at most `MAX_BODY_BYTES`, JSON only, strictly parsed.

- Size: a `Content-Length` over the limit is a 413 before a byte of the body is read; a body
  without one (chunked) is counted as it arrives and refused with 413 as soon as it passes the
  limit. The limit is the kit's gRPC request limit, so what the gateway accepts a service
  accepts too.
- Media type: a route that takes a body takes `application/json` (or `application/*+json`) in
  UTF-8; anything else is a 415.
- Parsing: RFC 8259 leaves duplicate names in an object undefined, and Python's parser keeps
  the last one silently; here a duplicate is a 422 naming it (`adult.full_name`). So are bytes
  that are not UTF-8, `NaN`/`Infinity`, numbers too long to convert and nesting too deep to
  parse: a clean problem, never a 500.

Every `/v1` router uses `JSONRoute` (the FastAPI way to give a route its own request class).
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import problem, problem_response
from kamqor.grpcserver import MAX_REQUEST_BYTES

MAX_BODY_BYTES = MAX_REQUEST_BYTES
JSON_MEDIA_TYPE = "application/json"


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)")


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: by its `Content-Length` before reading, or while it
    streams in. A route reading the body gets `BodyTooLarge`, which the problem handlers map."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = problem(413, "payload-too-large", BodyTooLarge().detail, instance=scope["path"])
        # The rest of the body is never read: the connection is not reused.
        await problem_response(body, {"Connection": "close"})(scope, receive, send)


# --- strict JSON ----------------------------------------------------------------------------


class BodyError(ValueError):
    """A body that is not acceptable JSON; `loc` as in a validation error."""

    def __init__(self, loc: tuple[str | int, ...], kind: str, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.kind = kind
        self.message = message

    def validation_error(self) -> RequestValidationError:
        return RequestValidationError([{"type": self.kind, "loc": self.loc, "msg": self.message}])


class _Duplicated(dict[str, Any]):
    """An object that had a name twice (the last value kept, as Python's parser does)."""

    names: list[str]


def _first_duplicate(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the first duplicated name is, as a validation error's `loc` after "body"."""
    if isinstance(value, _Duplicated):
        return (*path, value.names[0])
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        if (found := _first_duplicate(item, (*path, key))) is not None:
            return found
    return None


def _refuse_constant(name: str) -> Any:
    raise BodyError(("body",), "json_unreadable", f"{name} is not a JSON value")


def loads(body: bytes) -> Any:
    """The body as JSON (RFC 8259: UTF-8, each name once per object), or `BodyError`;
    `json.JSONDecodeError` for a syntax error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            ("body",), "json_not_utf8", f"is not UTF-8 (invalid byte at offset {exc.start})"
        ) from None
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        seen: set[str] = set()
        found = _Duplicated(obj)
        found.names = []
        for name, _ in items:
            if name in seen:
                found.names.append(name)
            seen.add(name)
        duplicated = True
        return found

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyError(("body",), "json_unreadable", "is nested too deeply") from None
    except (json.JSONDecodeError, BodyError):
        raise
    except ValueError:  # an integer past Python's digit limit
        raise BodyError(("body",), "json_unreadable", "holds a number too long to read") from None
    if duplicated and (path := _first_duplicate(value)) is not None:
        raise BodyError(("body", *path), "json_duplicate_key", "appears twice in one object")
    return value


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    charset = message.get_content_charset()
    return (
        message.get_content_maintype() == "application"
        and (subtype == "json" or subtype.endswith("+json"))
        and charset in (None, "utf-8")
    )


class StrictJSONRequest(Request):
    """A request whose `json()` is `loads`: FastAPI reads the body through it."""

    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            self._strict_json = loads(await self.body())
        return self._strict_json


class JSONRoute(APIRoute):
    """A route whose body, when it takes one, must be UTF-8 JSON (415 otherwise), parsed by
    `loads` before FastAPI validates it (422 naming a duplicated name)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict(request: Request) -> Response:
            request = StrictJSONRequest(request.scope, request.receive)
            content_type = request.headers.get("content-type")
            body = await request.body()
            if (content_type is not None or body) and not _is_json(content_type or ""):
                raise HTTPException(415, f"the body must be {JSON_MEDIA_TYPE} in UTF-8")
            if body:
                try:
                    await request.json()
                except BodyError as exc:
                    raise exc.validation_error() from None
                except json.JSONDecodeError as exc:
                    raise RequestValidationError(
                        [{"type": "json_invalid", "loc": ("body", exc.pos), "msg": exc.msg}]
                    ) from None
            return await handler(request)

        return strict
