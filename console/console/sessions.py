"""Server-side sessions: the browser holds only a random id in an HttpOnly, Secure, SameSite=Lax
cookie; tokens, the CSRF token, the language and Authlib's login state stay on the server.

`SessionMiddleware` puts the session's `oauth` dict at `scope["session"]`, where Authlib's
Starlette client keeps the state, nonce and PKCE verifier of a login in progress, so nothing of
it travels in a client-side cookie. The id is replaced at login (`rotate`) and the session is
dropped at logout.

Two stores share one interface (`create`, `rotate`, `drop` mark the session; the middleware
awaits `load` at the start of a request and `save` before the answer leaves): `SessionStore`
keeps them in this process's memory (development, tests, one replica), and
`console.session_store.PostgresSessionStore` keeps them in PostgreSQL, so any replica serves any
request and nothing is sticky (deploy/k8s).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kamqor.auth import Principal

COOKIE_NAME = "kamqor_console"
SCOPE_KEY = "kamqor.console.session"
# Static files and probes need no session, so no cookie-less request creates one for them.
SESSIONLESS = ("/static/", "/healthz")


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    id_token: str
    # Epoch seconds (the wall clock: Keycloak signs real time, never the domain clock).
    expires_at: float


@dataclass
class Session:
    id: str
    csrf_token: str = field(default_factory=new_token)
    language: str | None = None
    oauth: dict[str, Any] = field(default_factory=dict)
    tokens: Tokens | None = None
    principal: Principal | None = None
    # Where to go after login: a path of this console only.
    after_login: str = "/"
    # A message for the next page ("Admitted."): a msgid, never personal data.
    flash: str | None = None
    last_seen: float = field(default_factory=time.monotonic)
    # One token refresh at a time, so parallel requests do not spend the refresh token twice.
    refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # Set by `drop` (logout): the middleware clears the cookie and a shared store deletes it.
    dropped: bool = field(default=False, repr=False)
    # The ids this session had before `rotate`: a shared store deletes them on save.
    replaced_ids: list[str] = field(default_factory=list, repr=False)
    # The state as last loaded or saved (JSON), so a shared store writes only what changed.
    stored: str | None = field(default=None, repr=False)

    @property
    def signed_in(self) -> bool:
        return self.tokens is not None and self.principal is not None

    def to_json(self) -> str:
        """What a shared store keeps (never the id: the store keys rows by the id's hash)."""
        principal = self.principal
        return json.dumps(
            {
                "csrf_token": self.csrf_token,
                "language": self.language,
                "oauth": self.oauth,
                "tokens": asdict(self.tokens) if self.tokens else None,
                "principal": (
                    {**asdict(principal), "roles": sorted(principal.roles)} if principal else None
                ),
                "after_login": self.after_login,
                "flash": self.flash,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, session_id: str, text: str) -> Session:
        data: dict[str, Any] = json.loads(text)
        tokens = data.get("tokens")
        principal = data.get("principal")
        return cls(
            id=session_id,
            csrf_token=data["csrf_token"],
            language=data.get("language"),
            oauth=data.get("oauth") or {},
            tokens=Tokens(**tokens) if tokens else None,
            principal=(
                Principal(**{**principal, "roles": frozenset(principal["roles"])})
                if principal
                else None
            ),
            after_login=data.get("after_login") or "/",
            flash=data.get("flash"),
            stored=text,
        )


class SessionStore:
    """Sessions by id, dropped after `idle_seconds` without a request; at most `capacity`."""

    def __init__(self, *, idle_seconds: float, capacity: int = 50_000) -> None:
        self._idle = idle_seconds
        self._capacity = capacity
        self._items: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, session_id: str) -> Session | None:
        session = self._items.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self._idle:
            del self._items[session_id]
            return None
        session.last_seen = now
        self._items.move_to_end(session_id)
        return session

    def create(self) -> Session:
        self._evict()
        session = Session(id=new_token())
        self._items[session.id] = session
        return session

    async def load(self, session_id: str) -> Session | None:
        return self.get(session_id)

    async def save(self, session: Session) -> None:
        """Nothing to write: the sessions in memory are the live objects."""

    def rotate(self, session: Session) -> Session:
        """The same session under a new id and a new CSRF token (at login: no fixation)."""
        self._items.pop(session.id, None)
        session.id = new_token()
        session.csrf_token = new_token()
        self._items[session.id] = session
        return session

    def drop(self, session: Session) -> None:
        session.dropped = True
        self._items.pop(session.id, None)

    def _evict(self) -> None:
        now = time.monotonic()
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.last_seen <= self._idle and len(self._items) < self._capacity:
                break
            self._items.popitem(last=False)


def cookie_header(value: str, *, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{COOKIE_NAME}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


class Sessions(Protocol):
    """What the middleware and the login routes need of a store."""

    def create(self) -> Session: ...
    def rotate(self, session: Session) -> Session: ...
    def drop(self, session: Session) -> None: ...
    async def load(self, session_id: str) -> Session | None: ...
    async def save(self, session: Session) -> None: ...


class SessionMiddleware:
    """Loads (or starts) the caller's session, saves it before the answer leaves (so the next
    request, on any replica, sees it) and sets the cookie when its id changed."""

    def __init__(self, app: ASGIApp, *, store: Sessions, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SESSIONLESS):
            await self.app(scope, receive, send)
            return
        sent_id = HTTPConnection(scope).cookies.get(COOKIE_NAME, "")
        session = (await self.store.load(sent_id) if sent_id else None) or self.store.create()
        scope[SCOPE_KEY] = session
        scope["session"] = session.oauth

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.store.save(session)
                headers = MutableHeaders(scope=message)
                if session.dropped:
                    if sent_id:
                        headers.append(
                            "Set-Cookie", cookie_header("", secure=self.secure, max_age=0)
                        )
                elif session.id != sent_id:
                    headers.append("Set-Cookie", cookie_header(session.id, secure=self.secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def current_session(conn: HTTPConnection) -> Session:
    session: Session = conn.scope[SCOPE_KEY]
    return session


def maybe_session(conn: HTTPConnection) -> Session | None:
    """The session, or None on the session-less paths (static files, probes)."""
    session: Session | None = conn.scope.get(SCOPE_KEY)
    return session
