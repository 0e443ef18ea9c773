"""A resident's support (SHL-4): what the shelter operator arranges becomes measures of the
case's plan. Plans owns plans, so the shelter only validates and stages one event through the
outbox in the same transaction; plans turns it into measures (`plans.service.support`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import AGENCY_TYPES, Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.events.v1.shelter_pb2 import StaySupportRecorded
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from shelter.models import Stay
from shelter.rules import StayState
from shelter.service import SOURCE

SUBJECT = "kamqor.shelter.stay.support_recorded"
MAX_ITEMS = 20
MAX_AGENCY = 100


class SupportKind(StrEnum):
    """SHL-4's list: information, legal and psychological help, help with employment and
    training, free guaranteed medical care, advice on state support."""

    INFORMATION = "information"
    LEGAL = "legal"
    PSYCHOLOGICAL = "psychological"
    EMPLOYMENT = "employment"
    MEDICAL = "medical"
    STATE_SUPPORT = "state_support"


@dataclass(frozen=True)
class SupportItem:
    kind: SupportKind
    agency_id: str
    agency_type: str
    due_on: date


@dataclass(frozen=True)
class SupportView:
    support_id: str
    stay_id: str
    case_id: str
    items: list[SupportItem]


def check_items(items: Sequence[SupportItem], *, today: date, last_day: date) -> list[SupportItem]:
    """Each item names the agency that carries it out and is due while the person is still in
    the shelter: support arranged for after the stay is the next plan's business, not SHL-4's."""
    if not items:
        raise Invalid("items", "at least one kind of support (SHL-4)")
    if len(items) > MAX_ITEMS:
        raise Invalid("items", f"at most {MAX_ITEMS}")
    out: list[SupportItem] = []
    for i, item in enumerate(items):
        field = f"items[{i}]"
        agency_id = item.agency_id.strip()
        if not agency_id:
            raise Invalid(f"{field}.agency_id", "is required")
        if len(agency_id) > MAX_AGENCY:
            raise Invalid(f"{field}.agency_id", f"at most {MAX_AGENCY} characters")
        if item.agency_type not in AGENCY_TYPES:
            raise Invalid(f"{field}.agency_type", f"must be one of {sorted(AGENCY_TYPES)}")
        if item.due_on < today:
            raise Invalid(f"{field}.due_on", "is in the past")
        if item.due_on > last_day:
            raise Invalid(
                f"{field}.due_on", f"must be within the stay, on or before {last_day.isoformat()}"
            )
        out.append(
            SupportItem(
                kind=item.kind,
                agency_id=agency_id,
                agency_type=item.agency_type,
                due_on=item.due_on,
            )
        )
    return out


async def record_support(
    session: AsyncSession,
    *,
    principal: Principal,
    stay_id: str,
    case_id: str,
    items: Sequence[SupportItem],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> SupportView:
    """Record the support an open stay's resident gets (SHL-4) and stage it for plans, which
    adds each item as a measure of the case's plan (a new draft when the case has none).

    The case id comes with the request: a stay knows only its appeal, and shelter does not
    call intake; plans files the measures under exactly this case.
    """
    require_role(principal, "shelter-operator")
    key = idempotency.check_key(idempotency_key)
    scope = f"record_support:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        # Same key and same request (the digest matched): the same answer.
        return SupportView(
            support_id=earlier,
            stay_id=stay_id,
            case_id=case_id,
            items=list(items),
        )
    stay_id = parse_id(stay_id, field="stay_id")
    if not case_id.strip():
        raise Invalid("case_id", "is required: its plan receives the measures (SHL-4)")
    case_id = parse_id(case_id, field="case_id")
    # Locked: a discharge running at the same time cannot end the stay under this record.
    stay = (await session.exec(select(Stay).where(Stay.id == stay_id).with_for_update())).first()
    if stay is None:
        raise NotFound("stay not found")
    require_territory(principal, stay.territory, entity="stay")
    if stay.center_id != principal.agency:
        raise Conflict("only the stay's own center records its support", code="other-center")
    if stay.state != StayState.ACTIVE:
        raise Conflict("stay_id: the stay has already ended (SHL-4)", code="stay-ended")
    now = now or utcnow()
    zone = get_profile(territory_of(stay.territory).profile).zone
    kept = check_items(
        items,
        today=now.astimezone(zone).date(),
        last_day=stay.latest_end_at.astimezone(zone).date(),
    )
    support_id = new_id()
    outbox.append(
        session,
        source=SOURCE,
        subject=SUBJECT,
        entity=f"stay/{stay.id}",
        payload=StaySupportRecorded(
            support_id=support_id,
            stay_id=stay.id,
            case_id=case_id,
            center_id=stay.center_id,
            territory=stay.territory,
            recorded_by=principal.subject,
            recorded_at=ts(now),
            items=[
                StaySupportRecorded.Item(
                    kind=i.kind.value,
                    agency_id=i.agency_id,
                    agency_type=i.agency_type,
                    due_on=i.due_on.isoformat(),
                )
                for i in kept
            ],
        ),
    )
    audit.record(
        session, principal=principal, action="update", entity=f"stay/{stay.id}", purpose="SHL-4"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=support_id)
    return SupportView(support_id=support_id, stay_id=stay.id, case_id=case_id, items=kept)
