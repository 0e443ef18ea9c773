"""Async database engines, the unit of work, and the per-service migrations runner.

No pre-ping: checking every pooled connection out costs a round trip (a BEGIN/ROLLBACK) on every
unit of work. A connection that died in the pool (a database restart) instead fails the unit of
work before it committed anything; the unit of work then raises `StaleConnection`, and the kit's
gRPC layer runs the call once more on a fresh connection.

Alembic is imported by `migrate` only: a serving process never loads it (cold start).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, Table, event, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection
    from sqlmodel import SQLModel

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class StaleConnection(Exception):
    """The unit of work met a pooled connection that had died; nothing of it was committed, so
    running it again (once) on a fresh connection is safe."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes only, stored as `timestamptz` and read back in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for a PostgreSQL URL (`postgresql+asyncpg://...`), without pre-ping.

    Bound values are personal data (REG-9): `hide_parameters` keeps them out of the text of a
    database error (a failed statement's traceback goes to the log) and out of SQLAlchemy's own
    statement log when someone turns it on (`logging.getLogger("sqlalchemy.engine")`)."""
    kwargs.setdefault("hide_parameters", True)
    return create_async_engine(url, **kwargs)


def unit_of_work(engine: AsyncEngine) -> UnitOfWork:
    """One session per entry point: commit on success, roll back on error, always close.

    A dead pooled connection met before the commit raises `StaleConnection` (the connection is
    invalidated, the pool replaces it); a failed commit is never called stale (it may have
    committed)."""
    maker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            try:
                yield session
                await flush_staged(session)
            except DBAPIError as exc:
                await session.rollback()
                if exc.connection_invalidated:
                    raise StaleConnection("the pooled database connection had died") from exc
                raise
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    return scope


# -- the lean write path ----------------------------------------------------------------------
# A hot write stages its rows (`stage`); they are inserted with one Core INSERT per table (an
# executemany for several rows: a stay's minors, a batch's notices) when the unit of work ends,
# or before the session's next query, whichever comes first, so a later read in the same
# transaction still sees them. No ORM unit of work (flush, topological sort, a round trip per
# object) is involved. Stage parents before children; a row is written once: change a staged
# object before the next query or not at all (an object also added with `session.add`, such as
# an obligation met at once, is left to the ORM).

_STAGED = "kamqor.staged"
_inserts: dict[Table, Insert] = {}


def stage(session: AsyncSession | Session, *rows: SQLModel) -> None:
    """Stage table rows for insertion in this transaction (see above)."""
    info = session.info
    staged: dict[Table, list[SQLModel]] = info.setdefault(_STAGED, {})
    for row in rows:
        staged.setdefault(row.__table__, []).append(row)  # type: ignore[attr-defined]


# One statement carries at most this many bound values (asyncpg's limit is 32767).
_MAX_TOGETHER_VALUES = 20_000


def _insert_staged(session: Session, together: bool = False) -> None:
    staged: dict[Table, list[SQLModel]] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    conn = session.connection()
    tables: list[tuple[Table, list[dict[str, Any]]]] = []
    for table, objects in staged.items():
        keys = [c.key for c in table.columns]
        rows = [{k: getattr(o, k) for k in keys} for o in objects if o not in session]
        if rows:
            tables.append((table, rows))
    values = sum(len(rows) * len(table.columns) for table, rows in tables)
    if together and len(tables) > 1 and values <= _MAX_TOGETHER_VALUES:
        # One round trip for every table: the first tables' INSERTs are data-modifying CTEs of
        # the last one's. Foreign keys are checked at the end of the statement, so a child may
        # sit beside its parent.
        *first, (last, last_rows) = tables
        ctes = [
            insert(table).values(rows).cte(f"staged_{i}") for i, (table, rows) in enumerate(first)
        ]
        conn.execute(insert(last).values(last_rows).add_cte(*ctes))
        return
    for table, rows in tables:
        # One statement per table, compiled once and cached; several rows: executemany.
        statement = _inserts.get(table)
        if statement is None:
            statement = _inserts.setdefault(table, insert(table))
        conn.execute(statement, rows)


async def flush_staged(session: AsyncSession, *, together: bool = False) -> None:
    """Insert what is staged now (the unit of work does it before its commit). `together`:
    in one statement, one round trip (a hot write that holds a row lock until its commit)."""
    if session.info.get(_STAGED):
        await session.run_sync(_insert_staged, together)


_HELD = "kamqor.staged.held"


@contextmanager
def holding(session: AsyncSession) -> Iterator[None]:
    """Staged rows stay staged through the queries of this block (they are not inserted before
    each query, so those queries do not see them). For a write whose parent row can only be
    inserted at the end, under a row lock taken as late as possible (INT-2's journal number):
    its children, staged meanwhile, wait with it and go in the same statement."""
    info = session.info
    info[_HELD] = info.get(_HELD, 0) + 1
    try:
        yield
    finally:
        info[_HELD] -= 1


@event.listens_for(Session, "do_orm_execute")
def _before_query(state: ORMExecuteState) -> None:
    info = state.session.info
    if info.get(_STAGED) and not info.get(_HELD):
        _insert_staged(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_STAGED):
        _insert_staged(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_STAGED, None)


def _alembic_config(migrations_dir: Path) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    return cfg


async def migrate(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Bring the service's schema to head; alembic runs on the engine's own connection."""

    from alembic import command

    def _upgrade(conn: Connection) -> None:
        cfg = _alembic_config(migrations_dir)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def run_env() -> None:
    """Body of every service's `migrations/env.py`: online mode on the given connection."""
    from alembic import context

    conn = context.config.attributes.get("connection")
    if conn is None:
        raise RuntimeError("migrations run through kamqor.db.migrate(), which passes a connection")
    context.configure(connection=conn, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
