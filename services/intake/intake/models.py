"""Journal tables and the queries on them. Entries are append-only (INT-2): the migration
installs triggers that refuse UPDATE and DELETE on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, UniqueConstraint, or_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.db import UTCDateTime


class Appeal(SQLModel, table=True):
    __tablename__ = "appeals"
    # The journal's orders have their indexes in migration 0004: (territory, registered_at, id)
    # and (territory, journal_number COLLATE "C", id).
    __table_args__ = (UniqueConstraint("center_id", "year", "sequence"),)

    id: str = Field(primary_key=True)
    journal_number: str = Field(max_length=120, unique=True)
    center_id: str = Field(max_length=100)
    year: int
    sequence: int
    territory: str = Field(max_length=50, index=True)
    channel: str = Field(max_length=30)
    registered_at: datetime = Field(sa_type=UTCDateTime)
    summary: str = Field(max_length=4000)
    threat_to_life: bool
    domestic_violence: bool
    registered_by: str = Field(max_length=100)


class AppealPerson(SQLModel, table=True):
    __tablename__ = "appeal_persons"

    id: str = Field(primary_key=True)
    appeal_id: str = Field(foreign_key="appeals.id", index=True)
    position: int
    full_name: str = Field(max_length=200)
    relation: str = Field(max_length=20)
    birth_date: date | None = None


class JournalCounter(SQLModel, table=True):
    __tablename__ = "journal_counters"

    center_id: str = Field(primary_key=True, max_length=100)
    year: int = Field(primary_key=True)
    last: int = 0


# One statement, the year's first entry included: a concurrent first entry waits for this one's
# row instead of failing on the key.
_BUMP = text(
    "INSERT INTO journal_counters (center_id, year, last) VALUES (:c, :y, 1) "
    "ON CONFLICT (center_id, year) DO UPDATE SET last = journal_counters.last + 1 "
    "RETURNING last"
)


async def next_sequence(session: AsyncSession, *, center_id: str, year: int) -> int:
    """The next journal number of the center's year. The counter's row lock serialises
    concurrent entries until the transaction ends, which keeps the numbers without gaps (a
    rolled-back entry gives its number back): take it last, just before the entry's rows are
    inserted and committed (`service.register_appeal`)."""
    conn = await session.connection()
    return int((await conn.execute(_BUMP, {"c": center_id, "y": year})).scalar_one())


async def persons_of(session: AsyncSession, appeal_ids: list[str]) -> dict[str, list[AppealPerson]]:
    if not appeal_ids:
        return {}
    rows = (
        await session.exec(
            select(AppealPerson)
            .where(col(AppealPerson.appeal_id).in_(appeal_ids))
            .order_by(col(AppealPerson.position))
        )
    ).all()
    out: dict[str, list[AppealPerson]] = {a: [] for a in appeal_ids}
    for row in rows:
        out[row.appeal_id].append(row)
    return out


@dataclass(frozen=True)
class JournalFilter:
    """Every set field narrows the journal; `registered_since` inclusive, `registered_until`
    exclusive."""

    channel: str | None = None
    threat_to_life: bool | None = None
    registered_since: datetime | None = None
    registered_until: datetime | None = None
    # The family's records (merges followed) whose appeals are wanted.
    family_ids: tuple[str, ...] | None = None
    case_id: str | None = None


def sort_key(order: str) -> paging.Column:
    """The column an order sorts by; journal numbers compare bytewise, whatever the locale."""
    if order == "journal_number":
        return col(Appeal.journal_number).collate("C")
    return col(Appeal.registered_at)


async def page(
    session: AsyncSession,
    *,
    territory: str,
    where: JournalFilter,
    order: str,
    descending: bool,
    cursor: paging.Cursor | None,
    limit: int,
) -> list[Appeal]:
    """One page of a territory's journal in `order` (`registered_at` or `journal_number`), the
    id breaking ties; keyset pagination after `cursor`."""
    query = select(Appeal).where(Appeal.territory == territory)
    if where.channel is not None:
        query = query.where(Appeal.channel == where.channel)
    if where.threat_to_life is not None:
        query = query.where(Appeal.threat_to_life == where.threat_to_life)
    if where.registered_since is not None:
        query = query.where(col(Appeal.registered_at) >= where.registered_since)
    if where.registered_until is not None:
        query = query.where(col(Appeal.registered_at) < where.registered_until)
    if where.family_ids is not None:
        query = query.where(
            col(Appeal.id).in_(
                select(AppealFamily.appeal_id).where(
                    col(AppealFamily.family_id).in_(where.family_ids)
                )
            )
        )
    if where.case_id is not None:
        query = query.where(
            col(Appeal.id).in_(
                select(CaseAppeal.appeal_id).where(CaseAppeal.case_id == where.case_id)
            )
        )
    key, row_id = sort_key(order), col(Appeal.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=descending))
    ordering = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    return list((await session.exec(query.order_by(*ordering).limit(limit))).all())


# People and families (migration 0006). Families are never rewritten by a merge: the merged
# one points at the family it went into (`merged_into`), so the merge can be undone.


class Family(SQLModel, table=True):
    __tablename__ = "family_records"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    merged_into: str | None = Field(default=None, foreign_key="family_records.id")


class FamilyPerson(SQLModel, table=True):
    """A member of a family; `name_key` (the normalised name, `kamqor.names`) is generated by
    the database and is not mapped here."""

    __tablename__ = "family_persons"

    id: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="family_records.id")
    territory: str = Field(max_length=50)
    full_name: str = Field(max_length=200)
    relation: str = Field(max_length=20)
    birth_date: date | None = None
    iin: str = Field(default="", max_length=12)
    snils: str = Field(default="", max_length=11)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersonDocument(SQLModel, table=True):
    __tablename__ = "person_documents"

    id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="family_persons.id")
    kind: str = Field(max_length=30)
    number: str = Field(max_length=40)


class AppealFamily(SQLModel, table=True):
    """The family an appeal is about, and how it was found: `identifier` (an IIN/SNILS already
    known), `operator` (chosen by the operator) or `new`."""

    __tablename__ = "appeal_families"

    appeal_id: str = Field(primary_key=True, foreign_key="appeals.id")
    family_id: str = Field(foreign_key="family_records.id")
    matched_by: str = Field(max_length=20)


class AppealPersonLink(SQLModel, table=True):
    __tablename__ = "appeal_person_links"

    appeal_person_id: str = Field(primary_key=True, foreign_key="appeal_persons.id")
    person_id: str = Field(foreign_key="family_persons.id")


class FamilyMerge(SQLModel, table=True):
    __tablename__ = "family_merges"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    kept_family_id: str = Field(foreign_key="family_records.id")
    merged_family_id: str = Field(foreign_key="family_records.id")
    reason: str = Field(max_length=1000)
    merged_at: datetime = Field(sa_type=UTCDateTime)
    merged_by: str = Field(max_length=100)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: str | None = Field(default=None, max_length=100)


# A likely match: the normalised names this similar (pg_trgm `similarity`, 0..1) and the same
# birth date. `Айгерим Нурлановна` and `Aigerim Nurlanovna` share a key (1.0); one letter off in
# a three-word name stays above.
LIKELY_SIMILARITY = 0.5


async def persons_with_identifiers(
    session: AsyncSession, *, territory: str, iins: list[str], snilses: list[str]
) -> list[FamilyPerson]:
    """Members of a territory's families known by one of these numbers."""
    if not iins and not snilses:
        return []
    query = select(FamilyPerson).where(FamilyPerson.territory == territory)
    conditions = []
    if iins:
        conditions.append(col(FamilyPerson.iin).in_(iins))
    if snilses:
        conditions.append(col(FamilyPerson.snils).in_(snilses))
    query = query.where(or_(*conditions)).order_by(
        col(FamilyPerson.created_at), col(FamilyPerson.id)
    )
    return list((await session.exec(query)).all())


@dataclass(frozen=True)
class LikelyRow:
    index: int  # of the person asked about
    family_id: str
    merged_into: str | None
    full_name: str
    birth_date: date
    score: float


# The most similar members returned for one registration, whatever the number of persons.
MAX_LIKELY = 10


async def likely_persons(
    session: AsyncSession, *, territory: str, persons: list[tuple[int, str, date]]
) -> list[LikelyRow]:
    """Members of the territory's families born the day a person asked about was (index,
    name, birth date) whose name is like theirs, the most similar first; one statement for
    every person (the birth-date index narrows, the similarity filters)."""
    if not persons:
        return []
    conn = await session.connection()
    rows = await conn.execute(
        text(
            "SELECT q.idx, p.family_id, f.merged_into, p.full_name, p.birth_date, "
            "similarity(p.name_key, intake_name_key(q.name)) AS score "
            "FROM unnest(CAST(:idx AS int[]), CAST(:names AS text[]), CAST(:births AS date[])) "
            "AS q(idx, name, birth) "
            "JOIN family_persons p ON p.territory = :territory AND p.birth_date = q.birth "
            "JOIN family_records f ON f.id = p.family_id "
            "WHERE similarity(p.name_key, intake_name_key(q.name)) >= :threshold "
            "ORDER BY score DESC, p.id LIMIT :limit"
        ),
        {
            "idx": [i for i, _, _ in persons],
            "names": [n for _, n, _ in persons],
            "births": [b for _, _, b in persons],
            "territory": territory,
            "threshold": LIKELY_SIMILARITY,
            "limit": MAX_LIKELY,
        },
    )
    return [LikelyRow(r[0], r[1], r[2], r[3], r[4], float(r[5])) for r in rows.all()]


async def family_root(session: AsyncSession, family_id: str) -> Family | None:
    """The family a record now belongs to, following merges."""
    family = await session.get(Family, family_id)
    seen: set[str] = set()
    while family is not None and family.merged_into is not None and family.id not in seen:
        seen.add(family.id)
        family = await session.get(Family, family.merged_into)
    return family


async def merged_into_tree(session: AsyncSession, family_id: str) -> list[str]:
    """`family_id` and every family merged into it, directly or not (merges not undone)."""
    conn = await session.connection()
    rows = await conn.execute(
        text(
            "WITH RECURSIVE tree(id) AS (SELECT CAST(:id AS varchar) UNION "
            "SELECT f.id FROM family_records f JOIN tree t ON f.merged_into = t.id) "
            "SELECT id FROM tree"
        ),
        {"id": family_id},
    )
    return [r[0] for r in rows.all()]


async def members_of(session: AsyncSession, family_ids: list[str]) -> list[FamilyPerson]:
    query = (
        select(FamilyPerson)
        .where(col(FamilyPerson.family_id).in_(family_ids))
        .order_by(col(FamilyPerson.created_at), col(FamilyPerson.id))
    )
    return list((await session.exec(query)).all())


async def documents_of(
    session: AsyncSession, person_ids: list[str]
) -> dict[str, list[PersonDocument]]:
    out: dict[str, list[PersonDocument]] = {p: [] for p in person_ids}
    if not person_ids:
        return out
    query = (
        select(PersonDocument)
        .where(col(PersonDocument.person_id).in_(person_ids))
        .order_by(col(PersonDocument.kind), col(PersonDocument.number))
    )
    for doc in (await session.exec(query)).all():
        out[doc.person_id].append(doc)
    return out


async def links_of(session: AsyncSession, appeal_person_ids: list[str]) -> dict[str, FamilyPerson]:
    """The family member each appeal person is."""
    if not appeal_person_ids:
        return {}
    query = select(AppealPersonLink, FamilyPerson).where(
        col(AppealPersonLink.appeal_person_id).in_(appeal_person_ids),
        AppealPersonLink.person_id == FamilyPerson.id,
    )
    return {link.appeal_person_id: person for link, person in (await session.exec(query)).all()}


class Case(SQLModel, table=True):
    """What an appeal opens or joins (migration 0007): one open case per family record."""

    __tablename__ = "cases"

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    center_id: str = Field(max_length=100)
    family_id: str = Field(foreign_key="family_records.id")
    state: str = Field(max_length=20)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    opened_by: str = Field(max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=100)
    close_reason: str | None = Field(default=None, max_length=1000)


class CaseAppeal(SQLModel, table=True):
    __tablename__ = "case_appeals"

    appeal_id: str = Field(primary_key=True, foreign_key="appeals.id")
    case_id: str = Field(foreign_key="cases.id")
    opened_case: bool


async def open_case_of(session: AsyncSession, family_ids: list[str]) -> Case | None:
    """The open case of a family (any of its merged records), the oldest first."""
    query = (
        select(Case)
        .where(col(Case.family_id).in_(family_ids), Case.state == "open")
        .order_by(col(Case.opened_at), col(Case.id))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def appeals_of_case(session: AsyncSession, case_id: str) -> list[str]:
    query = (
        select(CaseAppeal.appeal_id)
        .where(CaseAppeal.case_id == case_id)
        .order_by(col(CaseAppeal.appeal_id))
    )
    return list((await session.exec(query)).all())


class TriageAction(SQLModel, table=True):
    """One triage step on a journal entry (migration 0008, append-only)."""

    __tablename__ = "triage_actions"

    id: str = Field(primary_key=True)
    appeal_id: str = Field(foreign_key="appeals.id")
    kind: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=100)
    organisation: str = Field(default="", max_length=100)
    in_dls: bool | None = None
    note: str = Field(default="", max_length=4000)
    immediate_measures: str = Field(default="", max_length=4000)
    mobile_group_id: str | None = Field(default=None, max_length=64)


async def triage_of(session: AsyncSession, appeal_id: str) -> list[TriageAction]:
    query = (
        select(TriageAction)
        .where(TriageAction.appeal_id == appeal_id)
        .order_by(col(TriageAction.at), col(TriageAction.id))
    )
    return list((await session.exec(query)).all())


class MobileGroup(SQLModel, table=True):
    """INT-4: a territory's mobile group, its composition approved for a calendar year."""

    __tablename__ = "mobile_groups"
    __table_args__ = (UniqueConstraint("territory", "year"),)

    id: str = Field(primary_key=True)
    territory: str = Field(max_length=50)
    year: int
    approved_on: date
    order_number: str = Field(max_length=100)
    approved_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class MobileGroupMember(SQLModel, table=True):
    __tablename__ = "mobile_group_members"

    id: str = Field(primary_key=True)
    group_id: str = Field(foreign_key="mobile_groups.id")
    position: int
    agency_type: str = Field(max_length=50)
    agency: str = Field(max_length=100)
    representative: str = Field(max_length=200)


async def mobile_group(session: AsyncSession, territory: str, year: int) -> MobileGroup | None:
    query = select(MobileGroup).where(MobileGroup.territory == territory, MobileGroup.year == year)
    return (await session.exec(query)).first()


async def members_of_group(session: AsyncSession, group_id: str) -> list[MobileGroupMember]:
    query = (
        select(MobileGroupMember)
        .where(MobileGroupMember.group_id == group_id)
        .order_by(col(MobileGroupMember.position))
    )
    return list((await session.exec(query)).all())


class CaseAssessment(SQLModel, table=True):
    """An assessment of a case (migration 0010, append-only)."""

    __tablename__ = "case_assessments"

    id: str = Field(primary_key=True)
    case_id: str = Field(foreign_key="cases.id")
    outcome: str = Field(max_length=20)
    consent: str = Field(max_length=20)
    support_contract: str = Field(default="", max_length=100)
    resolution: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=4000)
    assessed_at: datetime = Field(sa_type=UTCDateTime)
    assessed_by: str = Field(max_length=100)


class AssessmentLevel(SQLModel, table=True):
    """INT-6: a person's support level and the signs found."""

    __tablename__ = "assessment_levels"

    id: str = Field(primary_key=True)
    assessment_id: str = Field(foreign_key="case_assessments.id")
    person_id: str = Field(foreign_key="family_persons.id")
    level: str = Field(max_length=50)
    signs: list[str] = Field(default_factory=list, sa_type=ARRAY(String(50)))


async def assessments_of(
    session: AsyncSession, case_id: str
) -> list[tuple[CaseAssessment, list[AssessmentLevel]]]:
    """A case's assessments, oldest first, each with its levels."""
    found = list(
        (
            await session.exec(
                select(CaseAssessment)
                .where(CaseAssessment.case_id == case_id)
                .order_by(col(CaseAssessment.assessed_at), col(CaseAssessment.id))
            )
        ).all()
    )
    if not found:
        return []
    levels = (
        await session.exec(
            select(AssessmentLevel)
            .where(col(AssessmentLevel.assessment_id).in_([a.id for a in found]))
            .order_by(col(AssessmentLevel.id))
        )
    ).all()
    by_assessment: dict[str, list[AssessmentLevel]] = {a.id: [] for a in found}
    for level in levels:
        by_assessment[level.assessment_id].append(level)
    return [(a, by_assessment[a.id]) for a in found]


class CaseAssignment(SQLModel, table=True):
    """A case's responsible case worker (migration 0011); `ended_at` once replaced or closed."""

    __tablename__ = "case_assignments"

    id: str = Field(primary_key=True)
    case_id: str = Field(foreign_key="cases.id")
    territory: str = Field(max_length=50)
    center_id: str = Field(max_length=100)
    worker: str = Field(max_length=100)
    # The case's support level when assigned ("" where the profile has none).
    level: str = Field(max_length=50)
    # The worker's open cases at that level, this one included.
    caseload: int
    recommended: int | None = None
    over_recommendation: bool
    assigned_at: datetime = Field(sa_type=UTCDateTime)
    assigned_by: str = Field(max_length=100)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def current_assignment(session: AsyncSession, case_id: str) -> CaseAssignment | None:
    query = select(CaseAssignment).where(
        CaseAssignment.case_id == case_id, col(CaseAssignment.ended_at).is_(None)
    )
    return (await session.exec(query)).first()


async def open_assignments(
    session: AsyncSession, *, territory: str, worker: str | None = None
) -> list[CaseAssignment]:
    """Current assignments of open cases in a territory (of one worker when given)."""
    query = (
        select(CaseAssignment)
        .join(Case, col(Case.id) == col(CaseAssignment.case_id))
        .where(
            CaseAssignment.territory == territory,
            col(CaseAssignment.ended_at).is_(None),
            Case.state == "open",
        )
        .order_by(col(CaseAssignment.worker), col(CaseAssignment.assigned_at))
    )
    if worker is not None:
        query = query.where(CaseAssignment.worker == worker)
    return list((await session.exec(query)).all())


class HomeVisit(SQLModel, table=True):
    """INT-8: a home inspection report (migration 0012, append-only)."""

    __tablename__ = "home_visits"

    id: str = Field(primary_key=True)
    case_id: str = Field(foreign_key="cases.id")
    visited_on: date
    findings: str = Field(max_length=4000)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=100)


async def home_visits_of(session: AsyncSession, case_id: str) -> list[HomeVisit]:
    query = (
        select(HomeVisit)
        .where(HomeVisit.case_id == case_id)
        .order_by(col(HomeVisit.visited_on), col(HomeVisit.id))
    )
    return list((await session.exec(query)).all())


class JournalFollowUp(SQLModel, table=True):
    """A later journal entry about an appeal (migration 0013, append-only): information, or a
    correction of its summary or channel with the reason. Numbered from the center's journal
    sequence, so the register stays one series without gaps (INT-2)."""

    __tablename__ = "journal_follow_ups"
    __table_args__ = (UniqueConstraint("center_id", "year", "sequence"),)

    id: str = Field(primary_key=True)
    appeal_id: str = Field(foreign_key="appeals.id")
    journal_number: str = Field(max_length=120, unique=True)
    center_id: str = Field(max_length=100)
    year: int
    sequence: int
    kind: str = Field(max_length=20)
    text: str = Field(default="", max_length=4000)
    corrected_field: str = Field(default="", max_length=20)
    channel: str = Field(default="", max_length=30)
    reason: str = Field(default="", max_length=1000)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=100)


async def follow_ups_of(
    session: AsyncSession, appeal_ids: list[str]
) -> dict[str, list[JournalFollowUp]]:
    """Each appeal's later entries in the journal's own order (year, then number)."""
    out: dict[str, list[JournalFollowUp]] = {a: [] for a in appeal_ids}
    if not appeal_ids:
        return out
    query = (
        select(JournalFollowUp)
        .where(col(JournalFollowUp.appeal_id).in_(appeal_ids))
        .order_by(col(JournalFollowUp.year), col(JournalFollowUp.sequence))
    )
    for row in (await session.exec(query)).all():
        out[row.appeal_id].append(row)
    return out


async def families_and_cases_of(
    session: AsyncSession, appeal_ids: list[str]
) -> tuple[dict[str, AppealFamily], dict[str, str], dict[str, CaseAppeal]]:
    """For a page of the journal, in three statements whatever its size: each appeal's family
    link, the family each linked record now belongs to (merges followed), each appeal's case."""
    if not appeal_ids:
        return {}, {}, {}
    links = {
        row.appeal_id: row
        for row in (
            await session.exec(
                select(AppealFamily).where(col(AppealFamily.appeal_id).in_(appeal_ids))
            )
        ).all()
    }
    roots: dict[str, str] = {}
    if links:
        conn = await session.connection()
        rows = await conn.execute(
            text(
                "WITH RECURSIVE up(start, id, merged_into) AS ("
                "SELECT f.id, f.id, f.merged_into FROM family_records f "
                "WHERE f.id = ANY(CAST(:ids AS varchar[])) UNION "
                "SELECT up.start, f.id, f.merged_into FROM family_records f "
                "JOIN up ON f.id = up.merged_into) "
                "SELECT start, id FROM up WHERE merged_into IS NULL"
            ),
            {"ids": sorted({link.family_id for link in links.values()})},
        )
        roots = {start: root for start, root in rows.all()}
    joined = {
        row.appeal_id: row
        for row in (
            await session.exec(select(CaseAppeal).where(col(CaseAppeal.appeal_id).in_(appeal_ids)))
        ).all()
    }
    return links, roots, joined
