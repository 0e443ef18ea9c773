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
from shelter import rules, service
from shelter.models import Shelter

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (pb.DischargeRequest.DESCRIPTOR.fields_by_name["reason"],)

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


def _shelter_pb(row: Shelter, occupied: int) -> pb.Shelter:
    return pb.Shelter(
        id=row.id,
        center_id=row.center_id,
        territory=row.territory,
        name=row.name,
        capacity=row.capacity,
        occupied=occupied,
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
            )
        return pb.RegisterShelterResponse(shelter=_shelter_pb(row, 0))

    async def ListShelters(
        self, request: pb.ListSheltersRequest, context: Ctx
    ) -> pb.ListSheltersResponse:
        async with self._w.transaction() as session:
            rows = await service.list_shelters(session, principal=current_principal())
        return pb.ListSheltersResponse(shelters=[_shelter_pb(s, n) for s, n in rows])

    async def Admit(self, request: pb.AdmitRequest, context: Ctx) -> pb.AdmitResponse:
        if not request.HasField("adult"):
            raise Invalid("adult", "is required")
        referral = _REFERRALS.get(request.referral)
        if referral is None:
            raise Invalid("referral", f"must be one of {sorted(r.value for r in rules.Referral)}")
        adult = _resident(request.adult, "adult")
        minors = [_resident(m, f"minors[{i}]") for i, m in enumerate(request.minors)]
        async with self._w.transaction() as session:
            view = await service.admit(
                session,
                principal=current_principal(),
                shelter_id=request.shelter_id,
                adult=adult,
                minors=minors,
                referral=referral,
                appeal_id=request.appeal_id,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
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
