"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

import grpc

from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc
from kamqor.protoconv import parse_date, ts
from kamqor.runtime import Wiring
from plans import agencies_pb, rules, service
from plans.servicer_lifecycle import (
    LEVEL_PB,
    LEVELS,
    LifecycleRpcs,
    lifecycle_fields,
    participants_in,
)

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (
    pb.ConcludeReviewRequest.DESCRIPTOR.fields_by_name["conclusion"],
    pb.ClosePlanRequest.DESCRIPTOR.fields_by_name["explanation"],
    pb.EndMonitoringRequest.DESCRIPTOR.fields_by_name["outcome"],
    pb.ReopenPlanRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.ChangeSupportLevelRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.ReportMeasureRequest.DESCRIPTOR.fields_by_name["report"],
    pb.ReturnMeasureRequest.DESCRIPTOR.fields_by_name["reason"],
)
E = TypeVar("E", bound=StrEnum)

_SITUATIONS = {pb.SITUATION_DLS: rules.Situation.DLS, pb.SITUATION_SDP: rules.Situation.SDP}
_SITUATION_PB = {v: k for k, v in _SITUATIONS.items()}
_LEVELS = LEVELS
_LEVEL_PB = LEVEL_PB
_KINDS = {
    pb.MEASURE_KIND_MEDICAL: rules.MeasureKind.MEDICAL,
    pb.MEASURE_KIND_PSYCHOLOGICAL: rules.MeasureKind.PSYCHOLOGICAL,
    pb.MEASURE_KIND_PEDAGOGICAL: rules.MeasureKind.PEDAGOGICAL,
    pb.MEASURE_KIND_LEGAL: rules.MeasureKind.LEGAL,
    pb.MEASURE_KIND_SOCIAL: rules.MeasureKind.SOCIAL,
    pb.MEASURE_KIND_EMPLOYMENT: rules.MeasureKind.EMPLOYMENT,
    pb.MEASURE_KIND_HOUSING: rules.MeasureKind.HOUSING,
    pb.MEASURE_KIND_FAMILY_PARTICIPATION: rules.MeasureKind.FAMILY_PARTICIPATION,
}
_KIND_PB = {v: k for k, v in _KINDS.items()}
_MEASURE_STATES = {
    pb.MEASURE_STATE_DRAFT: rules.MeasureState.DRAFT,
    pb.MEASURE_STATE_SENT: rules.MeasureState.SENT,
    pb.MEASURE_STATE_ASSIGNED: rules.MeasureState.ASSIGNED,
    pb.MEASURE_STATE_REPORTED: rules.MeasureState.REPORTED,
    pb.MEASURE_STATE_RETURNED: rules.MeasureState.RETURNED,
    pb.MEASURE_STATE_COMPLETED: rules.MeasureState.COMPLETED,
    pb.MEASURE_STATE_DECLINED: rules.MeasureState.DECLINED,
    pb.MEASURE_STATE_CANCELLED: rules.MeasureState.CANCELLED,
}
_MEASURE_STATE_PB = {v: k for k, v in _MEASURE_STATES.items()}
_MEASURE_ORDERS = {
    pb.MEASURE_ORDER_UNSPECIFIED: service.MeasureOrder.DRAFTED,
    pb.MEASURE_ORDER_DEADLINE: service.MeasureOrder.DEADLINE,
    pb.MEASURE_ORDER_LATEST_SENT: service.MeasureOrder.LATEST_SENT,
}
_MODES = {
    pb.RETURN_MODE_REWORK: rules.ReturnMode.REWORK,
    pb.RETURN_MODE_REPEAT: rules.ReturnMode.REPEAT,
}
_MODE_PB = {v: k for k, v in _MODES.items()}


def _one_of(table: Mapping[Any, E], value: int, field: str) -> E:
    found = table.get(value)
    if found is None:
        raise Invalid(field, f"must be one of {sorted(v.value for v in table.values())}")
    return found


def _date(value: str, field: str) -> date:
    parsed = parse_date(value, field=field)
    assert parsed is not None
    return parsed


def _measure_in(msg: pb.MeasureDraft, i: int) -> rules.MeasureIn:
    return rules.MeasureIn(
        agency_id=msg.agency_id,
        agency_type=msg.agency_type,
        kind=_one_of(_KINDS, msg.kind, f"measures[{i}].kind"),
        title=msg.title,
        target=msg.target,
        deadline=_date(msg.deadline, f"measures[{i}].deadline"),
    )


def _measure_pb(view: service.MeasureView) -> pb.Measure:
    m = view.measure
    return pb.Measure(
        id=m.id,
        plan_id=m.plan_id,
        territory=m.territory,
        center_id=m.center_id,
        agency_id=m.agency_id,
        agency_type=m.agency_type,
        kind=_KIND_PB[rules.MeasureKind(m.kind)],
        title=m.title,
        target=m.target,
        deadline=m.deadline.isoformat(),
        state=_MEASURE_STATE_PB[rules.MeasureState(m.state)],
        sent_at=ts(m.sent_at),
        assignee=m.assignee,
        assigned_at=ts(m.assigned_at),
        reported_at=ts(m.reported_at),
        report=m.report,
        reported_on_time=bool(m.reported_on_time),
        return_reason=m.return_reason,
        return_mode=_MODE_PB[rules.ReturnMode(m.return_mode)]
        if m.return_mode
        else pb.RETURN_MODE_UNSPECIFIED,
        returns=m.returns,
        completed_on=m.completed_on.isoformat() if m.completed_on else "",
        obligations=[obligations.to_pb(o) for o in view.obligations],
        case_id=view.case_id,
        **agencies_pb.measure_fields(view),
    )


def _plan_pb(view: service.PlanView) -> pb.Plan:
    p = view.plan
    return pb.Plan(
        id=p.id,
        center_id=p.center_id,
        territory=p.territory,
        case_id=p.case_id,
        situation=_SITUATION_PB[rules.Situation(p.situation)],
        support_level=_LEVEL_PB[rules.SupportLevel(p.support_level)]
        if p.support_level
        else pb.SUPPORT_LEVEL_UNSPECIFIED,
        created_by=p.created_by,
        created_at=ts(p.created_at),
        approved_by=p.approved_by,
        approved_at=ts(p.approved_at),
        approval_decision=p.approval_decision,
        term_ends_at=ts(p.term_ends_at),
        measures=[_measure_pb(m) for m in view.measures],
        **lifecycle_fields(view),
    )


class PlansServicer(LifecycleRpcs, plans_pb2_grpc.PlansServiceServicer):
    _plan_out = staticmethod(_plan_pb)
    _measure_in = staticmethod(_measure_in)

    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def CreatePlan(
        self, request: pb.CreatePlanRequest, context: Ctx
    ) -> pb.CreatePlanResponse:
        situation = _one_of(_SITUATIONS, request.situation, "situation")
        level = (
            _one_of(_LEVELS, request.support_level, "support_level")
            if request.support_level
            else None
        )
        measures = [_measure_in(m, i) for i, m in enumerate(request.measures)]
        participants = participants_in(request.participants)
        async with self._w.transaction() as session:
            view = await service.create_plan(
                session,
                principal=current_principal(),
                case_id=request.case_id,
                situation=situation,
                support_level=level,
                measures=measures,
                participants=participants,
                applied_on=parse_date(request.applied_on, field="applied_on", required=False),
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.CreatePlanResponse(plan=_plan_pb(view))

    async def GetPlan(self, request: pb.GetPlanRequest, context: Ctx) -> pb.GetPlanResponse:
        async with self._w.transaction() as session:
            view = await service.get_plan(
                session, principal=current_principal(), plan_id=request.plan_id
            )
        return pb.GetPlanResponse(plan=_plan_pb(view))

    async def ApprovePlan(
        self, request: pb.ApprovePlanRequest, context: Ctx
    ) -> pb.ApprovePlanResponse:
        async with self._w.transaction() as session:
            view = await service.approve_plan(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                decision=request.decision,
                term_months=request.term_months,
            )
        return pb.ApprovePlanResponse(plan=_plan_pb(view))

    async def DesignateAssignee(
        self, request: pb.DesignateAssigneeRequest, context: Ctx
    ) -> pb.DesignateAssigneeResponse:
        async with self._w.transaction() as session:
            view = await service.designate_assignee(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                assignee=request.assignee,
            )
        return pb.DesignateAssigneeResponse(measure=_measure_pb(view))

    async def ListMyMeasures(
        self, request: pb.ListMyMeasuresRequest, context: Ctx
    ) -> pb.ListMyMeasuresResponse:
        state = _one_of(_MEASURE_STATES, request.state, "state") if request.state else None
        order = _one_of(_MEASURE_ORDERS, request.order, "order")
        async with self._w.transaction() as session:
            views, token = await service.list_my_measures(
                session,
                principal=current_principal(),
                state=state,
                page_size=request.page_size,
                page_token=request.page_token,
                order=order,
            )
        return pb.ListMyMeasuresResponse(
            measures=[_measure_pb(v) for v in views], next_page_token=token
        )

    async def ReportMeasure(
        self, request: pb.ReportMeasureRequest, context: Ctx
    ) -> pb.ReportMeasureResponse:
        async with self._w.transaction() as session:
            view = await service.report_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                report=request.report,
            )
        return pb.ReportMeasureResponse(measure=_measure_pb(view))

    async def CompleteMeasure(
        self, request: pb.CompleteMeasureRequest, context: Ctx
    ) -> pb.CompleteMeasureResponse:
        completed_on = _date(request.completed_on, "completed_on")
        async with self._w.transaction() as session:
            view = await service.complete_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                completed_on=completed_on,
            )
        return pb.CompleteMeasureResponse(measure=_measure_pb(view))

    async def ReturnMeasure(
        self, request: pb.ReturnMeasureRequest, context: Ctx
    ) -> pb.ReturnMeasureResponse:
        mode = _one_of(_MODES, request.mode, "mode")
        new_deadline = _date(request.new_deadline, "new_deadline")
        async with self._w.transaction() as session:
            view = await service.return_measure(
                session,
                principal=current_principal(),
                measure_id=request.measure_id,
                mode=mode,
                reason=request.reason,
                new_deadline=new_deadline,
            )
        return pb.ReturnMeasureResponse(measure=_measure_pb(view))
