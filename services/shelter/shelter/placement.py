"""Beds, holds, refusals and the waiting list (SHL-6): the use cases around a shelter's beds.

Split from `service.py` (stays) by aggregate; same rules: authorise, validate, apply rules,
persist, stage events, never commit. A bed's state is the truth of the bed board; a placement
takes beds with row locks just before its inserts (`models.take_free_beds`), so capacity holds
under any concurrency without a lock on the whole shelter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, db, idempotency, paging
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.ids import new_id, parse_id
from shelter import models, rules
from shelter.models import Bed, Hold, Refusal, Shelter, WaitlistEntry

READERS = ("shelter-operator", "center-head", "case-worker")
OPERATORS = ("shelter-operator",)
DEFAULT_PAGE = 50
MAX_PAGE = 200
SWEEP_BATCH = 200


class ShelterFull(Conflict):
    """No free beds for everyone admitted together (SHL-6); the refusal is recorded apart."""

    def __init__(self, *, free: int, needed: int, recorded: str = "") -> None:
        message = f"the shelter has {free} free beds, {needed} needed (SHL-6)"
        super().__init__(f"{message}; {recorded}" if recorded else message, code="shelter-full")
        self.free = free
        self.needed = needed


@dataclass(frozen=True)
class Board:
    shelter: Shelter
    beds: list[Bed]
    holds: dict[str, Hold]

    def count(self, state: rules.BedState) -> int:
        return sum(1 for b in self.beds if b.state == state)

    @property
    def occupancy(self) -> rules.Occupancy:
        return models.occupancy_of(self.shelter, {s: self.count(s) for s in rules.BedState})


async def shelter_of_territory(
    session: AsyncSession, principal: Principal, shelter_id: str
) -> Shelter:
    shelter = await session.get(Shelter, parse_id(shelter_id, field="shelter_id"))
    if shelter is None or shelter.territory != principal.territory:
        raise NotFound("shelter not found")
    return shelter


def _own_center(principal: Principal, shelter: Shelter) -> None:
    if shelter.center_id != principal.agency:
        raise Conflict("only the shelter's own center places in it", code="other-center")


# --- beds ------------------------------------------------------------------------------------


async def bed_board(session: AsyncSession, *, principal: Principal, shelter_id: str) -> Board:
    """Every bed of the shelter and what holds it; no personal data (stay ids only)."""
    require_role(principal, *READERS)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    beds = await models.beds_of(session, shelter.id)
    holds = await models.holds_by_id(session, sorted({b.hold_id for b in beds if b.hold_id}))
    return Board(shelter=shelter, beds=beds, holds=holds)


async def set_bed_service(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    number: int,
    out_of_service: bool,
    reason: str,
    now: datetime | None = None,
) -> Bed:
    """Take a free bed out of service (with why) or put it back; a bed back in service goes to
    the head of the waiting list first (SHL-6)."""
    require_role(principal, *OPERATORS)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    _own_center(principal, shelter)
    reason = rules.check_place(reason, field="reason", required=out_of_service)
    bed = await models.lock_bed_number(session, shelter.id, number)
    if bed is None:
        raise NotFound("bed not found")
    if out_of_service:
        if bed.state != rules.BedState.FREE:
            raise Conflict(f"bed {number} is {bed.state}, not free", code="bed-not-free")
        bed.state, bed.out_of_service_reason = rules.BedState.OUT_OF_SERVICE, reason
    else:
        if bed.state != rules.BedState.OUT_OF_SERVICE:
            raise Conflict(f"bed {number} is in service", code="bed-in-service")
        bed.state, bed.out_of_service_reason = rules.BedState.FREE, ""
    session.add(bed)
    await session.flush()
    if not out_of_service:
        await offer_free_beds(session, shelter, now=now or utcnow(), by=principal.subject)
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"shelter/{shelter.id}",
        purpose="bed service",
    )
    return bed


async def choose_beds(
    session: AsyncSession, *, shelter: Shelter, persons: int, bed_ids: list[str]
) -> list[str]:
    """Lock the beds for `persons`: the ones named (each must be free), or the lowest-numbered
    free ones; `ShelterFull` when too few are free."""
    rules.check_bed_choice(bed_ids, persons)
    if not bed_ids:
        taken = await models.take_free_beds(session, shelter.id, persons)
        if len(taken) < persons:
            raise ShelterFull(free=len(taken), needed=persons)
        return taken
    ids = [parse_id(b, field=f"bed_ids[{i}]") for i, b in enumerate(bed_ids)]
    beds = {b.id: b for b in await models.lock_beds(session, ids)}
    for i, bed_id in enumerate(ids):
        bed = beds.get(bed_id)
        if bed is None or bed.shelter_id != shelter.id:
            raise Invalid(f"bed_ids[{i}]", "no such bed in this shelter")
        if bed.state != rules.BedState.FREE:
            raise Conflict(
                f"bed_ids[{i}]: bed {bed.number} is {bed.state.replace('_', ' ')}, not free",
                code="bed-taken",
            )
    return ids


# --- holds -----------------------------------------------------------------------------------


async def hold_beds(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    beds: int,
    bed_ids: list[str],
    minutes: int,
    note: str,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> tuple[Hold, list[str]]:
    """Keep beds for an expected arrival; the hold expires by itself (the sweeper)."""
    require_role(principal, *OPERATORS)
    key = idempotency.check_key(idempotency_key)
    scope = f"hold:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        hold = await session.get(Hold, earlier)
        assert hold is not None
        return hold, await models.beds_of_hold(session, hold.id)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    _own_center(principal, shelter)
    length = rules.hold_length(minutes)
    note = rules.check_place(note, field="note")
    count = len(bed_ids) if bed_ids else beds
    if count <= 0 or count > rules.MAX_MINORS + 1:
        raise Invalid("beds", f"must be between 1 and {rules.MAX_MINORS + 1}")
    now = now or utcnow()
    taken = await choose_beds(session, shelter=shelter, persons=count, bed_ids=bed_ids)
    hold = Hold(
        id=new_id(),
        shelter_id=shelter.id,
        territory=shelter.territory,
        beds=count,
        note=note,
        created_at=now,
        expires_at=now + length,
        state=rules.HoldState.ACTIVE,
        created_by=principal.subject,
    )
    db.stage(session, hold)
    await models.set_beds(session, taken, state=rules.BedState.HELD, hold_id=hold.id)
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=hold.id)
    return hold, taken


async def use_hold(
    session: AsyncSession, *, shelter: Shelter, hold_id: str, persons: int, now: datetime
) -> list[str]:
    """The held beds an admission takes; beds held beyond `persons` go back to free."""
    hold = await models.lock_hold(session, parse_id(hold_id, field="hold_id"))
    if hold is None or hold.shelter_id != shelter.id:
        raise Invalid("hold_id", "no such hold in this shelter")
    if hold.state != rules.HoldState.ACTIVE or hold.expires_at < now:
        raise Conflict("the hold has expired or was used", code="hold-not-active")
    held = await models.beds_of_hold(session, hold.id)
    if len(held) < persons:
        raise Conflict(f"the hold keeps {len(held)} beds, {persons} needed", code="hold-too-small")
    spare = held[persons:]
    await models.set_beds(session, spare, state=rules.BedState.FREE)
    hold.state = rules.HoldState.USED
    session.add(hold)
    if hold.waitlist_id:
        entry = await session.get(WaitlistEntry, hold.waitlist_id)
        if entry is not None:
            entry.state = rules.WaitlistState.ADMITTED
            session.add(entry)
    return held[:persons]


async def expire_holds(session: AsyncSession, *, now: datetime) -> int:
    """Release the beds of holds past their time (no-shows), lapse the waiting list offers
    among them, and offer the freed beds to the next in line (SHL-6)."""
    holds = await models.expiring_holds(session, now, SWEEP_BATCH)
    shelters: set[str] = set()
    for hold in holds:
        hold.state = rules.HoldState.EXPIRED
        session.add(hold)
        await models.release_beds(session, hold_id=hold.id)
        if hold.waitlist_id:
            entry = await session.get(WaitlistEntry, hold.waitlist_id)
            if entry is not None and entry.state == rules.WaitlistState.OFFERED:
                entry.state = rules.WaitlistState.LAPSED
                session.add(entry)
        shelters.add(hold.shelter_id)
    await session.flush()
    for shelter_id in sorted(shelters):
        shelter = await session.get(Shelter, shelter_id)
        if shelter is not None:
            await offer_free_beds(session, shelter, now=now, by="sweeper")
    return len(holds)


# --- the waiting list ------------------------------------------------------------------------


async def offer_free_beds(
    session: AsyncSession, shelter: Shelter, *, now: datetime, by: str
) -> int:
    """Hold free beds for the waiting list in queue order: the head first, and nobody behind
    it while the head's family does not fit (a large family is not passed over for ever)."""
    offered = 0
    while (entry := await models.next_waiting(session, shelter.id)) is not None:
        beds = await models.take_free_beds(session, shelter.id, entry.persons)
        if len(beds) < entry.persons:
            break
        hold = Hold(
            id=new_id(),
            shelter_id=shelter.id,
            territory=shelter.territory,
            beds=entry.persons,
            note="waiting list offer",
            waitlist_id=entry.id,
            created_at=now,
            expires_at=now + rules.DEFAULT_HOLD,
            state=rules.HoldState.ACTIVE,
            created_by=by,
        )
        db.stage(session, hold)
        await models.set_beds(session, beds, state=rules.BedState.HELD, hold_id=hold.id)
        entry.state, entry.hold_id = rules.WaitlistState.OFFERED, hold.id
        session.add(entry)
        await session.flush()
        offered += 1
    return offered


@dataclass(frozen=True)
class RefusalIn:
    adult: rules.ResidentIn
    persons: int
    reason: rules.RefusalReason
    detail: str
    referred_to: str
    waitlist: bool


async def record_refusal(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    refusal: RefusalIn,
    request_key: str = "",
    now: datetime | None = None,
) -> Refusal:
    """A refusal is a record: who, when, why, referred where; the person may be queued for
    the next free beds (SHL-6). A refused admission retried with its idempotency key records
    one refusal (`request_key`)."""
    require_role(principal, *OPERATORS)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    _own_center(principal, shelter)
    if refusal.persons < 1 or refusal.persons > rules.MAX_MINORS + 1:
        raise Invalid("minors", f"at most {rules.MAX_MINORS}")
    now = now or utcnow()
    name = rules.check_name(refusal.adult.full_name, field="adult.full_name")
    detail = rules.check_place(refusal.detail, field="detail")
    referred_to = rules.check_place(refusal.referred_to, field="referred_to")
    if request_key:
        query = select(Refusal).where(
            Refusal.center_id == shelter.center_id, Refusal.request_key == request_key
        )
        if (earlier := (await session.exec(query)).first()) is not None:
            return earlier
    waitlist_id = ""
    if refusal.waitlist:
        entry = WaitlistEntry(
            id=new_id(),
            shelter_id=shelter.id,
            territory=shelter.territory,
            adult_name=name,
            adult_birth_date=refusal.adult.birth_date,
            persons=refusal.persons,
            queued_at=now,
            state=rules.WaitlistState.WAITING,
        )
        db.stage(session, entry)
        waitlist_id = entry.id
    row = Refusal(
        id=new_id(),
        shelter_id=shelter.id,
        territory=shelter.territory,
        center_id=shelter.center_id,
        adult_name=name,
        adult_birth_date=refusal.adult.birth_date,
        persons=refusal.persons,
        reason=refusal.reason,
        detail=detail,
        referred_to=referred_to,
        waitlist_id=waitlist_id,
        refused_at=now,
        recorded_by=principal.subject,
        request_key=request_key,
    )
    values = {c.key: getattr(row, c.key) for c in Refusal.__table__.columns}  # type: ignore[attr-defined]
    await db.flush_staged(session)
    inserted = await session.scalar(
        pg_insert(Refusal.__table__)  # type: ignore[attr-defined]
        .values(values)
        .on_conflict_do_nothing()
        .returning(Refusal.__table__.c.id)  # type: ignore[attr-defined]
    )
    if inserted is None:  # a twin of the same refused request won the race
        query = select(Refusal).where(
            Refusal.center_id == shelter.center_id, Refusal.request_key == request_key
        )
        return (await session.exec(query)).one()
    audit.record(
        session, principal=principal, action="create", entity=f"refusal/{row.id}", purpose="SHL-6"
    )
    if refusal.waitlist:
        # Beds may have come free between the refused attempt and now.
        await offer_free_beds(session, shelter, now=now, by=principal.subject)
    return row


async def list_refusals(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    page_token: str,
    page_size: int,
) -> tuple[list[Refusal], str]:
    """One shelter's refusals, the latest first; the read is audited (REG-9)."""
    require_role(principal, *READERS)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    order = "latest"
    cursor = paging.decode(page_token, order=order, key_type=datetime)
    size = _size(page_size)
    key, row_id = col(Refusal.refused_at), col(Refusal.id)
    query = select(Refusal).where(Refusal.shelter_id == shelter.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=True))
    rows = list(
        (await session.exec(query.order_by(key.desc(), row_id.desc()).limit(size + 1))).all()
    )
    token = paging.next_token(rows, size, order, lambda r: r.refused_at)
    rows = rows[:size]
    audit.record_many(
        session,
        principal=principal,
        action="read",
        entities=[f"refusal/{r.id}" for r in rows],
        purpose="list",
    )
    return rows, token


async def list_waitlist(
    session: AsyncSession,
    *,
    principal: Principal,
    shelter_id: str,
    state: rules.WaitlistState | None,
    page_token: str,
    page_size: int,
) -> tuple[list[tuple[WaitlistEntry, int]], str]:
    """One shelter's waiting list in queue order, each waiting entry with its position (1 is
    offered the next free beds); the read is audited (REG-9)."""
    require_role(principal, *READERS)
    shelter = await shelter_of_territory(session, principal, shelter_id)
    order = "queue"
    cursor = paging.decode(page_token, order=order, key_type=datetime)
    size = _size(page_size)
    key, row_id = col(WaitlistEntry.queued_at), col(WaitlistEntry.id)
    query = select(WaitlistEntry).where(WaitlistEntry.shelter_id == shelter.id)
    if state is not None:
        query = query.where(WaitlistEntry.state == state)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=False))
    rows = list((await session.exec(query.order_by(key, row_id).limit(size + 1))).all())
    token = paging.next_token(rows, size, order, lambda r: r.queued_at)
    rows = rows[:size]
    positions = await _positions(session, shelter.id, rows)
    audit.record_many(
        session,
        principal=principal,
        action="read",
        entities=[f"waitlist/{r.id}" for r in rows],
        purpose="list",
    )
    return [(r, positions.get(r.id, 0)) for r in rows], token


async def _positions(
    session: AsyncSession, shelter_id: str, rows: list[WaitlistEntry]
) -> dict[str, int]:
    waiting = [r for r in rows if r.state == rules.WaitlistState.WAITING]
    if not waiting:
        return {}
    table = WaitlistEntry.__table__  # type: ignore[attr-defined]
    ahead = await session.scalar(
        sa_select(func.count())
        .select_from(table)
        .where(
            table.c.shelter_id == shelter_id,
            table.c.state == rules.WaitlistState.WAITING,
            tuple_(table.c.queued_at, table.c.id)
            < tuple_(
                literal(waiting[0].queued_at, type_=table.c.queued_at.type),
                literal(waiting[0].id, type_=table.c.id.type),
            ),
        )
    )
    first = int(ahead or 0) + 1
    return {r.id: first + i for i, r in enumerate(waiting)}


def _size(page_size: int) -> int:
    return min(max(page_size, 1), MAX_PAGE) if page_size else DEFAULT_PAGE
