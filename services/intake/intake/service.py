"""Intake use cases: the journal entry comes first, then its triage obligations (INT-2, INT-3).
Never commits: the caller's unit of work does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import cases, families, models, rules
from intake.models import Appeal, AppealPerson
from kamqor import audit, db, idempotency, obligations, outbox, paging
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.events.v1.intake_pb2 import AppealRegistered
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"


@dataclass(frozen=True)
class AppealView:
    appeal: Appeal
    persons: list[AppealPerson]
    obligations: list[Obligation]
    # None for entries registered before families were kept.
    family: families.AppealFamilyView | None = None
    likely: list[families.Likely] = field(default_factory=list)
    case: cases.Joined | None = None
    triage: list[models.TriageAction] = field(default_factory=list)
    follow_ups: list[models.JournalFollowUp] = field(default_factory=list)


def _journal_of(principal: Principal) -> str:
    """Centers keep their own journal; the hotline's calls go to the territory's center (INT-1)."""
    if principal.agency_type == "family_center":
        return principal.agency
    return territory_of(principal.territory).center


async def register_appeal(
    session: AsyncSession,
    *,
    principal: Principal,
    channel: rules.Channel,
    summary: str,
    persons: list[rules.PersonIn],
    threat_to_life: bool,
    domestic_violence: bool,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
    family_id: str = "",
) -> AppealView:
    """Register an appeal in the journal before anything else happens (INT-2) and open its
    triage obligations where the profile sets them (INT-3; INT-7 with signs of domestic
    violence). The appeal joins its family (`families.attach`): the one named, or known by a
    person's IIN/SNILS, or a new one with the likely same families offered."""
    require_role(principal, *rules.REGISTRARS)
    key = idempotency.check_key(idempotency_key)
    scope = f"register_appeal:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await get_appeal(session, principal=principal, appeal_id=earlier, audit_read=False)
    now = now or utcnow()
    territory = territory_of(principal.territory)
    profile = get_profile(territory.profile)
    today = now.astimezone(profile.zone).date()
    summary = rules.check_summary(summary)
    rules.check_persons(persons, today=today)

    center_id = _journal_of(principal)
    # The journal number is taken last (below), under the counter's row lock, which holds every
    # other entry of the center until this transaction commits (INT-2, numbers without gaps):
    # everything before it is done without the lock.
    appeal = Appeal(
        id=new_id(),
        journal_number="",
        center_id=center_id,
        year=today.year,
        sequence=0,
        territory=territory.code,
        channel=channel,
        registered_at=now,
        summary=summary,
        threat_to_life=threat_to_life,
        domestic_violence=domestic_violence,
        registered_by=principal.subject,
    )
    kept = [
        AppealPerson(
            id=new_id(),
            appeal_id=appeal.id,
            position=i,
            full_name=p.full_name.strip(),
            relation=p.relation,
            birth_date=p.birth_date,
        )
        for i, p in enumerate(persons)
    ]
    # The entry, its persons and every row of this registration are inserted together in one
    # statement once the number is taken (INT-2: nothing exists without the entry): staged rows
    # wait through the family's queries (`db.holding`).
    db.stage(session, appeal, *kept)
    with db.holding(session):
        attached = await families.attach(
            session,
            principal=principal,
            appeal=appeal,
            appeal_persons=kept,
            persons=persons,
            family_id=family_id,
            now=now,
        )
        case = await cases.open_or_join(
            session,
            appeal=appeal,
            family_id=attached.family_id,
            new_family=attached.matched_by == families.MatchedBy.NEW,
            now=now,
        )
    entity = f"appeal/{appeal.id}"
    opened = [
        obligations.open_obligation(
            session,
            rule=rule,
            subject=entity,
            territory=territory.code,
            arose_at=now,
            responsible_agency=center_id,
        )
        for rule in rules.triage_rules(
            threat_to_life=threat_to_life,
            domestic_violence=domestic_violence,
            has_rule={r for r in rules.TRIAGE_KEYS if profile.at(now).has_rule(r)},
        )
    ]
    audit.record(session, principal=principal, action="create", entity=entity, purpose="INT-2")
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=appeal.id)
    appeal.sequence = await models.next_sequence(session, center_id=center_id, year=today.year)
    appeal.journal_number = rules.journal_number(center_id, today.year, appeal.sequence)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.intake.appeal.registered",
        entity=entity,
        payload=AppealRegistered(
            appeal_id=appeal.id,
            journal_number=appeal.journal_number,
            center_id=center_id,
            territory=territory.code,
            registered_at=ts(now),
            threat_to_life=threat_to_life,
            domestic_violence=domestic_violence,
            minors=rules.minors_among(persons, today=today),
        ),
    )
    # One round trip for all of it; the caller's unit of work commits next, ending the lock.
    await db.flush_staged(session, together=True)
    family = families.AppealFamilyView(
        family_id=attached.family_id,
        matched_by=attached.matched_by,
        members=attached.members,
        documents=attached.documents,
    )
    return AppealView(
        appeal=appeal,
        persons=kept,
        obligations=opened,
        family=family,
        likely=attached.likely,
        case=case,
    )


async def get_appeal(
    session: AsyncSession, *, principal: Principal, appeal_id: str, audit_read: bool = True
) -> AppealView:
    """One entry of the caller's territory; reading the persons is audited (REG-9)."""
    require_role(principal, *rules.READERS)
    appeal = await session.get(Appeal, parse_id(appeal_id, field="appeal_id"))
    if appeal is None:
        raise NotFound("appeal not found")
    require_territory(principal, appeal.territory, entity="appeal")
    entity = f"appeal/{appeal.id}"
    if audit_read:
        audit.record(session, principal=principal, action="read", entity=entity, purpose="view")
    persons = (await models.persons_of(session, [appeal.id]))[appeal.id]
    return AppealView(
        appeal=appeal,
        persons=persons,
        obligations=await obligations.for_subject(session, entity),
        family=await families.of_appeal(session, appeal.id, [p.id for p in persons]),
        case=await cases.of_appeal(session, appeal.id),
        triage=await models.triage_of(session, appeal.id),
        follow_ups=(await models.follow_ups_of(session, [appeal.id]))[appeal.id],
    )


class AppealOrder(StrEnum):
    NEWEST_FIRST = "newest_first"
    OLDEST_FIRST = "oldest_first"
    JOURNAL_NUMBER = "journal_number"


# order -> (column, descending, the cursor key's type)
_ORDERS: dict[AppealOrder, tuple[str, bool, type[paging.Key]]] = {
    AppealOrder.NEWEST_FIRST: ("registered_at", True, datetime),
    AppealOrder.OLDEST_FIRST: ("registered_at", False, datetime),
    AppealOrder.JOURNAL_NUMBER: ("journal_number", False, str),
}


@dataclass(frozen=True)
class JournalQuery:
    """What the journal's reader asks for; days are the territory's local days, both inclusive."""

    channel: rules.Channel | None = None
    threat_to_life: bool | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    order: AppealOrder = AppealOrder.NEWEST_FIRST
    # Only the appeals about this family (its merged records included) / of this case.
    family_id: str = ""
    case_id: str = ""


async def _journal_filter(
    session: AsyncSession, query: JournalQuery, territory: str
) -> models.JournalFilter:
    first, last = query.registered_from, query.registered_to
    if first and last and last < first:
        raise Invalid("registered_to", "must not be before registered_from")
    zone = get_profile(territory_of(territory).profile).zone

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone)

    family_ids = None
    if query.family_id:
        # The family as it is now and every record merged into it: a merged record's appeals
        # are the family's (an unknown or foreign family simply has none here).
        root = await models.family_root(session, parse_id(query.family_id, field="family_id"))
        family_ids = tuple(await models.merged_into_tree(session, root.id)) if root else ("",)
    return models.JournalFilter(
        channel=query.channel.value if query.channel else None,
        threat_to_life=query.threat_to_life,
        registered_since=midnight(first) if first else None,
        registered_until=midnight(last + timedelta(days=1)) if last else None,
        family_ids=family_ids,
        case_id=parse_id(query.case_id, field="case_id") if query.case_id else None,
    )


async def list_appeals(
    session: AsyncSession,
    *,
    principal: Principal,
    page_token: str,
    page_size: int,
    query: JournalQuery | None = None,
) -> tuple[list[AppealView], str]:
    """The territory's journal narrowed by `query`'s filters in its order (newest first by
    default), one page and the next page's token ('' at the end); every listed entry's read is
    audited (REG-9)."""
    require_role(principal, *rules.READERS)
    query = query or JournalQuery()
    column, descending, key_type = _ORDERS[query.order]
    cursor = paging.decode(page_token, order=query.order, key_type=key_type)
    rows = await models.page(
        session,
        territory=principal.territory,
        where=await _journal_filter(session, query, principal.territory),
        order=column,
        descending=descending,
        cursor=cursor,
        limit=page_size + 1,
    )
    next_token = paging.next_token(rows, page_size, query.order, lambda a: getattr(a, column))
    rows = rows[:page_size]
    ids = [a.id for a in rows]
    persons = await models.persons_of(session, ids)
    duties = await obligations.for_subjects(session, [f"appeal/{i}" for i in ids])
    audit.record_many(  # one row naming every listed entry (REG-9)
        session,
        principal=principal,
        action="read",
        entities=[f"appeal/{appeal.id}" for appeal in rows],
        purpose="list",
    )
    links, roots, joined = await models.families_and_cases_of(session, ids)
    follow_ups = await models.follow_ups_of(session, ids)

    def family(appeal_id: str) -> families.AppealFamilyView | None:
        link = links.get(appeal_id)
        if link is None:
            return None  # registered before families were kept
        return families.AppealFamilyView(
            family_id=roots.get(link.family_id, link.family_id),
            matched_by=link.matched_by,
            members={},
            documents={},
        )

    views = [
        AppealView(
            a,
            persons[a.id],
            duties[f"appeal/{a.id}"],
            family=family(a.id),
            case=(
                cases.Joined(case_id=joined[a.id].case_id, opened=joined[a.id].opened_case)
                if a.id in joined
                else None
            ),
            follow_ups=follow_ups[a.id],
        )
        for a in rows
    ]
    return views, next_token
