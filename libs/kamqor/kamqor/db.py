"""Async database engines, the unit of work, and the per-service migrations runner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


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
    """An async engine for a PostgreSQL URL (`postgresql+asyncpg://...`)."""
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def unit_of_work(engine: AsyncEngine) -> UnitOfWork:
    """One session per entry point: commit on success, roll back on error, always close."""
    maker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    return scope


def _alembic_config(migrations_dir: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    return cfg


async def migrate(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Bring the service's schema to head; alembic runs on the engine's own connection."""

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
