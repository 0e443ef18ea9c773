"""Data bank tables and the queries on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime
from registry.rules import ChangeState, DecisionKind, DecisionState, FamilyState


class Family(SQLModel, table=True):
    __tablename__ = "families"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50, index=True)
    state: str = Field(default=FamilyState.PENDING, max_length=20, index=True)
    responsible_agency_id: str = Field(max_length=100)
    responsible_body: str = Field(max_length=500)
    review_on: date
    created_at: datetime = Field(sa_type=UTCDateTime)
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deregistered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FamilyMember(SQLModel, table=True):
    __tablename__ = "family_members"

    id: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="families.id", index=True)
    position: int
    is_minor: bool
    full_name: str = Field(max_length=200)
    # casefolded, spaces collapsed: what the name search matches against
    search_name: str = Field(max_length=200, index=True)
    relation: str = Field(default="", max_length=200)
    birth_date: date = Field(index=True)
    birth_place: str = Field(max_length=500)
    registered_address: str = Field(default="", max_length=500)
    actual_address: str = Field(max_length=500)
    document_kind: str = Field(default="", max_length=30)
    document_series: str = Field(default="", max_length=20)
    document_number: str = Field(default="", max_length=50)
    document_issued_on: date | None = None
    disability: bool = False
    work_or_study: str = Field(default="", max_length=500)


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"

    id: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="families.id", index=True)
    territory: str = Field(max_length=50)
    kind: str = Field(max_length=20)
    commission_id: str = Field(max_length=100)
    decided_on: date
    number: str = Field(max_length=100)
    members_present: int
    votes_for: int
    votes_against: int
    prevention_bodies_heard: bool
    minor_opinion_heard: bool
    parents_opinion_heard: bool
    minor_not_heard_reason: str = Field(default="", max_length=500)
    documents_reviewed: list[str] = Field(default_factory=list, sa_type=JSONB)
    # Taken at a repeat review (REG-3); a keeping review names the next one.
    repeat_review: bool = False
    next_review_on: date | None = None
    # The session it was taken at and every member's vote (REG-2); empty for decisions recorded
    # with the session's totals only.
    session_id: str = Field(default="", max_length=64, index=True)
    ballots: list[dict[str, object]] = Field(default_factory=list, sa_type=JSONB)
    grounds: str = Field(max_length=4000)
    state: str = Field(default=DecisionState.RECORDED, max_length=20)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    # The commission secretary's act of sending it to the registry office (REG-4, REG-6).
    sent_by: str = Field(default="", max_length=100)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    office_id: str = Field(default="", max_length=100)
    received_by: str = Field(default="", max_length=100)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    entered_by: str = Field(default="", max_length=100)
    entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommissionSession(SQLModel, table=True):
    """A session of a district (city) commission (REG-2)."""

    __tablename__ = "commission_sessions"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50, index=True)
    commission_id: str = Field(max_length=100)
    held_on: date
    composition_size: int
    quorum: int
    # [{"member_id", "full_name"}]: the officials present, not a family's personal data
    members: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONB)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


async def decisions_of_session(session: AsyncSession, session_id: str) -> list[Decision]:
    query = (
        select(Decision)
        .where(Decision.session_id == session_id)
        .order_by(col(Decision.recorded_at), col(Decision.id))
    )
    return list((await session.exec(query)).all())


async def office_inbox(
    session: AsyncSession, *, territory: str, after: str, limit: int
) -> list[Decision]:
    """Decisions of the territory waiting for its registry office: sent and not received, or
    received and not entered (REG-4, REG-6); oldest first (ids are time-ordered)."""
    query = (
        select(Decision)
        .where(Decision.territory == territory)
        .where(col(Decision.state).in_([DecisionState.SENT, DecisionState.RECEIVED]))
        .where(col(Decision.kind).in_([DecisionKind.REGISTRATION, DecisionKind.DEREGISTRATION]))
    )
    if after:
        query = query.where(col(Decision.id) > after)
    return list((await session.exec(query.order_by(col(Decision.id)).limit(limit))).all())


class FamilyChange(SQLModel, table=True):
    """A change in a family's data reported by the responsible body (REG-5)."""

    __tablename__ = "family_changes"

    id: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="families.id", index=True)
    territory: str = Field(max_length=50, index=True)
    changed_on: date
    # [{"member_id", "field", "value"}]: personal data, read like the family's (REG-9)
    fields: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONB)
    state: str = Field(default=ChangeState.REPORTED, max_length=20)
    reported_by: str = Field(max_length=100)
    reporting_agency: str = Field(max_length=100)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    entered_by: str = Field(default="", max_length=100)
    entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FieldHistory(SQLModel, table=True):
    """One entered change of one field: the bank keeps what each field was (REG-5)."""

    __tablename__ = "family_field_history"

    id: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="families.id", index=True)
    member_id: str = Field(default="", max_length=64)
    field: str = Field(max_length=50)
    old_value: str = Field(max_length=500)
    new_value: str = Field(max_length=500)
    change_id: str = Field(foreign_key="family_changes.id")
    entered_by: str = Field(max_length=100)
    entered_at: datetime = Field(sa_type=UTCDateTime)


async def history_of(session: AsyncSession, family_id: str) -> list[FieldHistory]:
    query = (
        select(FieldHistory)
        .where(FieldHistory.family_id == family_id)
        .order_by(col(FieldHistory.entered_at), col(FieldHistory.id))
    )
    return list((await session.exec(query)).all())


async def reported_changes(
    session: AsyncSession, *, territory: str, limit: int
) -> list[FamilyChange]:
    query = (
        select(FamilyChange)
        .where(FamilyChange.territory == territory)
        .where(FamilyChange.state == ChangeState.REPORTED)
        .order_by(col(FamilyChange.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def changes_of(
    session: AsyncSession, family_id: str, *, state: ChangeState
) -> list[FamilyChange]:
    query = (
        select(FamilyChange)
        .where(FamilyChange.family_id == family_id)
        .where(FamilyChange.state == state)
        .with_for_update()
    )
    return list((await session.exec(query)).all())


async def lock_change(session: AsyncSession, change_id: str) -> FamilyChange | None:
    query = select(FamilyChange).where(FamilyChange.id == change_id).with_for_update()
    return (await session.exec(query)).first()


async def lock_family(session: AsyncSession, family_id: str) -> Family | None:
    query = select(Family).where(Family.id == family_id).with_for_update()
    return (await session.exec(query)).first()


async def lock_decision(session: AsyncSession, decision_id: str) -> Decision | None:
    query = select(Decision).where(Decision.id == decision_id).with_for_update()
    return (await session.exec(query)).first()


async def members_of(session: AsyncSession, family_id: str) -> list[FamilyMember]:
    query = (
        select(FamilyMember)
        .where(FamilyMember.family_id == family_id)
        .order_by(col(FamilyMember.position))
    )
    return list((await session.exec(query)).all())


async def members_of_many(
    session: AsyncSession, family_ids: list[str]
) -> dict[str, list[FamilyMember]]:
    if not family_ids:
        return {}
    query = (
        select(FamilyMember)
        .where(col(FamilyMember.family_id).in_(family_ids))
        .order_by(col(FamilyMember.family_id), col(FamilyMember.position))
    )
    out: dict[str, list[FamilyMember]] = {f: [] for f in family_ids}
    for row in (await session.exec(query)).all():
        out[row.family_id].append(row)
    return out


async def decisions_of(session: AsyncSession, family_id: str) -> list[Decision]:
    query = (
        select(Decision).where(Decision.family_id == family_id).order_by(col(Decision.recorded_at))
    )
    return list((await session.exec(query)).all())


async def pending_deregistration(session: AsyncSession, family_id: str) -> bool:
    query = (
        select(Decision.id)
        .where(Decision.family_id == family_id)
        .where(Decision.kind == DecisionKind.DEREGISTRATION)
        .where(Decision.state != DecisionState.ENTERED)
    )
    return (await session.exec(query)).first() is not None


# Trigram search (migration 0005): each word of the query must be this similar to a whole word
# of the member's normalised name (`<<%`, pg_trgm's strict word similarity, which the GIN index
# answers). Two letters swapped in an 8-letter surname (`маскимов` for `максимов`) score 0.38;
# a shared ending alone (`-ович` of every patronymic, `-енко`) stays below.
NAME_SIMILARITY = 0.36
# Words of a query compared (surname, given name, patronymic and one more).
MAX_NAME_WORDS = 4


async def search_by_name(
    session: AsyncSession,
    *,
    territory: str,
    name: str,
    birth_date: date | None,
    offset: int,
    limit: int,
) -> list[Family]:
    """Registered families of a territory with a member whose name is like `name`, the most
    similar first (then by id); removed ones never (REG-6). The database normalises both sides
    (`registry_name_key`), so the GIN trigram index on `family_members.name_key` answers."""
    conn = await session.connection()
    await conn.execute(
        text(f"SET LOCAL pg_trgm.strict_word_similarity_threshold = {NAME_SIMILARITY}")
    )
    # Every word of the query must match the member's name (two names that share a surname
    # do not match each other's first names); the score sums the words' similarities.
    words = name.split()[:MAX_NAME_WORDS]
    keys = [f"registry_name_key(:w{i})" for i in range(len(words))]
    ranked = text(
        "SELECT m.family_id, max("
        + " + ".join(f"strict_word_similarity({k}, m.name_key)" for k in keys)
        + ") AS score FROM family_members m JOIN families f ON f.id = m.family_id WHERE "
        + " AND ".join(f"{k} <<% m.name_key" for k in keys)
        + " AND f.territory = :territory AND f.state = :state "
        + ("AND m.birth_date = :birth_date " if birth_date is not None else "")
        + "GROUP BY m.family_id ORDER BY score DESC, m.family_id LIMIT :limit OFFSET :offset"
    )
    params: dict[str, object] = {
        **{f"w{i}": w for i, w in enumerate(words)},
        "territory": territory,
        "state": FamilyState.REGISTERED.value,
        "limit": limit,
        "offset": offset,
    }
    if birth_date is not None:
        params["birth_date"] = birth_date
    ids = [row[0] for row in (await conn.execute(ranked, params)).all()]
    if not ids:
        return []
    found = {f.id: f for f in (await session.exec(select(Family).where(col(Family.id).in_(ids))))}
    return [found[i] for i in ids]


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(
    session: AsyncSession,
    *,
    territory: str,
    name_key: str,
    birth_date: date | None,
    after: str,
    limit: int,
) -> list[Family]:
    """Registered families of a territory with a member matching; removed ones never (REG-6)."""
    members = select(FamilyMember.family_id)
    if name_key:
        members = members.where(col(FamilyMember.search_name).like(_like(name_key), escape="\\"))
    if birth_date is not None:
        members = members.where(FamilyMember.birth_date == birth_date)
    query = (
        select(Family)
        .where(Family.territory == territory)
        .where(Family.state == FamilyState.REGISTERED)
    )
    if name_key or birth_date is not None:
        query = query.where(col(Family.id).in_(members))
    if after:
        query = query.where(col(Family.id) > after)
    return list((await session.exec(query.order_by(col(Family.id)).limit(limit))).all())
