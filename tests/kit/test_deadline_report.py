"""MON-3: on-time share per rule and per agency, counted in SQL on the real PostgreSQL.

The period is `[from, to)` at local midnights of the territory (kit `deadline_report`); the
share is met_on_time / (met_on_time + met_late + open_overdue). The obligations are of INT-3
(primary assessment, the center) and PLN-6 (designating a responsible person, an agency).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kamqor.auth import Principal
from kamqor.db import UnitOfWork, make_engine, migrate, unit_of_work
from kamqor.deadline_report import Counts, DeadlineRow, count_deadlines, period, report_deadlines
from kamqor.errors import Forbidden, Invalid
from kamqor.ids import new_id
from kamqor.obligations import Obligation, ObligationState
from kamqor.profiles import get_profile
from shelter.app import MIGRATIONS
from tests.support.services import fresh_database

ZONE = get_profile("kz").zone
START = datetime(2026, 3, 1, tzinfo=ZONE)  # from = 2026-03-01, inclusive
END = datetime(2026, 4, 1, tzinfo=ZONE)  # to = 2026-04-01, exclusive
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=ZONE)
OVERDUE = datetime(2026, 3, 10, 18, 0, tzinfo=ZONE)  # before NOW
NOT_DUE = datetime(2026, 3, 25, 18, 0, tzinfo=ZONE)  # after NOW
CENTER, SCHOOL = "fc-ast-1", "edu-ast-1"
PRIMARY, DESIGNATE = "INT-3/primary", "PLN-6"


def obligation(
    rule: str,
    agency: str,
    due_at: datetime,
    *,
    met: timedelta | None = None,
    state: ObligationState | None = None,
    territory: str = "kz-ast",
) -> Obligation:
    """An obligation due at `due_at`; met `met` after its due time (negative: early)."""
    met_at = due_at + met if met is not None else None
    return Obligation(
        id=new_id(),
        rule=rule,
        subject=f"case/{new_id()}",
        territory=territory,
        responsible_agency=agency,
        arose_at=due_at - timedelta(days=3),
        due_at=due_at,
        approaching_at=due_at - timedelta(days=1),
        next_check_at=None if met_at else due_at,
        state=state or (ObligationState.MET if met_at else ObligationState.OPEN),
        met_at=met_at,
        on_time=None if met_at is None else met_at <= due_at,
        profile="kz",
        profile_version="test",
        calendar_version="test",
    )


EARLY, LATE = -timedelta(hours=2), timedelta(hours=5)
DATA = [
    # INT-3/primary at the center: 3 on time (one due exactly at the period's start), 1 late,
    # 1 open past its due time, 2 open not yet due.
    obligation(PRIMARY, CENTER, START, met=EARLY),
    obligation(PRIMARY, CENTER, OVERDUE, met=timedelta(0)),  # at the due time is on time
    obligation(PRIMARY, CENTER, NOT_DUE, met=EARLY),
    obligation(PRIMARY, CENTER, OVERDUE, met=LATE),
    obligation(PRIMARY, CENTER, OVERDUE),
    obligation(PRIMARY, CENTER, NOT_DUE),
    obligation(PRIMARY, CENTER, NOT_DUE),
    # INT-3/primary at the school: 1 on time.
    obligation(PRIMARY, SCHOOL, OVERDUE, met=EARLY),
    # PLN-6 at the center: 2 late.
    obligation(DESIGNATE, CENTER, OVERDUE, met=LATE),
    obligation(DESIGNATE, CENTER, NOT_DUE - timedelta(days=10), met=LATE),
    # PLN-6 at the school: 1 open overdue, 1 open not due.
    obligation(DESIGNATE, SCHOOL, OVERDUE),
    obligation(DESIGNATE, SCHOOL, NOT_DUE),
    # Not counted: due exactly at the period's end, before its start, cancelled, elsewhere.
    obligation(PRIMARY, CENTER, END, met=LATE),
    obligation(PRIMARY, CENTER, START - timedelta(microseconds=1), met=LATE),
    obligation(PRIMARY, CENTER, OVERDUE, state=ObligationState.CANCELLED),
    obligation(PRIMARY, "fc-ala-1", OVERDUE, met=LATE, territory="kz-ala"),
]
EXPECTED = [
    DeadlineRow(PRIMARY, CENTER, Counts(met_on_time=3, met_late=1, open_overdue=1, open_not_due=2)),
    DeadlineRow(PRIMARY, SCHOOL, Counts(met_on_time=1)),
    DeadlineRow(DESIGNATE, CENTER, Counts(met_late=2)),
    DeadlineRow(DESIGNATE, SCHOOL, Counts(open_overdue=1, open_not_due=1)),
]
# Sorted by term key: "INT-3/primary" < "PLN-6", then by agency.
EXPECTED.sort(key=lambda r: (r.rule, r.responsible_agency))


def principal(*roles: str, territory: str = "kz-ast") -> Principal:
    return Principal(
        subject=new_id(),
        username="analyst",
        roles=frozenset(roles),
        agency="min-ast-1",
        agency_type="ministry",
        territory=territory,
        client_id="kamqor-console",
        token="t",
    )


@pytest.fixture(scope="module")
async def uow(postgres) -> AsyncIterator[UnitOfWork]:  # type: ignore[no-untyped-def]
    engine: AsyncEngine = make_engine(fresh_database(postgres, "report"))
    await migrate(engine, MIGRATIONS)
    work = unit_of_work(engine)
    async with work() as session:
        session.add_all(DATA)
    yield work
    await engine.dispose()


async def test_mon3_counts_per_rule_and_agency(uow: UnitOfWork) -> None:
    async with uow() as session:
        rows = await count_deadlines(session, territory="kz-ast", start=START, end=END, now=NOW)
    assert rows == EXPECTED
    totals = [(r.counts.total, r.counts.on_time_share) for r in rows]
    assert totals == [(1, 1.0), (7, 3 / 5), (2, 0.0), (2, 0.0)]  # edu-ast-1 < fc-ast-1


async def test_mon3_report_uses_local_midnights_of_the_territory(uow: UnitOfWork) -> None:
    async with uow() as session:
        report = await report_deadlines(
            session,
            principal=principal("analyst"),
            from_date="2026-03-01",
            to_date="2026-04-01",
            now=NOW,
        )
    assert (report.territory, report.start, report.end, report.as_of) == ("kz-ast", START, END, NOW)
    assert report.rows == EXPECTED


async def test_mon3_other_territory_sees_only_its_own(uow: UnitOfWork) -> None:
    async with uow() as session:
        report = await report_deadlines(
            session,
            principal=principal("center-head", territory="kz-ala"),
            from_date="2026-03-01",
            to_date="2026-04-01",
            now=NOW,
        )
    assert report.rows == [DeadlineRow(PRIMARY, "fc-ala-1", Counts(met_late=1))]


@pytest.mark.parametrize("role", ["analyst", "center-head", "auditor"])
async def test_mon3_readers(uow: UnitOfWork, role: str) -> None:
    async with uow() as session:
        report = await report_deadlines(
            session, principal=principal(role), from_date="2026-03-01", to_date="2026-03-02"
        )
    assert [r.counts.total for r in report.rows] == [1]  # the one due at the start


async def test_mon3_refuses_others(uow: UnitOfWork) -> None:
    async with uow() as session:
        with pytest.raises(Forbidden):
            await report_deadlines(
                session,
                principal=principal("case-worker"),
                from_date="2026-03-01",
                to_date="2026-04-01",
            )
        with pytest.raises(Forbidden):
            await report_deadlines(
                session,
                principal=principal("analyst"),
                from_date="2026-03-01",
                to_date="2026-04-01",
                territory="kz-ala",
            )


@pytest.mark.parametrize(
    ("from_date", "to_date", "field"),
    [
        ("2026-03-01", "2026-03-01", "to"),
        ("2026-03-02", "2026-03-01", "to"),
        ("2025-01-01", "2026-01-03", "to"),  # 367 days
        ("2026-13-01", "2026-04-01", "from"),
        ("2026-03-01", "", "to"),
    ],
)
async def test_mon3_bad_period_names_the_field(
    uow: UnitOfWork, from_date: str, to_date: str, field: str
) -> None:
    async with uow() as session:
        with pytest.raises(Invalid) as caught:
            await report_deadlines(
                session, principal=principal("analyst"), from_date=from_date, to_date=to_date
            )
    assert caught.value.field == field


def test_mon3_period_of_a_leap_year_is_allowed() -> None:
    start, end = period(date(2024, 1, 1), date(2025, 1, 1), zone=ZONE)  # 366 days
    assert (end - start) == timedelta(days=366)


def test_mon3_share_is_none_until_something_is_decided() -> None:
    assert Counts(open_not_due=3).on_time_share is None
    assert Counts(met_on_time=1, open_overdue=1, open_not_due=5).on_time_share == 0.5
    assert (Counts(met_on_time=1) + Counts(met_late=1)).total == 2
