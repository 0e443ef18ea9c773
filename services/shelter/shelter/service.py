"""Shelter use cases: authorise, validate, apply rules, persist, stage events. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, db, idempotency, obligations, outbox, paging
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.events.v1.shelter_pb2 import StayAdmitted, StayDischarged
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from shelter import models, rules
from shelter.models import Shelter, Stay, StayMinor

SOURCE = "kamqor.shelter"
READERS = ("shelter-operator", "center-head", "case-worker")
DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class StayView:
    stay: Stay
    minors: list[StayMinor]


async def register_shelter(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    capacity: int,
    idempotency_key: str,
    request_digest: str = "",
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
    )
    session.add(row)
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=row.id)
    return row


async def list_shelters(
    session: AsyncSession, *, principal: Principal
) -> list[tuple[Shelter, int]]:
    require_role(principal, *READERS)
    shelters = await models.shelters_in(session, principal.territory)
    occupied = await models.occupied_beds(session, [s.id for s in shelters])
    return [(s, occupied[s.id]) for s in shelters]


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
    now: datetime | None = None,
) -> StayView:
    """Admit a person together with their minor children (SHL-1, SHL-3) within capacity (SHL-6)."""
    require_role(principal, "shelter-operator")
    key = idempotency.check_key(idempotency_key)
    scope = f"admit:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await get_stay(session, principal=principal, stay_id=earlier, audit_read=False)
    shelter_id = parse_id(shelter_id, field="shelter_id")
    appeal_id = parse_id(appeal_id, field="appeal_id") if appeal_id else ""
    shelter = await models.lock_shelter(session, shelter_id)
    if shelter is None or shelter.territory != principal.territory:
        raise NotFound("shelter not found")
    if shelter.center_id != principal.agency:
        raise Conflict("only the shelter's own center admits to it", code="other-center")
    profile = get_profile(territory_of(shelter.territory).profile)
    if not profile.has_rule(rules.STAY_RULE):
        raise Conflict(
            "this territory's policy profile has no crisis shelter stays (SHL-1)",
            code="no-shelter-rule",
        )
    now = now or utcnow()
    rules.check_residents(adult, minors, on=now.astimezone(profile.zone).date())
    occupied = (await models.occupied_beds(session, [shelter.id]))[shelter.id]
    rules.check_capacity(capacity=shelter.capacity, occupied=occupied, incoming=1 + len(minors))

    stay_id = new_id()
    entity = f"stay/{stay_id}"
    stay_end = obligations.open_obligation(
        session,
        rule=rules.STAY_RULE,
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
        adult_name=rules.check_name(adult.full_name, field="adult.full_name"),
        adult_birth_date=adult.birth_date,
        referral=referral,
        appeal_id=appeal_id,
        admitted_at=now,
        latest_end_at=stay_end.due_at,
        persons=1 + len(minors),
        admitted_by=principal.subject,
    )
    kept = [
        StayMinor(
            id=new_id(),
            stay_id=stay_id,
            position=i,
            full_name=rules.check_name(m.full_name, field=f"minors[{i}].full_name"),
            birth_date=m.birth_date,
        )
        for i, m in enumerate(minors)
    ]
    # Core inserts at the end of the unit of work: the stay, then its minors in one executemany.
    db.stage(session, stay, *kept)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.shelter.stay.admitted",
        entity=entity,
        payload=StayAdmitted(
            stay_id=stay_id,
            shelter_id=shelter.id,
            center_id=shelter.center_id,
            territory=shelter.territory,
            admitted_at=ts(now),
            latest_end_at=ts(stay_end.due_at),
            minors=len(kept),
        ),
    )
    audit.record(
        session, principal=principal, action="create", entity=entity, purpose="SHL-2 admission"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=stay_id)
    return StayView(stay=stay, minors=kept)


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
    return StayView(stay=stay, minors=await models.minors_of(session, stay.id))


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
    minors = await models.minors_of_stays(session, [r.id for r in rows])
    audit.record_many(  # one row naming every listed stay (REG-9)
        session,
        principal=principal,
        action="read",
        entities=[f"stay/{row.id}" for row in rows],
        purpose="list",
    )
    return [StayView(stay=r, minors=minors[r.id]) for r in rows], next_token


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
    now: datetime | None = None,
) -> StayView:
    """End a stay: the SHL-1 obligation is met, bed-days are counted (SHL-5)."""
    require_role(principal, "shelter-operator")
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", "is required")
    view = await get_stay(session, principal=principal, stay_id=stay_id, audit_read=False)
    stay = view.stay
    rules.check_discharge(stay.state)
    now = now or utcnow()
    stay.state = rules.StayState.DISCHARGED
    stay.discharged_at = now
    stay.discharge_reason = reason[:500]
    session.add(stay)
    entity = f"stay/{stay.id}"
    for obligation in await obligations.for_subject(session, entity, rule=rules.STAY_RULE):
        obligations.meet(session, obligation, at=now)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.shelter.stay.discharged",
        entity=entity,
        payload=StayDischarged(
            stay_id=stay.id,
            territory=stay.territory,
            discharged_at=ts(now),
            bed_days=rules.bed_days(
                stay.admitted_at,
                now,
                stay.persons,
                get_profile(territory_of(stay.territory).profile).zone,
            ),
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="discharge")
    return view


async def _shelter(session: AsyncSession, shelter_id: str) -> Shelter:
    row = await session.get(Shelter, shelter_id)
    if row is None:
        raise NotFound("shelter not found")
    return row
