"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from kamqor import idempotency
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.protoconv import parse_date, ts
from kamqor.runtime import Wiring
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc
from shelter import indicators, placement, rules, service, support
from shelter.models import Bed, Hold, Refusal, Shelter, WaitlistEntry

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (
    pb.DischargeRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.ExtendStayRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.RecordRefusalRequest.DESCRIPTOR.fields_by_name["detail"],
)

_REFERRALS = {
    pb.REFERRAL_SELF_APPLICATION: rules.Referral.SELF_APPLICATION,
    pb.REFERRAL_EMPLOYMENT_AND_SOCIAL_PROGRAMMES: rules.Referral.EMPLOYMENT_AND_SOCIAL_PROGRAMMES,
    pb.REFERRAL_HEALTH: rules.Referral.HEALTH,
    pb.REFERRAL_POLICE: rules.Referral.POLICE,
}
_REFERRAL_PB = {v: k for k, v in _REFERRALS.items()}
_STATES = {
    rules.StayState.ACTIVE: pb.STAY_STATE_ACTIVE,
    rules.StayState.DISCHARGED: pb.STAY_STATE_DISCHARGED,
}
_STATE_FILTER = {v: k for k, v in _STATES.items()}
_BED_STATES = {
    rules.BedState.FREE: pb.BED_STATE_FREE,
    rules.BedState.OCCUPIED: pb.BED_STATE_OCCUPIED,
    rules.BedState.HELD: pb.BED_STATE_HELD,
    rules.BedState.OUT_OF_SERVICE: pb.BED_STATE_OUT_OF_SERVICE,
}
_HOLD_STATES = {
    rules.HoldState.ACTIVE: pb.HOLD_STATE_ACTIVE,
    rules.HoldState.USED: pb.HOLD_STATE_USED,
    rules.HoldState.EXPIRED: pb.HOLD_STATE_EXPIRED,
}
_WAITLIST_STATES = {
    rules.WaitlistState.WAITING: pb.WAITLIST_STATE_WAITING,
    rules.WaitlistState.OFFERED: pb.WAITLIST_STATE_OFFERED,
    rules.WaitlistState.ADMITTED: pb.WAITLIST_STATE_ADMITTED,
    rules.WaitlistState.LAPSED: pb.WAITLIST_STATE_LAPSED,
}
_WAITLIST_FILTER = {v: k for k, v in _WAITLIST_STATES.items()}
_REASONS = {
    pb.REFUSAL_REASON_SHELTER_FULL: rules.RefusalReason.SHELTER_FULL,
    pb.REFUSAL_REASON_NOT_ELIGIBLE: rules.RefusalReason.NOT_ELIGIBLE,
    pb.REFUSAL_REASON_NEEDS_OTHER_CARE: rules.RefusalReason.NEEDS_OTHER_CARE,
    pb.REFUSAL_REASON_DECLINED: rules.RefusalReason.DECLINED,
    pb.REFUSAL_REASON_OTHER: rules.RefusalReason.OTHER,
}
_REASON_PB = {v: k for k, v in _REASONS.items()}
_STAY_ORDERS = {
    pb.STAY_ORDER_UNSPECIFIED: service.StayOrder.LATEST_ADMISSION,
    pb.STAY_ORDER_LATEST_ADMISSION: service.StayOrder.LATEST_ADMISSION,
    pb.STAY_ORDER_DAYS_LEFT: service.StayOrder.DAYS_LEFT,
    pb.STAY_ORDER_NAME: service.StayOrder.NAME,
}


def _resident(msg: pb.Resident, field: str) -> rules.ResidentIn:
    birth = parse_date(msg.birth_date, field=f"{field}.birth_date")
    assert birth is not None
    return rules.ResidentIn(full_name=msg.full_name, birth_date=birth)


_SUPPORT_KINDS = {
    pb.SUPPORT_KIND_INFORMATION: support.SupportKind.INFORMATION,
    pb.SUPPORT_KIND_LEGAL: support.SupportKind.LEGAL,
    pb.SUPPORT_KIND_PSYCHOLOGICAL: support.SupportKind.PSYCHOLOGICAL,
    pb.SUPPORT_KIND_EMPLOYMENT: support.SupportKind.EMPLOYMENT,
    pb.SUPPORT_KIND_MEDICAL: support.SupportKind.MEDICAL,
    pb.SUPPORT_KIND_STATE_SUPPORT: support.SupportKind.STATE_SUPPORT,
}
_SUPPORT_KIND_PB = {v: k for k, v in _SUPPORT_KINDS.items()}


def _support_item(msg: pb.SupportItem, field: str) -> support.SupportItem:
    kind = _SUPPORT_KINDS.get(msg.kind)
    if kind is None:
        raise Invalid(
            f"{field}.kind", f"must be one of {sorted(k.value for k in support.SupportKind)}"
        )
    due_on = parse_date(msg.due_on, field=f"{field}.due_on")
    if due_on is None:
        raise Invalid(f"{field}.due_on", "is required (YYYY-MM-DD)")
    return support.SupportItem(
        kind=kind, agency_id=msg.agency_id, agency_type=msg.agency_type, due_on=due_on
    )


def _shelter_pb(row: Shelter, beds: rules.Occupancy) -> pb.Shelter:
    return pb.Shelter(
        id=row.id,
        center_id=row.center_id,
        territory=row.territory,
        name=row.name,
        capacity=row.capacity,
        occupied=beds.occupied,
        address=row.address,
        contact=row.contact,
        free=beds.free,
        held=beds.held,
        out_of_service=beds.out_of_service,
    )


def _stay_pb(view: service.StayView) -> pb.Stay:
    s = view.stay
    return pb.Stay(
        id=s.id,
        shelter_id=s.shelter_id,
        territory=s.territory,
        adult=pb.Resident(full_name=s.adult_name, birth_date=s.adult_birth_date.isoformat()),
        minors=[
            pb.Resident(full_name=m.full_name, birth_date=m.birth_date.isoformat())
            for m in view.minors
        ],
        referral=_REFERRAL_PB[rules.Referral(s.referral)],
        admitted_at=ts(s.admitted_at),
        latest_end_at=ts(s.latest_end_at),
        state=_STATES[rules.StayState(s.state)],
        discharged_at=ts(s.discharged_at),
        discharge_reason=s.discharge_reason,
        appeal_id=s.appeal_id,
        admitted_by=s.admitted_by,
        days_left=service.days_left(s),
        referral_document=s.referral_document,
        redirected_to=s.redirected_to,
        bed_ids=view.bed_ids,
        specialist_name=s.specialist_name,
        specialist_contact=s.specialist_contact,
        decisions=[
            pb.StayDecision(
                decision_number=d.decision_number,
                reason=d.reason,
                decided_at=ts(d.decided_at),
                decided_by=d.decided_by,
                previous_end_at=ts(d.previous_end_at),
                new_end_at=ts(d.new_end_at),
            )
            for d in view.decisions
        ],
    )


def _bed_pb(bed: Bed, holds: dict[str, Hold]) -> pb.Bed:
    hold = holds.get(bed.hold_id or "")
    return pb.Bed(
        id=bed.id,
        number=bed.number,
        state=_BED_STATES[rules.BedState(bed.state)],
        stay_id=bed.stay_id or "",
        hold_id=bed.hold_id or "",
        hold_expires_at=ts(hold.expires_at) if hold else None,
        out_of_service_reason=bed.out_of_service_reason,
    )


def _hold_pb(hold: Hold, bed_ids: list[str]) -> pb.Hold:
    return pb.Hold(
        id=hold.id,
        shelter_id=hold.shelter_id,
        bed_ids=bed_ids,
        created_at=ts(hold.created_at),
        expires_at=ts(hold.expires_at),
        state=_HOLD_STATES[rules.HoldState(hold.state)],
        note=hold.note,
        waitlist_id=hold.waitlist_id,
    )


def _refusal_pb(row: Refusal) -> pb.Refusal:
    return pb.Refusal(
        id=row.id,
        shelter_id=row.shelter_id,
        adult=pb.Resident(full_name=row.adult_name, birth_date=row.adult_birth_date.isoformat()),
        persons=row.persons,
        reason=_REASON_PB[rules.RefusalReason(row.reason)],
        detail=row.detail,
        referred_to=row.referred_to,
        refused_at=ts(row.refused_at),
        recorded_by=row.recorded_by,
        waitlist_id=row.waitlist_id,
    )


def _entry_pb(row: WaitlistEntry, position: int) -> pb.WaitlistEntry:
    return pb.WaitlistEntry(
        id=row.id,
        shelter_id=row.shelter_id,
        adult=pb.Resident(full_name=row.adult_name, birth_date=row.adult_birth_date.isoformat()),
        persons=row.persons,
        queued_at=ts(row.queued_at),
        state=_WAITLIST_STATES[rules.WaitlistState(row.state)],
        hold_id=row.hold_id,
        position=position,
    )


class ShelterServicer(shelter_pb2_grpc.ShelterServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def RegisterShelter(
        self, request: pb.RegisterShelterRequest, context: Ctx
    ) -> pb.RegisterShelterResponse:
        async with self._w.transaction() as session:
            row = await service.register_shelter(
                session,
                principal=current_principal(),
                name=request.name,
                capacity=request.capacity,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
                address=request.address,
                contact=request.contact,
            )
        return pb.RegisterShelterResponse(
            shelter=_shelter_pb(row, rules.Occupancy(capacity=row.capacity))
        )

    async def ListShelters(
        self, request: pb.ListSheltersRequest, context: Ctx
    ) -> pb.ListSheltersResponse:
        async with self._w.transaction() as session:
            rows = await service.list_shelters(session, principal=current_principal())
        return pb.ListSheltersResponse(shelters=[_shelter_pb(s, beds) for s, beds in rows])

    async def Admit(self, request: pb.AdmitRequest, context: Ctx) -> pb.AdmitResponse:
        if not request.HasField("adult"):
            raise Invalid("adult", "is required")
        referral = _REFERRALS.get(request.referral)
        if referral is None:
            raise Invalid("referral", f"must be one of {sorted(r.value for r in rules.Referral)}")
        if request.when_full not in pb.WhenFull.values():
            raise Invalid("when_full", "must be refuse or waitlist")
        adult = _resident(request.adult, "adult")
        minors = [_resident(m, f"minors[{i}]") for i, m in enumerate(request.minors)]
        principal = current_principal()
        try:
            async with self._w.transaction() as session:
                view = await service.admit(
                    session,
                    principal=principal,
                    shelter_id=request.shelter_id,
                    adult=adult,
                    minors=minors,
                    referral=referral,
                    appeal_id=request.appeal_id,
                    idempotency_key=request.idempotency_key,
                    request_digest=idempotency.request_digest(request),
                    referral_document=request.referral_document,
                    placement_in=service.Placement(
                        bed_ids=list(request.bed_ids), hold_id=request.hold_id
                    ),
                    specialist=(request.specialist_name, request.specialist_contact),
                )
        except placement.ShelterFull as full:
            # The admission rolled back; its refusal is a record of its own (SHL-6).
            async with self._w.transaction() as session:
                refusal = await placement.record_refusal(
                    session,
                    principal=principal,
                    shelter_id=request.shelter_id,
                    refusal=placement.RefusalIn(
                        adult=adult,
                        persons=1 + len(minors),
                        reason=rules.RefusalReason.SHELTER_FULL,
                        detail=full.message,
                        referred_to=request.referred_to,
                        waitlist=request.when_full == pb.WHEN_FULL_WAITLIST,
                    ),
                    request_key=request.idempotency_key,
                )
            queued = " and put on the waiting list" if refusal.waitlist_id else ""
            raise placement.ShelterFull(
                free=full.free,
                needed=full.needed,
                recorded=f"refusal {refusal.id} recorded{queued}",
            ) from None
        return pb.AdmitResponse(stay=_stay_pb(view))

    async def GetStay(self, request: pb.GetStayRequest, context: Ctx) -> pb.GetStayResponse:
        async with self._w.transaction() as session:
            view = await service.get_stay(
                session, principal=current_principal(), stay_id=request.stay_id
            )
        return pb.GetStayResponse(stay=_stay_pb(view))

    async def Discharge(self, request: pb.DischargeRequest, context: Ctx) -> pb.DischargeResponse:
        async with self._w.transaction() as session:
            view = await service.discharge(
                session,
                principal=current_principal(),
                stay_id=request.stay_id,
                reason=request.reason,
                redirected_to=request.redirected_to,
            )
        return pb.DischargeResponse(stay=_stay_pb(view))

    async def ListStays(self, request: pb.ListStaysRequest, context: Ctx) -> pb.ListStaysResponse:
        order = _STAY_ORDERS.get(request.order)
        if order is None:
            raise Invalid("order", f"must be one of {sorted(o.value for o in service.StayOrder)}")
        async with self._w.transaction() as session:
            views, next_token = await service.list_stays(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                state=_STATE_FILTER.get(request.state),
                page_token=request.page_token,
                page_size=request.page_size,
                order=order,
            )
        return pb.ListStaysResponse(stays=[_stay_pb(v) for v in views], next_page_token=next_token)

    async def GetBedBoard(
        self, request: pb.GetBedBoardRequest, context: Ctx
    ) -> pb.GetBedBoardResponse:
        async with self._w.transaction() as session:
            board = await placement.bed_board(
                session, principal=current_principal(), shelter_id=request.shelter_id
            )
        return pb.GetBedBoardResponse(
            shelter=_shelter_pb(board.shelter, board.occupancy),
            beds=[_bed_pb(b, board.holds) for b in board.beds],
            free=board.occupancy.free,
            occupied=board.count(rules.BedState.OCCUPIED),
            held=board.count(rules.BedState.HELD),
            out_of_service=board.count(rules.BedState.OUT_OF_SERVICE),
        )

    async def SetBedService(
        self, request: pb.SetBedServiceRequest, context: Ctx
    ) -> pb.SetBedServiceResponse:
        async with self._w.transaction() as session:
            bed = await placement.set_bed_service(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                number=request.number,
                out_of_service=request.out_of_service,
                reason=request.reason,
            )
        return pb.SetBedServiceResponse(bed=_bed_pb(bed, {}))

    async def HoldBeds(self, request: pb.HoldBedsRequest, context: Ctx) -> pb.HoldBedsResponse:
        async with self._w.transaction() as session:
            hold, bed_ids = await placement.hold_beds(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                beds=request.beds,
                bed_ids=list(request.bed_ids),
                minutes=request.minutes,
                note=request.note,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.HoldBedsResponse(hold=_hold_pb(hold, bed_ids))

    async def ExtendStay(
        self, request: pb.ExtendStayRequest, context: Ctx
    ) -> pb.ExtendStayResponse:
        until = parse_date(request.until, field="until")
        if until is None:
            raise Invalid("until", "is required (YYYY-MM-DD)")
        async with self._w.transaction() as session:
            view = await service.extend_stay(
                session,
                principal=current_principal(),
                stay_id=request.stay_id,
                until=until,
                decision_number=request.decision_number,
                reason=request.reason,
            )
        return pb.ExtendStayResponse(stay=_stay_pb(view))

    async def RecordRefusal(
        self, request: pb.RecordRefusalRequest, context: Ctx
    ) -> pb.RecordRefusalResponse:
        if not request.HasField("adult"):
            raise Invalid("adult", "is required")
        reason = _REASONS.get(request.reason)
        if reason is None:
            raise Invalid(
                "reason", f"must be one of {sorted(r.value for r in rules.RefusalReason)}"
            )
        if request.minors < 0 or request.minors > rules.MAX_MINORS:
            raise Invalid("minors", f"must be between 0 and {rules.MAX_MINORS}")
        adult = _resident(request.adult, "adult")
        async with self._w.transaction() as session:
            row = await placement.record_refusal(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                refusal=placement.RefusalIn(
                    adult=adult,
                    persons=1 + request.minors,
                    reason=reason,
                    detail=request.detail,
                    referred_to=request.referred_to,
                    waitlist=request.waitlist,
                ),
                request_key=request.idempotency_key,
            )
        return pb.RecordRefusalResponse(refusal=_refusal_pb(row))

    async def ListRefusals(
        self, request: pb.ListRefusalsRequest, context: Ctx
    ) -> pb.ListRefusalsResponse:
        async with self._w.transaction() as session:
            rows, token = await placement.list_refusals(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                page_token=request.page_token,
                page_size=request.page_size,
            )
        return pb.ListRefusalsResponse(
            refusals=[_refusal_pb(r) for r in rows], next_page_token=token
        )

    async def ListWaitlist(
        self, request: pb.ListWaitlistRequest, context: Ctx
    ) -> pb.ListWaitlistResponse:
        async with self._w.transaction() as session:
            rows, token = await placement.list_waitlist(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                state=_WAITLIST_FILTER.get(request.state),
                page_token=request.page_token,
                page_size=request.page_size,
            )
        return pb.ListWaitlistResponse(
            entries=[_entry_pb(r, n) for r, n in rows], next_page_token=token
        )

    async def RecordSupport(
        self, request: pb.RecordSupportRequest, context: Ctx
    ) -> pb.RecordSupportResponse:
        items = [_support_item(m, f"items[{i}]") for i, m in enumerate(request.items)]
        async with self._w.transaction() as session:
            view = await support.record_support(
                session,
                principal=current_principal(),
                stay_id=request.stay_id,
                case_id=request.case_id,
                items=items,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.RecordSupportResponse(
            support_id=view.support_id,
            stay_id=view.stay_id,
            case_id=view.case_id,
            items=[
                pb.SupportItem(
                    kind=_SUPPORT_KIND_PB[i.kind],
                    agency_id=i.agency_id,
                    agency_type=i.agency_type,
                    due_on=i.due_on.isoformat(),
                )
                for i in view.items
            ],
        )

    async def ReportIndicators(
        self, request: pb.ReportIndicatorsRequest, context: Ctx
    ) -> pb.ReportIndicatorsResponse:
        async with self._w.transaction() as session:
            found = await indicators.report(
                session,
                principal=current_principal(),
                from_date=request.from_date,
                to_date=request.to_date,
                territory=request.territory,
            )
        return pb.ReportIndicatorsResponse(
            territory=found.territory,
            period_start=ts(found.start),
            period_end=ts(found.end),
            as_of=ts(found.as_of),
            occupancy=[
                pb.OccupancyDay(
                    shelter_id=sid,
                    date=day.isoformat(),
                    occupied=n,
                    capacity=found.capacity.get(sid, 0),
                )
                for (sid, day), n in sorted(found.occupancy.items())
            ],
            bed_days=[
                pb.ShelterBedDays(shelter_id=sid, shelter_name=found.names.get(sid, ""), bed_days=n)
                for sid, n in sorted(found.bed_days.items())
            ],
            stays_by_length=[
                pb.LengthBucket(length=label, stays=n) for label, n in found.stays_by_length.items()
            ],
            admissions=found.admissions,
            admissions_with_minors=found.admissions_with_minors,
            minors_admitted=found.minors_admitted,
            refusals=[
                pb.ReasonCount(reason=_REASON_PB[rules.RefusalReason(r)], refusals=n)
                for r, n in found.refusals.items()
            ],
        )
