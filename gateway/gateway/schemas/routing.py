"""What a measure shows of its agency and its way (seed 003 4.2, PLN-13): the parts of the
plans schemas that the agency directory and routing add."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from gateway.schemas.common import at
from kamqor.plans.v1 import plans_pb2 as pb

DeclineReason = TypeAliasType(
    "DeclineReason", Literal["not_competent", "person_unreachable", "no_capacity", "other"]
)
ChangeAction = TypeAliasType(
    "ChangeAction", Literal["added", "amended", "cancelled", "declined", "rerouted"]
)


class AgencyContact(BaseModel):
    """How to reach a responsible organisation (seed 003 4.2)."""

    phone: str
    email: str
    address: str

    @classmethod
    def from_proto(cls, msg: pb.AgencyContact) -> AgencyContact:
        return cls(phone=msg.phone, email=msg.email, address=msg.address)


class MeasureChange(BaseModel):
    """One routing or amendment of a measure: who, when, why, before and after (PLN-13)."""

    action: ChangeAction
    changed_by: str = Field(description="Username of who made the change.")
    changed_at: datetime
    reason: str = Field(description="Why; for a decline, the agency's comment.")
    before: dict[str, str]
    after: dict[str, str]

    @classmethod
    def from_proto(cls, msg: pb.MeasureChange) -> MeasureChange:
        return cls(
            action=msg.action,
            changed_by=msg.changed_by,
            changed_at=at(msg, "changed_at"),
            reason=msg.reason,
            before=dict(msg.before),
            after=dict(msg.after),
        )
