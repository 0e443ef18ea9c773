"""B0, the baseline every figure is divided by: bare FastAPI + asyncpg, no ORM, no kit.

`python -m bench.b0 api`: the endpoints below, plus a bare outbox relay to JetStream.
`python -m bench.b0 consumer`: a bare durable consumer writing two notices per event.

- `POST /b0/write`: a row, an audit row and an outbox row in one transaction (the write path).
- `GET /b0/stays/{id}`: the selects of a stay read (the stay, its minors) and one audit row.
- `GET /b0/stays?shelter=`: the selects of a page of 50 (rows, their children, their
  obligations) and one audit row.
- `GET /b0/noop` and `GET /b0/jwt` (the kit's token verification, then nothing).

Configuration by environment: `B0_DSN`, `B0_NATS`, `B0_PORT`, `B0_ISSUER`, `B0_AUDIENCE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import Request

SCHEMA = """
CREATE TABLE IF NOT EXISTS b0_stays (
    id text PRIMARY KEY, shelter_id text NOT NULL, adult_name text NOT NULL,
    birth_date date NOT NULL, admitted_at timestamptz NOT NULL, persons int NOT NULL);
CREATE INDEX IF NOT EXISTS b0_stays_shelter ON b0_stays (shelter_id, id);
CREATE TABLE IF NOT EXISTS b0_minors (
    id text PRIMARY KEY, stay_id text NOT NULL, position int NOT NULL, full_name text NOT NULL,
    birth_date date NOT NULL);
CREATE INDEX IF NOT EXISTS b0_minors_stay ON b0_minors (stay_id);
CREATE TABLE IF NOT EXISTS b0_obligations (
    id text PRIMARY KEY, subject text NOT NULL, rule text NOT NULL, due_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS b0_obligations_subject ON b0_obligations (subject);
CREATE TABLE IF NOT EXISTS b0_audit (
    id text PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL,
    entity text NOT NULL, purpose text NOT NULL);
CREATE TABLE IF NOT EXISTS b0_outbox (
    id text PRIMARY KEY, subject text NOT NULL, body bytea NOT NULL,
    created_at timestamptz NOT NULL, sent_at timestamptz);
CREATE INDEX IF NOT EXISTS b0_outbox_unsent ON b0_outbox (id) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS b0_processed (event_id text PRIMARY KEY, at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS b0_notices (
    id text PRIMARY KEY, subject text NOT NULL, recipient text NOT NULL,
    created_at timestamptz NOT NULL, source_event_id text NOT NULL,
    UNIQUE (source_event_id, recipient));
CREATE INDEX IF NOT EXISTS b0_notices_subject ON b0_notices (subject);
"""
STREAM, SUBJECT = "B0", "b0.stay.admitted"


def _dsn() -> str:
    return os.environ["B0_DSN"].replace("postgresql+asyncpg://", "postgresql://")


async def _stream(js: Any) -> None:
    from nats.js.api import StreamConfig

    with contextlib.suppress(Exception):
        await js.add_stream(StreamConfig(name=STREAM, subjects=["b0.>"]))


def create_app() -> Any:
    import nats
    from fastapi import FastAPI, HTTPException

    from kamqor.auth import AuthError, TokenVerifier

    state: dict[str, Any] = {}
    wake = asyncio.Event()

    async def relay() -> None:
        pool: asyncpg.Pool = state["pool"]
        js = state["js"]
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    "SELECT id, subject, body FROM b0_outbox WHERE sent_at IS NULL "
                    "ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
                )
                for row in rows:
                    await js.publish(
                        row["subject"], row["body"], headers={"Nats-Msg-Id": row["id"]}
                    )
                if rows:
                    await conn.execute(
                        "UPDATE b0_outbox SET sent_at = now() WHERE id = ANY($1)",
                        [r["id"] for r in rows],
                    )
            if not rows:
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=1.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(_dsn(), min_size=2, max_size=10)
        async with state["pool"].acquire() as conn:
            await conn.execute(SCHEMA)
        nc = await nats.connect(os.environ["B0_NATS"])
        state["js"] = nc.jetstream()
        await _stream(state["js"])
        task = asyncio.create_task(relay())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nc.close()
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)
    verifier = TokenVerifier(
        issuer=os.environ.get("B0_ISSUER", "http://127.0.0.1:8080/realms/kamqor"),
        audience=os.environ.get("B0_AUDIENCE", "kamqor-gateway"),
    )

    @app.post("/b0/write", status_code=201)
    async def write(request: Request) -> dict[str, Any]:
        body = await request.json()
        stay_id = str(uuid.uuid4())
        event_id = str(uuid.uuid4())
        pool: asyncpg.Pool = state["pool"]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO b0_stays VALUES ($1, $2, $3, $4::text::date, now(), $5)",
                stay_id,
                body["shelter_id"],
                body["adult"]["full_name"],
                body["adult"]["birth_date"],
                1 + len(body.get("minors", [])),
            )
            await conn.execute(
                "INSERT INTO b0_audit VALUES ($1, now(), 'bench', 'create', $2, 'b0')",
                str(uuid.uuid4()),
                f"stay/{stay_id}",
            )
            await conn.execute(
                "INSERT INTO b0_outbox VALUES ($1, $2, $3, now(), NULL)",
                event_id,
                SUBJECT,
                json.dumps({"stay_id": stay_id}).encode(),
            )
        wake.set()
        return {"id": stay_id, "shelter_id": body["shelter_id"]}

    @app.get("/b0/stays/{stay_id}")
    async def read_one(stay_id: str) -> dict[str, Any]:
        pool: asyncpg.Pool = state["pool"]
        async with pool.acquire() as conn, conn.transaction():
            stay = await conn.fetchrow("SELECT * FROM b0_stays WHERE id = $1", stay_id)
            if stay is None:
                raise HTTPException(404)
            minors = await conn.fetch(
                "SELECT * FROM b0_minors WHERE stay_id = $1 ORDER BY position", stay_id
            )
            await conn.execute(
                "INSERT INTO b0_audit VALUES ($1, now(), 'bench', 'read', $2, 'view')",
                str(uuid.uuid4()),
                f"stay/{stay_id}",
            )
        return {**dict(stay), "minors": [dict(m) for m in minors]}

    @app.get("/b0/stays")
    async def read_page(shelter: str) -> dict[str, Any]:
        pool: asyncpg.Pool = state["pool"]
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM b0_stays WHERE shelter_id = $1 ORDER BY id DESC LIMIT 51", shelter
            )
            ids = [r["id"] for r in rows[:50]]
            minors = await conn.fetch(
                "SELECT * FROM b0_minors WHERE stay_id = ANY($1) ORDER BY stay_id, position", ids
            )
            duties = await conn.fetch(
                "SELECT * FROM b0_obligations WHERE subject = ANY($1) ORDER BY due_at",
                [f"stay/{i}" for i in ids],
            )
            await conn.execute(
                "INSERT INTO b0_audit VALUES ($1, now(), 'bench', 'read', $2, 'list')",
                str(uuid.uuid4()),
                ",".join(ids),
            )
        by_stay: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for m in minors:
            by_stay[m["stay_id"]].append(dict(m))
        by_subject: dict[str, list[dict[str, Any]]] = {f"stay/{i}": [] for i in ids}
        for d in duties:
            by_subject[d["subject"]].append(dict(d))
        return {
            "items": [
                {
                    **dict(r),
                    "minors": by_stay[r["id"]],
                    "obligations": by_subject[f"stay/{r['id']}"],
                }
                for r in rows[:50]
            ]
        }

    @app.get("/b0/noop")
    async def noop() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/b0/jwt")
    async def verified(request: Request) -> dict[str, str]:
        token = request.headers.get("authorization", "").partition(" ")[2]
        try:
            principal = await verifier.verify(token)
        except AuthError as exc:
            raise HTTPException(401, exc.reason) from None
        return {"ok": principal.username}

    return app


async def consume() -> None:
    """Two notices per event, the event id recorded in the same transaction, then the ack."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    pool = await asyncpg.create_pool(_dsn(), min_size=1, max_size=2)
    nc = await nats.connect(os.environ["B0_NATS"])
    js = nc.jetstream()
    await _stream(js)
    sub = await js.pull_subscribe(
        SUBJECT, durable="b0-notify", config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT)
    )
    while True:
        try:
            msgs = await sub.fetch(batch=16, timeout=1)
        except TimeoutError:
            continue
        for msg in msgs:
            event_id = (msg.headers or {}).get("Nats-Msg-Id", "")
            stay_id = json.loads(msg.data)["stay_id"]
            async with pool.acquire() as conn, conn.transaction():
                fresh = await conn.fetchval(
                    "INSERT INTO b0_processed VALUES ($1, now()) ON CONFLICT DO NOTHING "
                    "RETURNING event_id",
                    event_id,
                )
                if fresh:
                    await conn.executemany(
                        "INSERT INTO b0_notices VALUES ($1, $2, $3, clock_timestamp(), $4)",
                        [
                            (str(uuid.uuid4()), f"stay/{stay_id}", recipient, event_id)
                            for recipient in ("police", "guardianship")
                        ],
                    )
            await msg.ack()


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else "api"
    if role == "consumer":
        asyncio.run(consume())
        return
    import uvicorn

    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["B0_PORT"]),
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
