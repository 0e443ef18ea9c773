"""Shelter use cases: authorise, validate, apply rules, persist, stage events. Never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, db, idempotency, obligations, outbox, paging
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.events.v1.shelter_pb2 import StayAdmitted, StayDischarged
from kamqor.ids import new_id, parse_id
from kamqor.profiles import Profile, get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from shelter import models, placement, rules
from shelter.models import BedDay, Shelter, Stay, StayDecision, StayMinor

SOURCE = "kamqor.shelter"
READERS = ("shelter-operator", "center-head", "case-worker")
DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class StayView:
    stay: Stay
    minors: list[StayMinor]
    bed_ids: list[str] = field(default_factory=list)
    decisions: list[StayDecision] = field(default_factory=list)


async def register_shelter(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    capacity: int,
    idempotency_key: str,
    request_digest: str = "",
    address: str = "",
    contact: str = "",
) -> Shelter:
    """Declare a shelter of the caller's center with its capacity in beds (SHL-6); its name is
    unique in the center (case and spacing ignored)."""
    require_role(principal, "center-head")
    key = idempotency.check_key(idempotency_key)
    scope = f"register_shelter:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _shelter(session, earlier)
    name = rules.check_name(name, field="name")
    if await models.shelter_named(session, principal.agency, rules.name_key(name)) is not None:
        raise Conflict("the center already has a shelter of this name", code="shelter-name-taken")
    row = Shelter(
        id=new_id(),
        center_id=principal.agency,
        territory=principal.territory,
        name=name,
        name_key=rules.name_key(name),
        capacity=rules.check_capacity_value(capacity),
        address=rules.check_place(address, field="address"),
        contact=rules.check_place(contact, field="contact"),
    )
    session.add(row)
    await session.flush()
    await models.add_beds(session, row.id, row.capacity)
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=row.id)
    return row


async def list_shelters(
    session: AsyncSession, *, principal: Principal
) -> list[tuple[Shelter, rules.Occupancy]]:
    """The territory's shelters, each with its beds by state: free is what is neither
    occupied, held for an expected arrival nor out of service (SHL-6)."""
    require_role(principal, *READERS)
    shelters = await models.shelters_in(session, principal.territory)
    found = await models.occupancy(session, shelters)
    return [(s, found[s.id]) for s in shelters]


@dataclass(frozen=True)
class Placement:
    """Where an admission goes: the beds named, a hold's beds, or free beds chosen (SHL-6)."""

    bed_ids: list[str] = field(default_factory=list)
    hold_id: str = ""


async def admit(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    adult: rules.ResidentIn,
    minors: list[rules.ResidentIn],
    referral: rules.Referral,
    appeal_id: str,
    idempotency_key: str,
    request_digest: str = "",
    referral_document: str = "",
    placement_in: Placement | None = None,
    specialist: tuple[str, str] = ("", ""),
    now: datetime | None = None,
) -> StayView:
    """Admit a person on a referral or their own application (SHL-2) together with their minor
    children (SHL-1, SHL-3) into free beds (SHL-6); a full shelter raises
    `placement.ShelterFull` (the caller records the refusal in its own transaction)."""
    require_role(principal, "shelter-operator")
    key = idempotency.check_key(idempotency_key)
    scope = f"admit:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await get_stay(session, principal=principal, stay_id=earlier, audit_read=False)
    shelter_id = parse_id(shelter_id, field="shelter_id")
    appeal_id = parse_id(appeal_id, field="appeal_id") if appeal_id else ""
    shelter = await session.get(Shelter, shelter_id)
    if shelter is None or shelter.territory != principal.territory:
        raise NotFound("shelter not found")
    if shelter.center_id != principal.agency:
        raise Conflict("only the shelter's own center admits to it", code="other-center")
    profile = get_profile(territory_of(shelter.territory).profile)
    stay_rule = check_stays(profile)
    now = now or utcnow()
    today = now.astimezone(profile.zone).date()
    rules.check_residents(adult, minors, on=today)
    document = rules.check_referral(referral, referral_document)
    adult_name = rules.check_name(adult.full_name, field="adult.full_name")
    minor_names = [
        rules.check_name(m.full_name, field=f"minors[{i}].full_name") for i, m in enumerate(minors)
    ]
    where = placement_in or Placement()
    persons = 1 + len(minors)
    # The responsible specialist police and guardianship can reach (SHL-3): the admitting
    # operator and the shelter's duty contact unless named.
    specialist_name = rules.check_place(specialist[0], field="specialist_name") or (
        principal.username
    )
    specialist_contact = (
        rules.check_place(specialist[1], field="specialist_contact") or shelter.contact
    )

    stay_id = new_id()
    entity = f"stay/{stay_id}"
    # The beds last, just before the inserts: their row locks are held for the rest of this
    # short transaction only.
    if where.hold_id:
        beds = await placement.use_hold(
            session, shelter=shelter, hold_id=where.hold_id, persons=persons, now=now
        )
    else:
        beds = await placement.choose_beds(
            session, shelter=shelter, persons=persons, bed_ids=where.bed_ids
        )
    await models.set_beds(session, beds, state=rules.BedState.OCCUPIED, stay_id=stay_id)
    stay_end = obligations.open_obligation(
        session,
        rule=stay_rule,
        subject=entity,
        territory=shelter.territory,
        arose_at=now,
        responsible_agency=shelter.center_id,
        responsible_person=principal.subject,
    )
    stay = Stay(
        id=stay_id,
        shelter_id=shelter.id,
        center_id=shelter.center_id,
        territory=shelter.territory,
        adult_name=adult_name,
        adult_birth_date=adult.birth_date,
        referral=referral,
        referral_document=document,
        appeal_id=appeal_id,
        admitted_at=now,
        admitted_on=today,
        latest_end_at=stay_end.due_at,
        persons=persons,
        admitted_by=principal.subject,
        specialist_name=specialist_name[:200],
        specialist_contact=specialist_contact[:200],
    )
    kept = [
        StayMinor(id=new_id(), stay_id=stay_id, position=i, full_name=name, birth_date=m.birth_date)
        for i, (m, name) in enumerate(zip(minors, minor_names, strict=True))
    ]
    # The admission's day is every resident's first bed-day (SHL-5); later days accrue
    # (`models.accrue_bed_days`).
    first_days = [
        BedDay(
            stay_id=stay_id,
            resident=r,
            local_date=today,
            shelter_id=shelter.id,
            territory=shelter.territory,
        )
        for r in range(persons)
    ]
    # Core inserts at the end of the unit of work: the stay, its minors and first bed-days,
    # one executemany per table.
    db.stage(session, stay, *kept, *first_days)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.shelter.stay.admitted",
        entity=entity,
        payload=admitted_event(stay, shelter, profile, minors=kept),
    )
    audit.record(
        session, principal=principal, action="create", entity=entity, purpose="SHL-2 admission"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=stay_id)
    return StayView(stay=stay, minors=kept, bed_ids=beds)


def check_stays(profile: Profile) -> str:
    """The rule of the stay's term from the profile's `shelter` block (SHL-1); a profile whose
    centers run no crisis stays is refused naming it, and how it places instead."""
    block = profile.shelter
    if not block.stays or not (block.stay_term or profile.has_rule(rules.STAY_RULE)):
        via = (
            f"; it places a child in a shelter through {block.child_placement_via} "
            "(removal, then placement by that authority), not by a center's admission"
            if block.child_placement_via
            else ""
        )
        raise Conflict(
            f"the policy profile {profile.name!r} has no crisis shelter stays (SHL-1){via}",
            code="no-shelter-rule",
        )
    return block.stay_term or rules.STAY_RULE


def admitted_event(
    stay: Stay, shelter: Shelter, profile: Profile, *, minors: list[StayMinor]
) -> StayAdmitted:
    """Ids and counts always; with minors, what police and guardianship must act on (who,
    which children, where, since when, whom to call) and what the profile says of the notice:
    its term's rule, recipients and form (SHL-3, need to know)."""
    event = StayAdmitted(
        stay_id=stay.id,
        shelter_id=stay.shelter_id,
        center_id=stay.center_id,
        territory=stay.territory,
        admitted_at=ts(stay.admitted_at),
        latest_end_at=ts(stay.latest_end_at),
        minors=len(minors),
    )
    block = profile.shelter
    if minors and block.minors_notice_term and rules.needs_written_notice(len(minors)):
        event.adult_full_name = stay.adult_name
        event.adult_birth_date = stay.adult_birth_date.isoformat()
        event.minor_children.extend(
            StayAdmitted.Minor(full_name=m.full_name, birth_date=m.birth_date.isoformat())
            for m in minors
        )
        event.shelter_name = shelter.name
        event.shelter_address = shelter.address
        event.specialist_name = stay.specialist_name
        event.specialist_contact = stay.specialist_contact
        event.notice_rule = block.minors_notice_term
        event.notice_recipients.extend(block.notify)
        event.notice_in_writing = block.notice_in_writing
    return event


async def get_stay(
    session: AsyncSession, *, principal: Principal, stay_id: str, audit_read: bool = True
) -> StayView:
    """One stay of the caller's territory; the read of residents' data is audited (REG-9)."""
    require_role(principal, *READERS)
    stay = await session.get(Stay, parse_id(stay_id, field="stay_id"))
    if stay is None:
        raise NotFound("stay not found")
    require_territory(principal, stay.territory, entity="stay")
    if audit_read:
        audit.record(
            session, principal=principal, action="read", entity=f"stay/{stay.id}", purpose="view"
        )
    return StayView(
        stay=stay,
        minors=await models.minors_of(session, stay.id),
        bed_ids=(await models.beds_of_stays(session, [stay.id]))[stay.id],
        decisions=(await models.decisions_of(session, [stay.id]))[stay.id],
    )


class StayOrder(StrEnum):
    LATEST_ADMISSION = "latest_admission"
    # The earliest end of the longest stay allowed: the fewest days left first (SHL-1).
    DAYS_LEFT = "days_left"
    NAME = "name"


# order -> (column, descending, the cursor key's type)
_STAY_ORDERS: dict[StayOrder, tuple[str, bool, type[paging.Key]]] = {
    StayOrder.LATEST_ADMISSION: ("admitted_at", True, datetime),
    StayOrder.DAYS_LEFT: ("latest_end_at", False, datetime),
    StayOrder.NAME: ("adult_name", False, str),
}


async def list_stays(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    state: rules.StayState | None,
    page_token: str,
    page_size: int,
    order: StayOrder = StayOrder.LATEST_ADMISSION,
) -> tuple[list[StayView], str]:
    """One shelter's stays in `order` (the latest admission first by default), and the next
    page's token ('' when none); every listed stay's read of residents' data is audited
    (REG-9)."""
    require_role(principal, *READERS)
    shelter = await session.get(Shelter, parse_id(shelter_id, field="shelter_id"))
    if shelter is None or shelter.territory != principal.territory:
        raise NotFound("shelter not found")
    column, descending, key_type = _STAY_ORDERS[order]
    cursor = paging.decode(page_token, order=order, key_type=key_type)
    page_size = min(max(page_size, 1), MAX_PAGE) if page_size else DEFAULT_PAGE
    rows = await models.stays_of(
        session,
        shelter.id,
        state=state,
        order=column,
        descending=descending,
        cursor=cursor,
        limit=page_size + 1,
    )
    next_token = paging.next_token(rows, page_size, order, lambda s: getattr(s, column))
    rows = rows[:page_size]
    ids = [r.id for r in rows]
    minors = await models.minors_of_stays(session, ids)
    beds = await models.beds_of_stays(session, ids)
    decisions = await models.decisions_of(session, ids)
    audit.record_many(  # one row naming every listed stay (REG-9)
        session,
        principal=principal,
        action="read",
        entities=[f"stay/{row.id}" for row in rows],
        purpose="list",
    )
    views = [
        StayView(stay=r, minors=minors[r.id], bed_ids=beds[r.id], decisions=decisions[r.id])
        for r in rows
    ]
    return views, next_token


def days_left(stay: Stay, now: datetime | None = None) -> int:
    """Days left of an active stay in its territory's local time (SHL-1); 0 once it ended."""
    if stay.state != rules.StayState.ACTIVE:
        return 0
    zone = get_profile(territory_of(stay.territory).profile).zone
    return rules.days_left(stay.latest_end_at, now or utcnow(), zone)


async def discharge(
    session: AsyncSession,
    *,
    principal: Principal,
    stay_id: str,
    reason: str,
    redirected_to: str = "",
    now: datetime | None = None,
) -> StayView:
    """End a stay, recording why and where the person was redirected (SHL-1): the beds come
    free for the waiting list (SHL-6), the bed-days are stored (SHL-5)."""
    require_role(principal, "shelter-operator")
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", "is required")
    redirected_to = rules.check_place(redirected_to, field="redirected_to")
    view = await get_stay(session, principal=principal, stay_id=stay_id, audit_read=False)
    stay = view.stay
    rules.check_discharge(stay.state)
    now = now or utcnow()
    zone = get_profile(territory_of(stay.territory).profile).zone
    stay.state = rules.StayState.DISCHARGED
    stay.discharged_at = now
    stay.discharge_reason = reason[:500]
    stay.redirected_to = redirected_to
    session.add(stay)
    entity = f"stay/{stay.id}"
    for obligation in await obligations.for_subject(session, entity, rule=_stay_rule(stay)):
        obligations.meet(session, obligation, at=now)
    await session.flush()
    await models.release_beds(session, stay_id=stay.id)
    await models.accrue_bed_days(
        session,
        through=rules.bed_days_through(stay.admitted_on, now.astimezone(zone).date()),
        territory=stay.territory,
        stay_id=stay.id,
    )
    shelter = await session.get(Shelter, stay.shelter_id)
    assert shelter is not None
    await placement.offer_free_beds(session, shelter, now=now, by=principal.subject)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.shelter.stay.discharged",
        entity=entity,
        payload=StayDischarged(
            stay_id=stay.id,
            territory=stay.territory,
            discharged_at=ts(now),
            bed_days=rules.bed_days(stay.admitted_at, now, stay.persons, zone),
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="discharge")
    return StayView(stay=stay, minors=view.minors, bed_ids=[], decisions=view.decisions)


def _stay_rule(stay: Stay) -> str:
    """The rule key the stay's term obligation was opened under (the profile's `stay_term`)."""
    return get_profile(territory_of(stay.territory).profile).shelter.stay_term or rules.STAY_RULE


async def extend_stay(
    session: AsyncSession,
    *,
    principal: Principal,
    stay_id: str,
    until: date,
    decision_number: str,
    reason: str,
    now: datetime | None = None,
) -> StayView:
    """Keep a person past the stay's cap on a recorded decision (SHL-1): its number, why, who
    and when; the stay's term obligation is met by the decision (on time when made before the
    cap) and the new last day is the end of `until` in the territory's local time."""
    require_role(principal, "shelter-operator", "center-head")
    view = await get_stay(session, principal=principal, stay_id=stay_id, audit_read=False)
    stay = view.stay
    rules.check_discharge(stay.state)
    zone = get_profile(territory_of(stay.territory).profile).zone
    new_end = rules.check_extension(
        current_end=stay.latest_end_at,
        until=until,
        zone=zone,
        decision_number=decision_number,
        reason=reason,
    )
    now = now or utcnow()
    decision = StayDecision(
        id=new_id(),
        stay_id=stay.id,
        decision_number=decision_number.strip(),
        reason=reason.strip()[:500],
        decided_at=now,
        decided_by=principal.subject,
        previous_end_at=stay.latest_end_at,
        new_end_at=new_end,
    )
    db.stage(session, decision)
    stay.latest_end_at = new_end
    session.add(stay)
    entity = f"stay/{stay.id}"
    for obligation in await obligations.for_subject(session, entity, rule=_stay_rule(stay)):
        obligations.meet(session, obligation, at=now)
    audit.record(
        session, principal=principal, action="update", entity=entity, purpose="SHL-1 decision"
    )
    return StayView(
        stay=stay,
        minors=view.minors,
        bed_ids=view.bed_ids,
        decisions=[*view.decisions, decision],
    )


async def _shelter(session: AsyncSession, shelter_id: str) -> Shelter:
    row = await session.get(Shelter, shelter_id)
    if row is None:
        raise NotFound("shelter not found")
    return row
