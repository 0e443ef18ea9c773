"""Crisis shelter: shelters and their capacity (SHL-6), stays of an adult with minors (SHL-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    BirthDate,
    EnumMap,
    FreeText,
    IsoDate,
    Line,
    at,
    input_config,
    page_token_out,
    when,
)
from gateway.schemas.plans import AgencyType
from kamqor.notify.v1 import notify_pb2
from kamqor.shelter.v1 import shelter_pb2 as pb

Referral = TypeAliasType(
    "Referral", Literal["self_application", "employment_and_social_programmes", "health", "police"]
)
StayState = TypeAliasType("StayState", Literal["active", "discharged"])
REFERRALS = EnumMap[pb.Referral.ValueType, Referral](pb.Referral, "REFERRAL_")
STAY_STATES = EnumMap[pb.StayState.ValueType, StayState](pb.StayState, "STAY_STATE_")
StayOrder = TypeAliasType("StayOrder", Literal["latest_admission", "days_left", "name"])
STAY_ORDERS = EnumMap[pb.StayOrder.ValueType, StayOrder](pb.StayOrder, "STAY_ORDER_")
WhenFull = TypeAliasType("WhenFull", Literal["refuse", "waitlist"])
WHEN_FULL = EnumMap[pb.WhenFull.ValueType, WhenFull](pb.WhenFull, "WHEN_FULL_")
BedState = TypeAliasType("BedState", Literal["free", "occupied", "held", "out_of_service"])
BED_STATES = EnumMap[pb.BedState.ValueType, BedState](pb.BedState, "BED_STATE_")
HoldState = TypeAliasType("HoldState", Literal["active", "used", "expired"])
HOLD_STATES = EnumMap[pb.HoldState.ValueType, HoldState](pb.HoldState, "HOLD_STATE_")
RefusalReason = TypeAliasType(
    "RefusalReason",
    Literal["shelter_full", "not_eligible", "needs_other_care", "declined", "other"],
)
REFUSAL_REASONS = EnumMap[pb.RefusalReason.ValueType, RefusalReason](
    pb.RefusalReason, "REFUSAL_REASON_"
)
WaitlistState = TypeAliasType("WaitlistState", Literal["waiting", "offered", "admitted", "lapsed"])
WAITLIST_STATES = EnumMap[pb.WaitlistState.ValueType, WaitlistState](
    pb.WaitlistState, "WAITLIST_STATE_"
)


class ShelterIn(BaseModel):
    model_config = input_config({"name": "Crisis unit", "capacity": 12})

    name: Line = Field(
        min_length=1,
        max_length=200,
        description="Unique in the center, case and spacing ignored (409 `shelter-name-taken`).",
    )
    capacity: StrictInt = Field(ge=1, le=10000, description="Beds (SHL-6).")
    address: Line = Field(
        default="", max_length=300, description="Told to police and guardianship (SHL-3)."
    )
    contact: Line = Field(default="", max_length=300, description="The duty specialist's phone.")

    def to_proto(self, idempotency_key: str | None) -> pb.RegisterShelterRequest:
        return pb.RegisterShelterRequest(
            idempotency_key=idempotency_key or "",
            name=self.name,
            capacity=self.capacity,
            address=self.address,
            contact=self.contact,
        )


class Shelter(BaseModel):
    id: UUID
    center_id: str
    territory: str
    name: str
    capacity: int
    occupied: int = Field(description="Beds taken by active stays.")
    held: int = Field(description="Beds held for an expected arrival (until the hold lapses).")
    out_of_service: int = Field(description="Beds out of service.")
    free: int = Field(
        description="Beds an admission can take now: capacity less the occupied, the held and "
        "those out of service (SHL-6)."
    )
    address: str
    contact: str

    @classmethod
    def from_proto(cls, msg: pb.Shelter) -> Shelter:
        return cls(
            id=msg.id,
            center_id=msg.center_id,
            territory=msg.territory,
            name=msg.name,
            capacity=msg.capacity,
            occupied=msg.occupied,
            held=msg.held,
            out_of_service=msg.out_of_service,
            free=msg.free,
            address=msg.address,
            contact=msg.contact,
        )


class ShelterList(BaseModel):
    items: list[Shelter]


class ResidentIn(BaseModel):
    model_config = input_config()

    full_name: Line = Field(min_length=1, max_length=200)
    birth_date: BirthDate = Field(description="Not in the future, at most 120 years ago.")

    def to_proto(self) -> pb.Resident:
        return pb.Resident(full_name=self.full_name, birth_date=self.birth_date.isoformat())


class StayIn(BaseModel):
    """Admission of one adult together with their minor children (SHL-3)."""

    model_config = input_config(
        {
            "shelter_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "adult": {"full_name": "Dana K.", "birth_date": "1990-05-14"},
            "minors": [{"full_name": "Arman K.", "birth_date": "2017-04-02"}],
            "referral": "police",
            "referral_document": "KUSP 1187/26",
        }
    )

    shelter_id: UUID
    adult: ResidentIn
    minors: list[ResidentIn] = Field(default_factory=list, max_length=20)
    referral: Referral = Field(description="Who sent the person (SHL-2).")
    appeal_id: UUID | None = Field(default=None, description="The journal entry it follows from.")
    referral_document: Line = Field(
        default="",
        max_length=100,
        description="The referring document's number (SHL-2); none for an own application.",
    )
    bed_ids: list[UUID] = Field(
        default_factory=list,
        max_length=21,
        description="One free bed per person, the adult first (409 `bed-taken` otherwise); "
        "free beds are chosen when empty.",
    )
    hold_id: UUID | None = Field(
        default=None, description="A hold of the shelter to admit into (its beds are used)."
    )
    when_full: WhenFull = Field(
        default="refuse",
        description="A full shelter is a 409 `shelter-full` either way, with the refusal "
        "recorded (SHL-6); `waitlist` also queues the person for the next free beds.",
    )
    referred_to: Line = Field(
        default="", max_length=300, description="Where a refused person is referred instead."
    )
    specialist_name: Line = Field(
        default="",
        max_length=200,
        description="The responsible specialist told to police and guardianship (SHL-3); "
        "the admitting operator when empty.",
    )
    specialist_contact: Line = Field(
        default="", max_length=200, description="The shelter's contact when empty."
    )

    def to_proto(self, idempotency_key: str | None) -> pb.AdmitRequest:
        return pb.AdmitRequest(
            idempotency_key=idempotency_key or "",
            shelter_id=str(self.shelter_id),
            adult=self.adult.to_proto(),
            minors=[m.to_proto() for m in self.minors],
            referral=REFERRALS.to_proto(self.referral),
            appeal_id=str(self.appeal_id) if self.appeal_id else "",
            referral_document=self.referral_document,
            bed_ids=[str(b) for b in self.bed_ids],
            hold_id=str(self.hold_id) if self.hold_id else "",
            when_full=WHEN_FULL.to_proto(self.when_full),
            referred_to=self.referred_to,
            specialist_name=self.specialist_name,
            specialist_contact=self.specialist_contact,
        )


class DischargeIn(BaseModel):
    model_config = input_config({"reason": "moved to relatives"})

    reason: FreeText = Field(min_length=1, max_length=500)
    redirected_to: Line = Field(
        default="", max_length=300, description="The organisation the person was redirected to."
    )


class Resident(BaseModel):
    full_name: str
    birth_date: date

    @classmethod
    def from_proto(cls, msg: pb.Resident) -> Resident:
        return cls(full_name=msg.full_name, birth_date=msg.birth_date)


class StayDecision(BaseModel):
    """A recorded decision keeping a stay past its cap (SHL-1)."""

    decision_number: str
    reason: str
    decided_at: datetime
    decided_by: str
    previous_end_at: datetime
    new_end_at: datetime

    @classmethod
    def from_proto(cls, msg: pb.StayDecision) -> StayDecision:
        return cls(
            decision_number=msg.decision_number,
            reason=msg.reason,
            decided_at=at(msg, "decided_at"),
            decided_by=msg.decided_by,
            previous_end_at=at(msg, "previous_end_at"),
            new_end_at=at(msg, "new_end_at"),
        )


class Stay(BaseModel):
    id: UUID
    shelter_id: UUID
    territory: str
    adult: Resident
    minors: list[Resident]
    referral: Referral
    admitted_at: datetime
    latest_end_at: datetime = Field(description="Admission plus one month (SHL-1).")
    state: StayState
    discharged_at: datetime | None
    discharge_reason: str | None
    appeal_id: UUID | None
    admitted_by: str
    days_left: int | None = Field(
        description="Whole days from today to the last day (SHL-1) in the territory's local "
        "time: 0 on the last day, negative past it; null once discharged."
    )
    referral_document: str | None
    redirected_to: str | None
    bed_ids: list[UUID] = Field(description="The beds the stay occupies while active.")
    decisions: list[StayDecision] = Field(description="Decisions past the cap (SHL-1).")
    specialist_name: str
    specialist_contact: str

    @classmethod
    def from_proto(cls, msg: pb.Stay) -> Stay:
        return cls(
            id=msg.id,
            shelter_id=msg.shelter_id,
            territory=msg.territory,
            adult=Resident.from_proto(msg.adult),
            minors=[Resident.from_proto(m) for m in msg.minors],
            referral=REFERRALS.from_proto(msg.referral),
            admitted_at=at(msg, "admitted_at"),
            latest_end_at=at(msg, "latest_end_at"),
            state=STAY_STATES.from_proto(msg.state),
            discharged_at=when(msg, "discharged_at"),
            discharge_reason=msg.discharge_reason or None,
            appeal_id=msg.appeal_id or None,
            admitted_by=msg.admitted_by,
            days_left=msg.days_left if msg.state == pb.STAY_STATE_ACTIVE else None,
            referral_document=msg.referral_document or None,
            redirected_to=msg.redirected_to or None,
            bed_ids=list(msg.bed_ids),
            decisions=[StayDecision.from_proto(d) for d in msg.decisions],
            specialist_name=msg.specialist_name,
            specialist_contact=msg.specialist_contact,
        )


class StayPage(BaseModel):
    """One page of a shelter's stays, the latest admission first."""

    items: list[Stay]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListStaysResponse) -> StayPage:
        return cls(
            items=[Stay.from_proto(s) for s in msg.stays],
            next_page_token=page_token_out(msg.next_page_token),
        )


class Bed(BaseModel):
    id: UUID
    number: int
    state: BedState
    stay_id: UUID | None
    hold_id: UUID | None
    hold_expires_at: datetime | None
    out_of_service_reason: str | None

    @classmethod
    def from_proto(cls, msg: pb.Bed) -> Bed:
        return cls(
            id=msg.id,
            number=msg.number,
            state=BED_STATES.from_proto(msg.state),
            stay_id=msg.stay_id or None,
            hold_id=msg.hold_id or None,
            hold_expires_at=when(msg, "hold_expires_at"),
            out_of_service_reason=msg.out_of_service_reason or None,
        )


class BedBoard(BaseModel):
    """Every bed of one shelter by number, with counts per state (SHL-6); stay ids only."""

    shelter: Shelter
    beds: list[Bed]
    free: int
    occupied: int
    held: int
    out_of_service: int

    @classmethod
    def from_proto(cls, msg: pb.GetBedBoardResponse) -> BedBoard:
        return cls(
            shelter=Shelter.from_proto(msg.shelter),
            beds=[Bed.from_proto(b) for b in msg.beds],
            free=msg.free,
            occupied=msg.occupied,
            held=msg.held,
            out_of_service=msg.out_of_service,
        )


class BedServiceIn(BaseModel):
    model_config = input_config({"out_of_service": True, "reason": "leaking roof"})

    out_of_service: bool
    reason: Line = Field(
        default="", max_length=300, description="Required when taking the bed out of service."
    )


class HoldIn(BaseModel):
    """Beds kept for an expected arrival; the hold expires by itself."""

    model_config = input_config(
        {
            "shelter_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "beds": 3,
            "minutes": 120,
            "note": "police bringing a mother with two children",
        }
    )

    shelter_id: UUID
    beds: StrictInt = Field(default=0, ge=0, le=21, description="Free beds chosen; or bed_ids.")
    bed_ids: list[UUID] = Field(default_factory=list, max_length=21)
    minutes: StrictInt = Field(
        default=0, ge=0, le=4320, description="Until it expires; 240 when 0 or absent."
    )
    note: Line = Field(default="", max_length=300, description="No personal data.")

    def to_proto(self, idempotency_key: str | None) -> pb.HoldBedsRequest:
        return pb.HoldBedsRequest(
            idempotency_key=idempotency_key or "",
            shelter_id=str(self.shelter_id),
            beds=self.beds,
            bed_ids=[str(b) for b in self.bed_ids],
            minutes=self.minutes,
            note=self.note,
        )


class Hold(BaseModel):
    id: UUID
    shelter_id: UUID
    bed_ids: list[UUID]
    created_at: datetime
    expires_at: datetime
    state: HoldState
    note: str
    waitlist_id: UUID | None

    @classmethod
    def from_proto(cls, msg: pb.Hold) -> Hold:
        return cls(
            id=msg.id,
            shelter_id=msg.shelter_id,
            bed_ids=list(msg.bed_ids),
            created_at=at(msg, "created_at"),
            expires_at=at(msg, "expires_at"),
            state=HOLD_STATES.from_proto(msg.state),
            note=msg.note,
            waitlist_id=msg.waitlist_id or None,
        )


class ExtensionIn(BaseModel):
    """A decision keeping a stay past its cap (SHL-1): without its number, a 422."""

    model_config = input_config(
        {"until": "2026-12-31", "decision_number": "7-sh", "reason": "housing from 31 Dec"}
    )

    until: IsoDate = Field(description="The new last day, in the territory's local time.")
    decision_number: Line = Field(min_length=1, max_length=100)
    reason: FreeText = Field(min_length=1, max_length=500)

    def to_proto(self, stay_id: UUID) -> pb.ExtendStayRequest:
        return pb.ExtendStayRequest(
            stay_id=str(stay_id),
            until=self.until.isoformat(),
            decision_number=self.decision_number,
            reason=self.reason,
        )


class RefusalIn(BaseModel):
    """A refusal to admit, recorded by the operator (SHL-6)."""

    model_config = input_config(
        {
            "shelter_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "adult": {"full_name": "Dana K.", "birth_date": "1990-05-14"},
            "minors": 1,
            "reason": "needs_other_care",
            "referred_to": "city hospital No. 1",
        }
    )

    shelter_id: UUID
    adult: ResidentIn
    minors: StrictInt = Field(default=0, ge=0, le=20)
    reason: RefusalReason
    detail: FreeText = Field(default="", max_length=300)
    referred_to: Line = Field(default="", max_length=300)
    waitlist: bool = Field(default=False, description="Queue for the next free beds.")

    def to_proto(self, idempotency_key: str | None) -> pb.RecordRefusalRequest:
        return pb.RecordRefusalRequest(
            idempotency_key=idempotency_key or "",
            shelter_id=str(self.shelter_id),
            adult=self.adult.to_proto(),
            minors=self.minors,
            reason=REFUSAL_REASONS.to_proto(self.reason),
            detail=self.detail,
            referred_to=self.referred_to,
            waitlist=self.waitlist,
        )


class Refusal(BaseModel):
    id: UUID
    shelter_id: UUID
    adult: Resident
    persons: int
    reason: RefusalReason
    detail: str | None
    referred_to: str | None
    refused_at: datetime
    recorded_by: str
    waitlist_id: UUID | None

    @classmethod
    def from_proto(cls, msg: pb.Refusal) -> Refusal:
        return cls(
            id=msg.id,
            shelter_id=msg.shelter_id,
            adult=Resident.from_proto(msg.adult),
            persons=msg.persons,
            reason=REFUSAL_REASONS.from_proto(msg.reason),
            detail=msg.detail or None,
            referred_to=msg.referred_to or None,
            refused_at=at(msg, "refused_at"),
            recorded_by=msg.recorded_by,
            waitlist_id=msg.waitlist_id or None,
        )


class RefusalPage(BaseModel):
    """One page of a shelter's refusals, the latest first."""

    items: list[Refusal]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListRefusalsResponse) -> RefusalPage:
        return cls(
            items=[Refusal.from_proto(r) for r in msg.refusals],
            next_page_token=page_token_out(msg.next_page_token),
        )


class WaitlistEntry(BaseModel):
    id: UUID
    shelter_id: UUID
    adult: Resident
    persons: int
    queued_at: datetime
    state: WaitlistState
    hold_id: UUID | None = Field(description="The beds held for the person when offered.")
    position: int | None = Field(
        description="1 is offered the next free beds; null unless waiting."
    )

    @classmethod
    def from_proto(cls, msg: pb.WaitlistEntry) -> WaitlistEntry:
        return cls(
            id=msg.id,
            shelter_id=msg.shelter_id,
            adult=Resident.from_proto(msg.adult),
            persons=msg.persons,
            queued_at=at(msg, "queued_at"),
            state=WAITLIST_STATES.from_proto(msg.state),
            hold_id=msg.hold_id or None,
            position=msg.position or None,
        )


class WaitlistPage(BaseModel):
    """One page of a shelter's waiting list in queue order."""

    items: list[WaitlistEntry]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListWaitlistResponse) -> WaitlistPage:
        return cls(
            items=[WaitlistEntry.from_proto(e) for e in msg.entries],
            next_page_token=page_token_out(msg.next_page_token),
        )


class OccupancyDay(BaseModel):
    shelter_id: UUID
    day: date = Field(description="Local date of the territory.")
    occupied: int
    capacity: int


class ShelterBedDays(BaseModel):
    shelter_id: UUID
    shelter_name: str
    bed_days: int


class LengthBucket(BaseModel):
    length: str = Field(examples=["0-7"], description="Days: 0-7, 8-14, 15-31, 32+.")
    stays: int


class ReasonCount(BaseModel):
    reason: RefusalReason
    refusals: int


_Hours = Literal[
    "delivery_hours_median",
    "delivery_hours_p90",
    "acknowledgement_hours_median",
    "acknowledgement_hours_p90",
]


def _optional(msg: notify_pb2.NoticeTimeliness, name: _Hours) -> float | None:
    value: float = getattr(msg, name)
    return value if msg.HasField(name) else None


class NoticeTimeliness(BaseModel):
    """How the notices created in the period to one agency type under one rule were delivered
    and acknowledged (MON-6, SHL-3); hours from the notice's creation."""

    recipient_agency_type: str = Field(examples=["police"])
    rule: str = Field(examples=["SHL-3"])
    created: int
    delivered_on_time: int = Field(description="Delivered at or before the due time.")
    delivered_late: int = Field(description="Delivered after the due time.")
    undelivered_overdue: int = Field(description="Not delivered, past the due time at `as_of`.")
    undelivered_not_due: int = Field(description="Not delivered, not yet due at `as_of`.")
    acknowledged: int
    delivery_hours_median: float | None = Field(description="Null when none was delivered.")
    delivery_hours_p90: float | None
    acknowledgement_hours_median: float | None = Field(
        description="Null when none was acknowledged."
    )
    acknowledgement_hours_p90: float | None

    @classmethod
    def from_proto(cls, msg: notify_pb2.NoticeTimeliness) -> NoticeTimeliness:
        return cls(
            recipient_agency_type=msg.recipient_agency_type,
            rule=msg.rule,
            created=msg.created,
            delivered_on_time=msg.delivered_on_time,
            delivered_late=msg.delivered_late,
            undelivered_overdue=msg.undelivered_overdue,
            undelivered_not_due=msg.undelivered_not_due,
            acknowledged=msg.acknowledged,
            delivery_hours_median=_optional(msg, "delivery_hours_median"),
            delivery_hours_p90=_optional(msg, "delivery_hours_p90"),
            acknowledgement_hours_median=_optional(msg, "acknowledgement_hours_median"),
            acknowledgement_hours_p90=_optional(msg, "acknowledgement_hours_p90"),
        )


class ShelterIndicators(BaseModel):
    """Shelter indicators over `[from, to)` in one territory (MON-6); aggregates only."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day of the period (inclusive).")
    to: date = Field(description="Day after the period (exclusive).")
    territory: str = Field(examples=["kz-ast"])
    as_of: datetime
    occupancy: list[OccupancyDay] = Field(description="Occupied beds per shelter and local date.")
    bed_days: list[ShelterBedDays] = Field(description="Per shelter (SHL-5).")
    stays_by_length: list[LengthBucket] = Field(description="Stays admitted in the period.")
    admissions: int
    admissions_with_minors: int
    minors_admitted: int
    refusals: list[ReasonCount] = Field(description="Refusals in the period by reason (SHL-6).")
    notices: list[NoticeTimeliness] = Field(
        description="Notices created in the period, per recipient agency type and rule (notify)."
    )

    @classmethod
    def from_proto(
        cls,
        msg: pb.ReportIndicatorsResponse,
        *,
        from_: date,
        to: date,
        notices: notify_pb2.ReportNoticeIndicatorsResponse | None = None,
    ) -> ShelterIndicators:
        return cls(
            from_=from_,
            to=to,
            territory=msg.territory,
            as_of=at(msg, "as_of"),
            occupancy=[
                OccupancyDay(
                    shelter_id=o.shelter_id,
                    day=date.fromisoformat(o.date),
                    occupied=o.occupied,
                    capacity=o.capacity,
                )
                for o in msg.occupancy
            ],
            bed_days=[
                ShelterBedDays(
                    shelter_id=b.shelter_id, shelter_name=b.shelter_name, bed_days=b.bed_days
                )
                for b in msg.bed_days
            ],
            stays_by_length=[
                LengthBucket(length=b.length, stays=b.stays) for b in msg.stays_by_length
            ],
            admissions=msg.admissions,
            admissions_with_minors=msg.admissions_with_minors,
            minors_admitted=msg.minors_admitted,
            refusals=[
                ReasonCount(reason=REFUSAL_REASONS.from_proto(r.reason), refusals=r.refusals)
                for r in msg.refusals
            ],
            notices=[NoticeTimeliness.from_proto(r) for r in notices.rows] if notices else [],
        )


SupportKind = TypeAliasType(
    "SupportKind",
    Literal["information", "legal", "psychological", "employment", "medical", "state_support"],
)
SUPPORT_KINDS = EnumMap[pb.SupportKind.ValueType, SupportKind](pb.SupportKind, "SUPPORT_KIND_")


class SupportItemIn(BaseModel):
    """One kind of support a resident gets (SHL-4), the agency that carries it out, when due."""

    kind: SupportKind = Field(
        description="SHL-4: information; legal or psychological help; help with employment and "
        "training; free guaranteed medical care; advice on state support."
    )
    agency_id: Line = Field(min_length=1, max_length=100, examples=["hlt-ast-1"])
    agency_type: AgencyType
    due_on: IsoDate = Field(description="Within the stay, in the territory's local time.")

    def to_proto(self) -> pb.SupportItem:
        return pb.SupportItem(
            kind=SUPPORT_KINDS.to_proto(self.kind),
            agency_id=self.agency_id,
            agency_type=self.agency_type,
            due_on=self.due_on.isoformat(),
        )


class SupportIn(BaseModel):
    """A resident's support (SHL-4): each item becomes a measure of the case's plan."""

    model_config = input_config(
        {
            "case_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "items": [
                {
                    "kind": "medical",
                    "agency_id": "hlt-ast-1",
                    "agency_type": "health",
                    "due_on": "2026-12-20",
                }
            ],
        }
    )

    case_id: UUID = Field(description="The intake case of the stay; its plan gets the measures.")
    items: list[SupportItemIn] = Field(min_length=1, max_length=20)

    def to_proto(self, stay_id: UUID, idempotency_key: str | None) -> pb.RecordSupportRequest:
        return pb.RecordSupportRequest(
            idempotency_key=idempotency_key or "",
            stay_id=str(stay_id),
            case_id=str(self.case_id),
            items=[i.to_proto() for i in self.items],
        )


class SupportItem(BaseModel):
    kind: SupportKind
    agency_id: str
    agency_type: str
    due_on: date


class Support(BaseModel):
    """The recorded support; plans adds the measures to the case's plan shortly after."""

    id: UUID
    stay_id: UUID
    case_id: UUID
    items: list[SupportItem]

    @classmethod
    def from_proto(cls, msg: pb.RecordSupportResponse) -> Support:
        return cls(
            id=msg.support_id,
            stay_id=msg.stay_id,
            case_id=msg.case_id,
            items=[
                SupportItem(
                    kind=SUPPORT_KINDS.from_proto(i.kind),
                    agency_id=i.agency_id,
                    agency_type=i.agency_type,
                    due_on=date.fromisoformat(i.due_on),
                )
                for i in msg.items
            ],
        )
