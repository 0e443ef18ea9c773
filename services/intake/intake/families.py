"""People and families: the family an appeal is about, found by its persons' IIN/SNILS or named
by the operator, a new one otherwise with the families that may be the same offered; merges of
two records of one family, audited and undoable. Never commits: the caller's unit of work does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import models, rules
from intake.models import (
    Appeal,
    AppealFamily,
    AppealPerson,
    AppealPersonLink,
    Family,
    FamilyMerge,
    FamilyPerson,
    PersonDocument,
)
from kamqor import audit, db
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.ids import new_id, parse_id
from kamqor.inputs import check_text
from kamqor.names import name_key

MERGERS = ("intake-operator", "center-head")
MAX_REASON = 1000


class MatchedBy:
    IDENTIFIER = "identifier"
    OPERATOR = "operator"
    NEW = "new"


@dataclass(frozen=True)
class Likely:
    family_id: str
    person_index: int
    full_name: str
    birth_date: date | None
    score: float


@dataclass(frozen=True)
class Attached:
    family_id: str
    matched_by: str
    # appeal person id -> the family member it is
    members: dict[str, FamilyPerson]
    documents: dict[str, list[PersonDocument]]
    likely: list[Likely] = field(default_factory=list)


async def _root_in(session: AsyncSession, family_id: str, *, territory: str, field: str) -> Family:
    root = await models.family_root(session, parse_id(family_id, field=field))
    if root is None or root.territory != territory:
        raise Invalid(field, "no such family in the territory")
    return root


def _same_person(member: FamilyPerson, person: rules.PersonIn) -> bool:
    """One person: the same IIN or SNILS, or (none known on either side that differs) the
    same normalised name and birth date."""
    if person.iin and member.iin:
        return person.iin == member.iin
    snils = rules.normalize_snils(person.snils)
    if snils and member.snils:
        return snils == member.snils
    return (
        person.birth_date is not None
        and member.birth_date == person.birth_date
        and name_key(member.full_name) == name_key(person.full_name)
    )


async def attach(
    session: AsyncSession,
    *,
    principal: Principal,
    appeal: Appeal,
    appeal_persons: list[AppealPerson],
    persons: list[rules.PersonIn],
    family_id: str,
    now: datetime,
) -> Attached:
    """The appeal's family: the one the operator names, else the one whose member has one of the
    persons' IIN/SNILS, else a new one (with the families that may be the same: a member with a
    similar name, Latin spellings and Kazakh letters folded, and the same birth date). Each
    person becomes a member of it unless already one. Rows are staged after the appeal's."""
    territory = appeal.territory
    family: Family | None = None
    matched_by = MatchedBy.NEW
    if family_id:
        family = await _root_in(session, family_id, territory=territory, field="family_id")
        matched_by = MatchedBy.OPERATOR
    else:
        known = await models.persons_with_identifiers(
            session,
            territory=territory,
            iins=[p.iin for p in persons if p.iin],
            snilses=[rules.normalize_snils(p.snils) for p in persons if p.snils],
        )
        if known:
            family = await models.family_root(session, known[0].family_id)
            matched_by = MatchedBy.IDENTIFIER
    new_rows: list[FamilyPerson | PersonDocument | Family] = []
    if family is None:
        family = Family(
            id=new_id(), territory=territory, created_at=now, created_by=appeal.registered_by
        )
        existing: list[FamilyPerson] = []
        new_rows.append(family)
    else:
        existing = await models.members_of(
            session, await models.merged_into_tree(session, family.id)
        )
    known_docs = await models.documents_of(session, [m.id for m in existing])
    members: dict[str, FamilyPerson] = {}
    documents: dict[str, list[PersonDocument]] = {}
    links: list[AppealPersonLink] = []
    for row, person in zip(appeal_persons, persons, strict=True):
        member = next((m for m in existing if _same_person(m, person)), None)
        if member is None:
            member = FamilyPerson(
                id=new_id(),
                family_id=family.id,
                territory=territory,
                full_name=row.full_name,
                relation=row.relation,
                birth_date=person.birth_date,
                iin=person.iin,
                snils=rules.normalize_snils(person.snils),
                created_at=now,
            )
            existing.append(member)
            known_docs[member.id] = []
            new_rows.append(member)
        else:
            # What the new appeal adds to a known member: the numbers it did not have yet.
            if person.iin and not member.iin:
                member.iin = person.iin
                session.add(member)
            if person.snils and not member.snils:
                member.snils = rules.normalize_snils(person.snils)
                session.add(member)
        for doc in person.documents:
            number = doc.number.strip()
            if any(d.kind == doc.kind and d.number == number for d in known_docs[member.id]):
                continue
            kept = PersonDocument(id=new_id(), person_id=member.id, kind=doc.kind, number=number)
            known_docs[member.id].append(kept)
            new_rows.append(kept)
        members[row.id] = member
        documents[row.id] = known_docs[member.id]
        links.append(AppealPersonLink(appeal_person_id=row.id, person_id=member.id))
    # Families first, then members, documents and links: the staged inserts go table by table
    # in this order, after the appeal's.
    new_rows.sort(key=lambda r: (Family, FamilyPerson, PersonDocument).index(type(r)))
    db.stage(session, *new_rows)
    db.stage(session, AppealFamily(appeal_id=appeal.id, family_id=family.id, matched_by=matched_by))
    db.stage(session, *links)
    likely: list[Likely] = []
    if matched_by == MatchedBy.NEW:
        likely = await _likely(session, territory=territory, persons=persons, own=family.id)
        if likely:  # the operator is shown other families' members (REG-9)
            audit.record_many(
                session,
                principal=principal,
                action="read",
                entities=sorted({f"family/{m.family_id}" for m in likely}),
                purpose="likely match",
            )
    audit.record(
        session, principal=principal, action="attach", entity=f"family/{family.id}", purpose="INT-2"
    )
    return Attached(
        family_id=family.id,
        matched_by=matched_by,
        members=members,
        documents=documents,
        likely=likely,
    )


async def _likely(
    session: AsyncSession, *, territory: str, persons: list[rules.PersonIn], own: str
) -> list[Likely]:
    """The best match per other family, the most similar first."""
    asked = [
        (i, p.full_name.strip(), p.birth_date)
        for i, p in enumerate(persons)
        if p.birth_date is not None
    ]
    best: dict[str, Likely] = {}
    for row in await models.likely_persons(session, territory=territory, persons=asked):
        family_id = row.family_id
        if row.merged_into is not None:  # rare: follow the merges
            root = await models.family_root(session, family_id)
            family_id = root.id if root else family_id
        if family_id == own or (family_id in best and best[family_id].score >= row.score):
            continue
        best[family_id] = Likely(family_id, row.index, row.full_name, row.birth_date, row.score)
    return sorted(best.values(), key=lambda m: (-m.score, m.family_id))


@dataclass(frozen=True)
class AppealFamilyView:
    family_id: str
    matched_by: str
    members: dict[str, FamilyPerson]
    documents: dict[str, list[PersonDocument]]


async def of_appeal(
    session: AsyncSession, appeal_id: str, appeal_person_ids: list[str]
) -> AppealFamilyView | None:
    """The appeal's family as it is now (merges followed) and who each of its persons is."""
    link = await session.get(AppealFamily, appeal_id)
    if link is None:
        return None  # registered before families were kept
    root = await models.family_root(session, link.family_id)
    members = await models.links_of(session, appeal_person_ids)
    docs = await models.documents_of(session, sorted({m.id for m in members.values()}))
    return AppealFamilyView(
        family_id=root.id if root else link.family_id,
        matched_by=link.matched_by,
        members=members,
        documents={a: docs[m.id] for a, m in members.items()},
    )


@dataclass(frozen=True)
class FamilyView:
    family: Family
    members: list[FamilyPerson]
    documents: dict[str, list[PersonDocument]]
    merged_family_ids: list[str]
    appeal_ids: list[str]


async def _view(session: AsyncSession, family: Family) -> FamilyView:
    tree = await models.merged_into_tree(session, family.id)
    members = await models.members_of(session, tree)
    appeals = (
        await session.exec(
            select(AppealFamily.appeal_id)
            .where(col(AppealFamily.family_id).in_(tree))
            .order_by(col(AppealFamily.appeal_id))
        )
    ).all()
    return FamilyView(
        family=family,
        members=members,
        documents=await models.documents_of(session, [m.id for m in members]),
        merged_family_ids=sorted(t for t in tree if t != family.id),
        appeal_ids=list(appeals),
    )


async def get_family(session: AsyncSession, *, principal: Principal, family_id: str) -> FamilyView:
    """A family of the caller's territory (the one a merged record went into); the read of its
    members is audited (REG-9)."""
    require_role(principal, *rules.READERS)
    family = await models.family_root(session, parse_id(family_id, field="family_id"))
    if family is None:
        raise NotFound("family not found")
    require_territory(principal, family.territory, entity="family")
    audit.record(
        session, principal=principal, action="read", entity=f"family/{family.id}", purpose="view"
    )
    return await _view(session, family)


async def merge_families(
    session: AsyncSession,
    *,
    principal: Principal,
    kept_family_id: str,
    merged_family_id: str,
    reason: str,
    now: datetime | None = None,
) -> tuple[FamilyMerge, FamilyView]:
    """Merge two records of one family: the merged one points at the kept one from now on,
    nothing else is rewritten, so `undo_merge` restores both exactly."""
    require_role(principal, *MERGERS)
    now = now or utcnow()
    reason = check_text(reason.strip(), field="reason", free_text=True)
    if not reason:
        raise Invalid("reason", "is required")
    if len(reason) > MAX_REASON:
        raise Invalid("reason", f"at most {MAX_REASON} characters")
    kept = await models.family_root(session, parse_id(kept_family_id, field="kept_family_id"))
    merged = await models.family_root(session, parse_id(merged_family_id, field="merged_family_id"))
    if kept is None:
        raise NotFound("family not found")
    require_territory(principal, kept.territory, entity="family")
    if merged is None:
        raise NotFound("family not found")
    require_territory(principal, merged.territory, entity="family")
    if kept.id == merged.id:
        raise Conflict("the two records are one family already", code="already-merged")
    merged.merged_into = kept.id
    session.add(merged)
    record = FamilyMerge(
        id=new_id(),
        territory=kept.territory,
        kept_family_id=kept.id,
        merged_family_id=merged.id,
        reason=reason,
        merged_at=now,
        merged_by=principal.subject,
    )
    session.add(record)
    audit.record_many(
        session,
        principal=principal,
        action="merge",
        entities=[f"family/{kept.id}", f"family/{merged.id}", f"family-merge/{record.id}"],
        purpose="INT-2 merge",
    )
    await session.flush()
    return record, await _view(session, kept)


async def undo_merge(
    session: AsyncSession, *, principal: Principal, merge_id: str, now: datetime | None = None
) -> FamilyMerge:
    """Separate the two records of a merge again; the merge stays on record, marked undone."""
    require_role(principal, *MERGERS)
    record = await session.get(FamilyMerge, parse_id(merge_id, field="merge_id"))
    if record is None:
        raise NotFound("merge not found")
    require_territory(principal, record.territory, entity="merge")
    if record.undone_at is not None:
        raise Conflict("the merge is undone already", code="merge-undone")
    merged = await session.get(Family, record.merged_family_id)
    assert merged is not None and merged.merged_into == record.kept_family_id
    merged.merged_into = None
    record.undone_at = now or utcnow()
    record.undone_by = principal.subject
    session.add_all([merged, record])
    audit.record_many(
        session,
        principal=principal,
        action="undo-merge",
        entities=[
            f"family/{record.kept_family_id}",
            f"family/{record.merged_family_id}",
            f"family-merge/{record.id}",
        ],
        purpose="INT-2 merge",
    )
    await session.flush()
    return record
