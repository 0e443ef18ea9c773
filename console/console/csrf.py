"""CSRF: one random token per session, sent back by every form (`csrf_token` field) and every
HTMX request (`X-CSRF-Token` header, set once on `<body hx-headers>`), checked on every POST."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from console.sessions import maybe_session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="csrf")


async def check_csrf(request: Request) -> None:
    """An app-wide dependency: an unsafe request without the session's token is refused."""
    if request.method in SAFE_METHODS:
        return
    session = maybe_session(request)
    if session is None:
        raise CsrfError()
    expected = session.csrf_token
    sent = request.headers.get(HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(FIELD, "")
            sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError()
