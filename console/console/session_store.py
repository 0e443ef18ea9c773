"""Console sessions in PostgreSQL: the store that lets any number of console replicas serve any
request (nothing sticky at the ingress, a rolling update signs nobody out).

Why PostgreSQL and not Redis: the platform already runs it (CloudNativePG, backed up, with
operator-issued credentials), the console's load is people, not machines (a few requests a
second), and a second stateful system to run, secure and back up would buy nothing here.

One row per session, keyed by the SHA-256 of its id (a copy of the table does not hand out
live cookies), its state as JSON, and an `expires_at` slid forward by every request that loads
it (the idle timeout, on the database's clock so replicas need not agree on time). Loading is
one `UPDATE ... RETURNING`; saving writes only when the state changed. Two requests of one
session on two replicas at once: the later save wins (a flash message may be lost; tokens are
the same or both fresh). The table is created by `python -m console migrate` (a Job in
deploy/k8s), never at start.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from console.sessions import Session, new_token

TABLE = "console_session"
# Expired rows are swept at most this often per process (when a new session is saved).
SWEEP_SECONDS = 60.0

SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        id_hash text PRIMARY KEY,
        data jsonb NOT NULL,
        expires_at timestamptz NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_expires_at ON {TABLE} (expires_at)",
)

_LOAD = text(
    f"UPDATE {TABLE} SET expires_at = now() + make_interval(secs => :idle) "
    "WHERE id_hash = :id_hash AND expires_at > now() RETURNING data::text"
)
_UPSERT = text(
    f"INSERT INTO {TABLE} (id_hash, data, expires_at) "
    "VALUES (:id_hash, CAST(:data AS jsonb), now() + make_interval(secs => :idle)) "
    "ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at"
)
_DELETE = text(f"DELETE FROM {TABLE} WHERE id_hash = ANY(:id_hashes)")
_SWEEP = text(f"DELETE FROM {TABLE} WHERE expires_at <= now()")


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def create_schema(engine: AsyncEngine) -> None:
    """The session table (idempotent): run by `python -m console migrate`."""
    async with engine.begin() as conn:
        for statement in SCHEMA:
            await conn.execute(text(statement))


class PostgresSessionStore:
    """The `Sessions` interface over one PostgreSQL table shared by every console replica."""

    def __init__(self, engine: AsyncEngine, *, idle_seconds: float) -> None:
        self.engine = engine
        self._idle = float(idle_seconds)
        self._swept_at = float("-inf")

    def create(self) -> Session:
        # Written by `save` at the end of the request, like every change.
        return Session(id=new_token())

    def rotate(self, session: Session) -> Session:
        """The same session under a new id and a new CSRF token (at login: no fixation)."""
        session.replaced_ids.append(session.id)
        session.id = new_token()
        session.csrf_token = new_token()
        return session

    def drop(self, session: Session) -> None:
        session.dropped = True

    async def load(self, session_id: str) -> Session | None:
        async with self.engine.begin() as conn:
            data = (
                await conn.execute(_LOAD, {"id_hash": id_hash(session_id), "idle": self._idle})
            ).scalar_one_or_none()
        return None if data is None else Session.from_json(session_id, data)

    async def save(self, session: Session) -> None:
        gone = [*session.replaced_ids, session.id] if session.dropped else session.replaced_ids
        state = None if session.dropped else session.to_json()
        if not gone and state == session.stored:
            return
        is_new = session.stored is None
        async with self.engine.begin() as conn:
            if gone:
                await conn.execute(_DELETE, {"id_hashes": [id_hash(i) for i in gone]})
            if state is not None and state != session.stored:
                await conn.execute(
                    _UPSERT, {"id_hash": id_hash(session.id), "data": state, "idle": self._idle}
                )
            now = time.monotonic()
            if is_new and now - self._swept_at > SWEEP_SECONDS:
                self._swept_at = now
                await conn.execute(_SWEEP)
        session.replaced_ids.clear()
        session.stored = state
