"""The console behind deploy/k8s's load balancer (any replica, nothing sticky) and its shared
session store on the real PostgreSQL: two console apps serve one person's session; login
rotation, logout and the idle timeout hold across them; the table holds no usable session id."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from console.__main__ import migrate
from console.app import create_app
from console.session_store import TABLE, PostgresSessionStore
from console.sessions import Session, Tokens
from console.settings import ConsoleSettings
from devstack.postgres import PostgresCluster
from kamqor.auth import TokenVerifier
from kamqor.db import make_engine
from tests.console.fakes import answer, client, principal

DATABASE = "console_sessions_test"


def no_gateway(request: httpx.Request) -> httpx.Response:
    return answer({"items": []})


@pytest.fixture(scope="module")
def session_db(postgres: PostgresCluster) -> str:
    postgres.ensure_databases([DATABASE])
    return postgres.url(DATABASE)


def replica(url: str) -> FastAPI:
    settings = ConsoleSettings(
        environment="test",
        keycloak_issuer="http://127.0.0.1:1/realms/kamqor",
        console_public_url="http://console.test",
        database_url=url,
    )
    verifier = TokenVerifier(
        issuer=settings.keycloak_issuer, audience="kamqor-gateway", jwks_url="http://127.0.0.1:1/"
    )
    app = create_app(settings, verifier=verifier)
    app.state.http = httpx.AsyncClient(
        transport=httpx.MockTransport(no_gateway), base_url="http://gateway.test"
    )
    return app


@pytest.fixture
async def replicas(session_db: str) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    await migrate(session_db)
    await migrate(session_db)  # idempotent: every release's Job runs it again
    a, b = replica(session_db), replica(session_db)
    yield a, b
    for app in (a, b):
        await app.state.sessions.engine.dispose()
        await app.state.http.aclose()


async def signed_in(app: FastAPI) -> Session:
    """A session as the login callback leaves it, saved by the replica that served it."""
    store: PostgresSessionStore = app.state.sessions
    session = store.rotate(store.create())
    session.principal = principal("head.ast", "center-head")
    session.tokens = Tokens(
        access_token="access", refresh_token="refresh", id_token="id", expires_at=time.time() + 900
    )
    await store.save(session)
    return session


async def test_two_replicas_share_one_session_through_postgres(
    replicas: tuple[FastAPI, FastAPI],
) -> None:
    a, b = replicas
    assert isinstance(a.state.sessions, PostgresSessionStore)
    session = await signed_in(a)

    async with client(b, session) as on_b:
        page = await on_b.get("/notices")
        assert page.status_code == 200, page.headers.get("location")
        switched = await on_b.post(
            "/language", data={"csrf_token": session.csrf_token, "language": "kk", "next": "/"}
        )
        assert switched.status_code == 303
    async with client(a, session) as on_a:
        page = await on_a.get("/notices")
        assert page.status_code == 200
        assert '<html lang="kk">' in page.text  # the choice made on b
        # No id token: logging out needs no Keycloak round trip here.
        store_a: PostgresSessionStore = a.state.sessions
        current = await store_a.load(session.id)
        assert current is not None and current.language == "kk"
        current.tokens = None
        await store_a.save(current)
        out = await on_a.post("/logout", data={"csrf_token": session.csrf_token})
        assert out.status_code == 303
        assert "max-age=0" in out.headers["set-cookie"].lower()
    async with client(b, session) as on_b:
        gone = await on_b.get("/notices")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_a_forged_csrf_token_is_refused_on_the_other_replica(
    replicas: tuple[FastAPI, FastAPI],
) -> None:
    a, b = replicas
    session = await signed_in(a)
    async with client(b, session) as on_b:
        forged = await on_b.post("/language", data={"csrf_token": "forged", "language": "en"})
    assert forged.status_code == 403


async def test_rotation_retires_the_old_id_everywhere_and_the_table_holds_no_ids(
    replicas: tuple[FastAPI, FastAPI], session_db: str
) -> None:
    a, b = replicas
    store_a: PostgresSessionStore = a.state.sessions
    store_b: PostgresSessionStore = b.state.sessions
    session = store_a.create()
    session.oauth["_state_keycloak_x"] = {"data": {"nonce": "n"}, "exp": 1.0}
    await store_a.save(session)
    before = session.id
    store_a.rotate(session)
    await store_a.save(session)
    assert await store_b.load(before) is None
    loaded = await store_b.load(session.id)
    assert loaded is not None
    assert loaded.csrf_token == session.csrf_token and loaded.oauth == session.oauth

    engine = make_engine(session_db)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(f"SELECT id_hash, data::text FROM {TABLE}"))).all()
    finally:
        await engine.dispose()
    assert rows
    assert not [r for r in rows if session.id in r[0] or session.id in r[1]]


async def test_an_idle_session_expires(session_db: str) -> None:
    await migrate(session_db)
    engine = make_engine(session_db)
    try:
        store = PostgresSessionStore(engine, idle_seconds=0)
        session = store.create()
        await store.save(session)
        assert await store.load(session.id) is None
    finally:
        await engine.dispose()


def test_production_refuses_sessions_in_memory() -> None:
    with pytest.raises(ValueError, match="KAMQOR_DATABASE_URL"):
        ConsoleSettings(
            environment="production",
            console_client_secret="a-real-secret",
            keycloak_issuer="https://auth.kamqor.example/realms/kamqor",
        )
