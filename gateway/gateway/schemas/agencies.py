"""The agency directory (PLN-2, seed 003 4.2) and measure routing: decline, re-route, amend at a
review (PLN-13), and what each agency did with its measures (MON-3)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    EnumMap,
    FreeText,
    IsoDate,
    Line,
    input_config,
    page_token_out,
)
from gateway.schemas.plans import MEASURE_KINDS, AgencyType, MeasureDraftIn, MeasureKind
from gateway.schemas.routing import AgencyContact, DeclineReason
from kamqor.plans.v1 import agencies_pb2 as apb

DECLINE_REASONS = EnumMap[apb.DeclineReason.ValueType, DeclineReason](
    apb.DeclineReason, "DECLINE_REASON_"
)


# --- requests -------------------------------------------------------------------------------


class DeclineIn(BaseModel):
    model_config = input_config(
        {"reason": "no_capacity", "comment": "No places in the after-school group this term"}
    )

    reason: DeclineReason
    comment: FreeText = Field(
        default="", max_length=4000, description="Required when the reason is `other`."
    )

    def to_proto(self, measure_id: str) -> apb.DeclineMeasureRequest:
        return apb.DeclineMeasureRequest(
            measure_id=measure_id,
            reason=DECLINE_REASONS.to_proto(self.reason),
            comment=self.comment,
        )


class RerouteIn(BaseModel):
    model_config = input_config({"agency_id": "soc-khm-1", "deadline": "2026-06-30"})

    agency_id: Line = Field(
        min_length=1, max_length=100, description="Another agency competent for the kind."
    )
    deadline: IsoDate = Field(description="The new clock: after today, within the plan term.")


class MeasureAddIn(BaseModel):
    """A measure added at a review (PLN-13); it is sent to its agency at once."""

    model_config = input_config(
        {
            "measure": {
                "kind": "medical",
                "agency_id": "hlt-ast-1",
                "agency_type": "health",
                "title": "Dispensary check-up of the children",
                "deadline": "2026-06-30",
            },
            "reason": "The interim review found the children's check-up overdue",
        }
    )

    measure: MeasureDraftIn
    reason: FreeText = Field(min_length=1, max_length=4000)

    def to_proto(self, plan_id: str, idempotency_key: str | None) -> apb.AddMeasureRequest:
        return apb.AddMeasureRequest(
            plan_id=plan_id,
            measure=self.measure.to_proto(),
            reason=self.reason,
            idempotency_key=idempotency_key or "",
        )


class MeasureAmendIn(BaseModel):
    """What a review changes; absent fields stay as they are (PLN-13)."""

    model_config = input_config(
        {"deadline": "2026-07-15", "reason": "The school asked for two more weeks"}
    )

    deadline: IsoDate | None = Field(
        default=None, description="After today and within the plan term."
    )
    title: Line | None = Field(default=None, min_length=1, max_length=500)
    target: Line | None = Field(
        default=None, max_length=200, description="Empty for the whole family."
    )
    reason: FreeText = Field(min_length=1, max_length=4000)

    def to_proto(self, measure_id: str) -> apb.AmendMeasureRequest:
        return apb.AmendMeasureRequest(
            measure_id=measure_id,
            deadline=self.deadline.isoformat() if self.deadline else "",
            title=self.title or "",
            target=self.target or "",
            clear_target=self.target == "",
            reason=self.reason,
        )


class CancelIn(BaseModel):
    model_config = input_config({"reason": "The family moved to another school"})

    reason: FreeText = Field(min_length=1, max_length=4000)


# --- responses ------------------------------------------------------------------------------


class Agency(BaseModel):
    """One agency of the directory: whom a measure may go to, and how to reach it."""

    id: str
    territory: str
    agency_type: AgencyType
    name: str
    competences: list[MeasureKind] = Field(description="The kinds it may carry out (PLN-2).")
    contact: AgencyContact
    users: list[str] = Field(description="Its people's usernames; to its own staff only.")
    active: bool = Field(description="False once the directory no longer lists it.")

    @classmethod
    def from_proto(cls, msg: apb.Agency) -> Agency:
        return cls(
            id=msg.id,
            territory=msg.territory,
            agency_type=msg.agency_type,
            name=msg.name,
            competences=[MEASURE_KINDS.from_proto(k) for k in msg.competences],
            contact=AgencyContact.from_proto(msg.contact),
            users=list(msg.users),
            active=msg.active,
        )


class AgencyPage(BaseModel):
    """One page of the caller's territory's agencies, in id order."""

    items: list[Agency]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: apb.ListAgenciesResponse) -> AgencyPage:
        return cls(
            items=[Agency.from_proto(a) for a in msg.agencies],
            next_page_token=page_token_out(msg.next_page_token),
        )


class AgencyMeasureCounts(BaseModel):
    """What became of one agency's measures sent in the period."""

    agency_id: str
    agency_name: str
    sent: int = Field(description="Sendings; a re-routed measure counts for each agency.")
    reported_on_time: int = Field(description="Reported by the deadline (PLN-7).")
    reported_late: int
    completed: int = Field(description="Marked completed by the center (PLN-9).")
    declined: int = Field(description="Declined by this agency.")
    returned: int = Field(description="Returned for rework or repeat at least once (PLN-8).")


class MeasureReport(BaseModel):
    """Per agency of the caller's territory, the measures sent in `[from, to)` and what became
    of them (MON-3); aggregates only, no person or measure named."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day of the period (inclusive).")
    to: date = Field(description="Day after the period (exclusive).")
    territory: str = Field(examples=["kz-ast"])
    agencies: list[AgencyMeasureCounts] = Field(description="Sorted by agency id.")

    @classmethod
    def from_proto(
        cls, msg: apb.MeasureIndicatorsResponse, *, from_: date, to: date
    ) -> MeasureReport:
        return cls(
            from_=from_,
            to=to,
            territory=msg.territory,
            agencies=[
                AgencyMeasureCounts(
                    agency_id=a.agency_id,
                    agency_name=a.agency_name,
                    sent=a.sent,
                    reported_on_time=a.reported_on_time,
                    reported_late=a.reported_late,
                    completed=a.completed,
                    declined=a.declined,
                    returned=a.returned,
                )
                for a in msg.agencies
            ],
        )
