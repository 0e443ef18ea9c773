"""Crisis shelter: shelters and their capacity (SHL-6), stays of an adult with minors (SHL-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    BirthDate,
    EnumMap,
    FreeText,
    Line,
    at,
    input_config,
    page_token_out,
    when,
)
from kamqor.shelter.v1 import shelter_pb2 as pb

Referral = TypeAliasType(
    "Referral", Literal["self_application", "employment_and_social_programmes", "health", "police"]
)
StayState = TypeAliasType("StayState", Literal["active", "discharged"])
REFERRALS = EnumMap[pb.Referral.ValueType, Referral](pb.Referral, "REFERRAL_")
STAY_STATES = EnumMap[pb.StayState.ValueType, StayState](pb.StayState, "STAY_STATE_")
StayOrder = TypeAliasType("StayOrder", Literal["latest_admission", "days_left", "name"])
STAY_ORDERS = EnumMap[pb.StayOrder.ValueType, StayOrder](pb.StayOrder, "STAY_ORDER_")


class ShelterIn(BaseModel):
    model_config = input_config({"name": "Crisis unit", "capacity": 12})

    name: Line = Field(
        min_length=1,
        max_length=200,
        description="Unique in the center, case and spacing ignored (409 `shelter-name-taken`).",
    )
    capacity: StrictInt = Field(ge=1, le=10000, description="Beds (SHL-6).")

    def to_proto(self, idempotency_key: str | None) -> pb.RegisterShelterRequest:
        return pb.RegisterShelterRequest(
            idempotency_key=idempotency_key or "", name=self.name, capacity=self.capacity
        )


class Shelter(BaseModel):
    id: UUID
    center_id: str
    territory: str
    name: str
    capacity: int
    occupied: int = Field(description="Beds taken by active stays.")

    @classmethod
    def from_proto(cls, msg: pb.Shelter) -> Shelter:
        return cls(
            id=msg.id,
            center_id=msg.center_id,
            territory=msg.territory,
            name=msg.name,
            capacity=msg.capacity,
            occupied=msg.occupied,
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
        }
    )

    shelter_id: UUID
    adult: ResidentIn
    minors: list[ResidentIn] = Field(default_factory=list, max_length=20)
    referral: Referral = Field(description="Who sent the person (SHL-2).")
    appeal_id: UUID | None = Field(default=None, description="The journal entry it follows from.")

    def to_proto(self, idempotency_key: str | None) -> pb.AdmitRequest:
        return pb.AdmitRequest(
            idempotency_key=idempotency_key or "",
            shelter_id=str(self.shelter_id),
            adult=self.adult.to_proto(),
            minors=[m.to_proto() for m in self.minors],
            referral=REFERRALS.to_proto(self.referral),
            appeal_id=str(self.appeal_id) if self.appeal_id else "",
        )


class DischargeIn(BaseModel):
    model_config = input_config({"reason": "moved to relatives"})

    reason: FreeText = Field(min_length=1, max_length=500)


class Resident(BaseModel):
    full_name: str
    birth_date: date

    @classmethod
    def from_proto(cls, msg: pb.Resident) -> Resident:
        return cls(full_name=msg.full_name, birth_date=msg.birth_date)


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
