"""gRPC servicers of the agency directory and of measure routing: proto to domain and back."""

from __future__ import annotations

from typing import Any

import grpc

from kamqor import idempotency
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import agencies_pb2_grpc
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.runtime import Wiring
from plans import rules
from plans.agencies_pb import agency_pb
from plans.rules.routing import DeclineReason
from plans.service import agencies, routing
from plans.servicer import _KINDS, _date, _measure_in, _measure_pb, _one_of

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs (kamqor.inputs).
FREE_TEXT = (
    apb.DeclineMeasureRequest.DESCRIPTOR.fields_by_name["comment"],
    apb.AddMeasureRequest.DESCRIPTOR.fields_by_name["reason"],
    apb.AmendMeasureRequest.DESCRIPTOR.fields_by_name["reason"],
    apb.CancelMeasureRequest.DESCRIPTOR.fields_by_name["reason"],
)
_REASONS = {
    apb.DECLINE_REASON_NOT_COMPETENT: DeclineReason.NOT_COMPETENT,
    apb.DECLINE_REASON_PERSON_UNREACHABLE: DeclineReason.PERSON_UNREACHABLE,
    apb.DECLINE_REASON_NO_CAPACITY: DeclineReason.NO_CAPACITY,
    apb.DECLINE_REASON_OTHER: DeclineReason.OTHER,
}


class AgenciesServicer(agencies_pb2_grpc.AgenciesServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def ListAgencies(
        self, request: apb.ListAgenciesRequest, context: Ctx
    ) -> apb.ListAgenciesResponse:
        kind = _one_of(_KINDS, request.kind, "kind") if request.kind else None
        principal = current_principal()
        async with self._w.transaction() as session:
            rows, token = await agencies.list_agencies(
                session,
                principal=principal,
                kind=kind,
                include_inactive=request.include_inactive,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return apb.ListAgenciesResponse(
            agencies=[agency_pb(a, with_users=agencies.shows_users(principal, a)) for a in rows],
            next_page_token=token,
        )

    async def GetAgency(self, request: apb.GetAgencyRequest, context: Ctx) -> apb.GetAgencyResponse:
        principal = current_principal()
        async with self._w.transaction() as session:
            agency = await agencies.get_agency(
                session, principal=principal, agency_id=request.agency_id
            )
        return apb.GetAgencyResponse(
            agency=agency_pb(agency, with_users=agencies.shows_users(principal, agency))
        )


class MeasureRoutingServicer(agencies_pb2_grpc.MeasureRoutingServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def DeclineMeasure(
        self, request: apb.DeclineMeasureRequest, context: Ctx
    ) -> apb.DeclineMeasureResponse:
        reason = _one_of(_REASONS, request.reason, "reason")
        async with self._w.transaction() as session:
            view = await routing.decline_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                reason=reason,
                comment=request.comment,
            )
        return apb.DeclineMeasureResponse(measure=_measure_pb(view))

    async def RerouteMeasure(
        self, request: apb.RerouteMeasureRequest, context: Ctx
    ) -> apb.RerouteMeasureResponse:
        deadline = _date(request.deadline, "deadline")
        async with self._w.transaction() as session:
            view = await routing.reroute_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                agency_id=request.agency_id,
                deadline=deadline,
            )
        return apb.RerouteMeasureResponse(measure=_measure_pb(view))

    async def AddMeasure(
        self, request: apb.AddMeasureRequest, context: Ctx
    ) -> apb.AddMeasureResponse:
        draft = _draft(request.measure)
        async with self._w.transaction() as session:
            view = await routing.add_measure(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                draft=draft,
                reason=request.reason,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return apb.AddMeasureResponse(measure=_measure_pb(view))

    async def AmendMeasure(
        self, request: apb.AmendMeasureRequest, context: Ctx
    ) -> apb.AmendMeasureResponse:
        deadline = _date(request.deadline, "deadline") if request.deadline else None
        target = "" if request.clear_target else (request.target or None)
        async with self._w.transaction() as session:
            view = await routing.amend_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                deadline=deadline,
                title=request.title or None,
                target=target,
                reason=request.reason,
            )
        return apb.AmendMeasureResponse(measure=_measure_pb(view))

    async def CancelMeasure(
        self, request: apb.CancelMeasureRequest, context: Ctx
    ) -> apb.CancelMeasureResponse:
        async with self._w.transaction() as session:
            view = await routing.cancel_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                reason=request.reason,
            )
        return apb.CancelMeasureResponse(measure=_measure_pb(view))

    async def MeasureIndicators(
        self, request: apb.MeasureIndicatorsRequest, context: Ctx
    ) -> apb.MeasureIndicatorsResponse:
        principal = current_principal()
        from_date = _date(request.from_date, "from")
        to_date = _date(request.to_date, "to")
        async with self._w.transaction() as session:
            rows = await routing.measure_indicators(
                session, principal=principal, from_date=from_date, to_date=to_date
            )
        return apb.MeasureIndicatorsResponse(
            territory=principal.territory,
            agencies=[
                apb.AgencyMeasureCounts(
                    agency_id=r.agency_id,
                    agency_name=r.agency_name,
                    sent=r.counts.sent,
                    reported_on_time=r.counts.reported_on_time,
                    reported_late=r.counts.reported_late,
                    completed=r.counts.completed,
                    declined=r.counts.declined,
                    returned=r.counts.returned,
                )
                for r in rows
            ],
        )


def _draft(msg: pb.MeasureDraft) -> rules.MeasureIn:
    """One measure's draft; its errors name `measure.<field>`."""
    try:
        return _measure_in(msg, 0)
    except Invalid as exc:
        raise Invalid(exc.field.replace("measures[0]", "measure"), exc.reason) from None
