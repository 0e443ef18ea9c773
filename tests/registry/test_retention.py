"""Erasure after the retention period (REG-6, REG-9, issue 15): a family removed from the bank
stays in the archive, readable by auditors, for the period its profile sets (ru-irk:
`REG-6/retention`, 60 months), then the sweeper erases it and nothing of it remains in any
table, while a family removed later stays. Over real gRPC on a real PostgreSQL, clocks pinned."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.runtime import ServiceApp
from tests.registry.chain import child, entered, irkutsk, removed
from tests.registry.factories import change_request
from tests.registry.test_reviews import Users
from tests.support.clock import IRKUTSK

NAME = "Морозова Алиса Денисовна"
DOCUMENT = "551177"
# The access log keeps its rows (ids only; the application may not change it, REG-9), and the
# migrations' own table names no one.
KEPT = {"audit_log", "alembic_version"}


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


async def read(stub: Any, md: Users, family_id: str) -> grpc.StatusCode:
    try:
        await stub.GetFamily(
            pb.GetFamilyRequest(family_id=family_id, purpose="archive check"),
            metadata=md("auditor.irk"),
        )
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


async def mentions(app: ServiceApp, needles: list[str]) -> dict[str, int]:
    """Rows of every table (the access log aside) whose text holds any needle; the outbox's
    binary event bodies searched as bytes."""
    assert app.wiring is not None
    found: dict[str, int] = {}
    async with app.wiring.engine.connect() as conn:
        tables = (
            await conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        for table in sorted(set(tables) - KEPT):
            for needle in needles:
                count = (
                    await conn.execute(
                        sa.text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :n'),
                        {"n": f"%{needle}%"},
                    )
                ).scalar_one()
                if table == "outbox":
                    count += (
                        await conn.execute(
                            sa.text(
                                "SELECT count(*) FROM outbox "
                                "WHERE position(convert_to(:n, 'UTF8') in body) > 0"
                            ),
                            {"n": needle},
                        )
                    ).scalar_one()
                if count:
                    found[f"{table}:{needle}"] = count
    return found


async def all_published(app: ServiceApp) -> None:
    """The relay has published every event (only delivered events are erased)."""
    assert app.wiring is not None
    for _ in range(100):
        async with app.wiring.engine.connect() as conn:
            pending = (
                await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
            ).scalar_one()
        if not pending:
            return
        app.wiring.relay.wake()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{pending} events never published")


async def test_reg6_reg9_a_removed_family_is_erased_after_the_retention_period(  # type: ignore[no-untyped-def]
    stub, md, registry_app
) -> None:
    family = await entered(
        stub, md, date(2026, 3, 2), [child(NAME, date(2015, 8, 8), number=DOCUMENT)]
    )
    later = await entered(
        stub, md, date(2026, 3, 3), [child("Белов Роман Ильич", date(2014, 2, 2))]
    )
    with clock_at(irkutsk(date(2026, 3, 10))):
        change = (
            await stub.ReportChange(change_request(family.id), metadata=md("caseworker.irk"))
        ).change
        await stub.EnterChange(
            pb.EnterChangeRequest(change_id=change.id), metadata=md("registry.irk")
        )
        inquiry = (
            await stub.CreateInquiry(
                pb.CreateInquiryRequest(
                    idempotency_key=uuid.uuid4().hex,
                    purpose="juvenile_prevention",
                    reason="preventive work",
                    subject_full_name=NAME,
                    subject_birth_date="2015-08-08",
                ),
                metadata=md("police.irk"),
            )
        ).inquiry
        await stub.AnswerInquiry(
            pb.AnswerInquiryRequest(inquiry_id=inquiry.id), metadata=md("registry.irk")
        )
    removal = await removed(stub, md, family.id, date(2026, 4, 1))
    await removed(stub, md, later.id, date(2026, 6, 1))
    await all_published(registry_app)

    needles = [
        family.id,
        change.id,
        removal.id,
        *(d.id for d in family.decisions),
        *(m.id for m in family.minors),
        *(m.id for m in family.relatives),
        NAME,
        DOCUMENT,
    ]
    assert await mentions(registry_app, needles)  # the check finds the family while it is there

    # Removed 1 April 2026 at 11:00: kept through 1 April 2031, for auditors only.
    await registry_app.sweeper.sweep_once(now=datetime(2031, 4, 1, 23, tzinfo=IRKUTSK))
    assert await read(stub, md, family.id) == grpc.StatusCode.OK

    await registry_app.sweeper.sweep_once(now=datetime(2031, 4, 2, 0, 30, tzinfo=IRKUTSK))
    assert await read(stub, md, family.id) == grpc.StatusCode.NOT_FOUND
    assert await mentions(registry_app, needles) == {}
    assert await read(stub, md, later.id) == grpc.StatusCode.OK  # its period runs to June

    # What stays: the erasure in the access log, the request (without the answer or the name).
    assert registry_app.wiring is not None
    async with registry_app.wiring.engine.connect() as conn:
        erasures = (
            (
                await conn.execute(
                    sa.text("SELECT purpose FROM audit_log WHERE action = 'erase' AND entity = :e"),
                    {"e": f"family/{family.id}"},
                )
            )
            .scalars()
            .all()
        )
    assert erasures == ["REG-6/retention: retention period over"]
    kept = (
        await stub.GetInquiry(
            pb.GetInquiryRequest(inquiry_id=inquiry.id), metadata=md("police.irk")
        )
    ).inquiry
    assert kept.purpose == "juvenile_prevention" and not kept.answer.families
