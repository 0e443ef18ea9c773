"""Tables of the data bank's requests (REG-8), quarterly reports (REG-7) and the queries that
count the bank as it stood at a quarter's end (MON-5)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime
from registry.models import Decision, Family, FamilyMember
from registry.rules import DecisionKind, FamilyState


class Inquiry(SQLModel, table=True):
    """A prevention body's request for information (REG-8)."""

    __tablename__ = "inquiries"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    requester_agency: str = Field(max_length=100, index=True)
    requester_agency_type: str = Field(max_length=50)
    requested_by: str = Field(max_length=100)
    purpose: str = Field(max_length=50)
    reason: str = Field(max_length=500)
    # The person asked about: personal data, read by the requester and the office only.
    subject_full_name: str = Field(max_length=200)
    subject_birth_date: date
    state: str = Field(max_length=20)
    received_at: datetime = Field(sa_type=UTCDateTime)
    office_id: str = Field(default="", max_length=100)
    answered_by: str = Field(default="", max_length=100)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The answer as composed, only the fields the purpose allows (REG-8).
    answer: dict[str, object] = Field(default_factory=dict, sa_type=JSONB)
    # The families the answer disclosed: what the requester's reads are audited against.
    family_ids: list[str] = Field(default_factory=list, sa_type=JSONB)


class QuarterReport(SQLModel, table=True):
    """A submitted quarterly report (REG-7): counts only, frozen when submitted."""

    __tablename__ = "quarter_reports"
    __table_args__ = (sa.UniqueConstraint("territory", "quarter", "level", "agency"),)

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    quarter: str = Field(max_length=7)
    level: str = Field(max_length=20)
    agency: str = Field(max_length=100)
    families_on_record: int
    minors_on_record: int
    families_registered: int
    families_deregistered: int
    office_reports: int = 0
    as_of: datetime = Field(sa_type=UTCDateTime)
    submitted_by: str = Field(max_length=100)
    submitted_at: datetime = Field(sa_type=UTCDateTime)


class QuarterOpened(SQLModel, table=True):
    """The sweeper opened a quarter's REG-7 terms for a territory: once, across replicas."""

    __tablename__ = "quarters_opened"

    territory: str = Field(primary_key=True, max_length=50)
    quarter: str = Field(primary_key=True, max_length=7)
    opened_at: datetime = Field(sa_type=UTCDateTime)


async def claim_quarter(
    session: AsyncSession, *, territory: str, quarter: str, now: datetime
) -> bool:
    """True for the one caller that first marks the quarter opened."""
    table = QuarterOpened.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(territory=territory, quarter=quarter, opened_at=now)
        .on_conflict_do_nothing()
        .returning(table.c.territory)
    )
    conn = await session.connection()
    return (await conn.execute(stmt)).first() is not None


async def matching_families(
    session: AsyncSession, *, territory: str, name_key: str, birth_date: date
) -> list[Family]:
    """Families on record with a member of exactly that name and birth date (REG-8)."""
    members = (
        select(FamilyMember.family_id)
        .where(FamilyMember.search_name == name_key)
        .where(FamilyMember.birth_date == birth_date)
    )
    query = (
        select(Family)
        .where(Family.territory == territory)
        .where(Family.state == FamilyState.REGISTERED)
        .where(col(Family.id).in_(members))
        .order_by(col(Family.id))
    )
    return list((await session.exec(query)).all())


async def open_inquiries(
    session: AsyncSession, *, territory: str, after: str, limit: int
) -> list[Inquiry]:
    query = select(Inquiry).where(Inquiry.territory == territory).where(Inquiry.state == "open")
    if after:
        query = query.where(col(Inquiry.id) > after)
    return list((await session.exec(query.order_by(col(Inquiry.id)).limit(limit))).all())


async def inquiries_of(
    session: AsyncSession, *, agency: str, before: str, limit: int
) -> list[Inquiry]:
    query = select(Inquiry).where(Inquiry.requester_agency == agency)
    if before:
        query = query.where(col(Inquiry.id) < before)
    return list((await session.exec(query.order_by(col(Inquiry.id).desc()).limit(limit))).all())


async def lock_inquiry(session: AsyncSession, inquiry_id: str) -> Inquiry | None:
    return (
        await session.exec(select(Inquiry).where(Inquiry.id == inquiry_id).with_for_update())
    ).first()


async def known_office(session: AsyncSession, territory: str) -> str:
    """The registry office of a territory as the bank knows it: the one that received its
    latest decision ('' before any)."""
    query = (
        select(Decision.office_id)
        .where(Decision.territory == territory)
        .where(Decision.office_id != "")
        .order_by(col(Decision.received_at).desc())
        .limit(1)
    )
    return (await session.exec(query)).first() or ""


def _entered_by(office: str) -> sa.ColumnElement[bool]:
    """Families whose registration the office entered."""
    return col(Family.id).in_(
        select(Decision.family_id)
        .where(Decision.kind == DecisionKind.REGISTRATION)
        .where(Decision.office_id == office)
    )


async def quarter_counts(
    session: AsyncSession,
    *,
    territory: str,
    start: datetime,
    end: datetime,
    last_day: date,
    office: str = "",
) -> tuple[int, int, int, int]:
    """(families on record at `end`, their minors under 18 on `last_day`, families entered in
    [start, end), families removed in [start, end)): the bank as it stood, from its own dates."""
    base = select(Family.id).where(Family.territory == territory)
    if office:
        base = base.where(_entered_by(office))
    on_record = (
        base.where(col(Family.registered_at) < end)
        .where(sa.or_(col(Family.deregistered_at).is_(None), col(Family.deregistered_at) >= end))
        .subquery()
    )
    families = (await session.exec(select(sa.func.count()).select_from(on_record))).one()
    adult_born_by = last_day.replace(year=last_day.year - 18)  # a quarter never ends 29 Feb
    minors = (
        await session.exec(
            select(sa.func.count())
            .select_from(FamilyMember)
            .where(col(FamilyMember.family_id).in_(select(on_record.c.id)))
            .where(FamilyMember.is_minor)
            # Under 18 on the quarter's last day: born after that day 18 years back.
            .where(col(FamilyMember.birth_date) > adult_born_by)
        )
    ).one()
    registered = (
        await session.exec(
            select(sa.func.count()).select_from(
                base.where(col(Family.registered_at) >= start)
                .where(col(Family.registered_at) < end)
                .subquery()
            )
        )
    ).one()
    deregistered = (
        await session.exec(
            select(sa.func.count()).select_from(
                base.where(col(Family.deregistered_at) >= start)
                .where(col(Family.deregistered_at) < end)
                .subquery()
            )
        )
    ).one()
    return families, minors, registered, deregistered


async def reports_of(session: AsyncSession, *, territory: str, quarter: str) -> list[QuarterReport]:
    query = (
        select(QuarterReport)
        .where(QuarterReport.territory == territory)
        .where(QuarterReport.quarter == quarter)
        .order_by(col(QuarterReport.level).desc(), col(QuarterReport.agency))
    )
    return list((await session.exec(query)).all())


async def report_of(
    session: AsyncSession, *, territory: str, quarter: str, level: str, agency: str
) -> QuarterReport | None:
    """The agency's report of the quarter, if any; holds the report's key until the transaction
    ends, so two submissions at once make one report, not a unique-key error."""
    conn = await session.connection()
    await conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"quarter-report:{territory}:{quarter}:{level}:{agency}"},
    )
    query = (
        select(QuarterReport)
        .where(QuarterReport.territory == territory)
        .where(QuarterReport.quarter == quarter)
        .where(QuarterReport.level == level)
        .where(QuarterReport.agency == agency)
    )
    return (await session.exec(query)).first()
