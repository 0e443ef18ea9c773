"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.protoconv import page_size, ts
from kamqor.runtime import Wiring
from notify import indicators, receipts, rules, service
from notify.channels import Channels
from notify.models import Delivery, DeliveryAttempt, Notice, Reminder

Ctx = grpc.aio.ServicerContext[Any, Any]

_STATES = {
    rules.NoticeState.PENDING: pb.NOTICE_STATE_PENDING,
    rules.NoticeState.ACKNOWLEDGED: pb.NOTICE_STATE_ACKNOWLEDGED,
}
_DELIVERY_STATES = {
    rules.DeliveryState.PENDING: pb.DELIVERY_STATE_PENDING,
    rules.DeliveryState.DELIVERED: pb.DELIVERY_STATE_DELIVERED,
    rules.DeliveryState.FAILED: pb.DELIVERY_STATE_FAILED,
}
_STATE_FILTER = {v: k for k, v in _STATES.items()}
_NOTICE_ORDERS = {
    pb.NOTICE_ORDER_UNSPECIFIED: service.NoticeOrder.NEWEST_FIRST,
    pb.NOTICE_ORDER_NEWEST_FIRST: service.NoticeOrder.NEWEST_FIRST,
    pb.NOTICE_ORDER_DUE_FIRST: service.NoticeOrder.DUE_FIRST,
}
_KINDS = {
    rules.ReminderKind.REMINDER: pb.REMINDER_KIND_REMINDER,
    rules.ReminderKind.ESCALATION: pb.REMINDER_KIND_ESCALATION,
}
_KIND_FILTER = {v: k for k, v in _KINDS.items()}


def _notice_pb(n: Notice) -> pb.Notice:
    return pb.Notice(
        id=n.id,
        rule=n.rule,
        recipient_agency_type=n.recipient_agency_type,
        territory=n.territory,
        subject=n.subject,
        text=n.text,
        created_at=ts(n.created_at),
        due_at=ts(n.due_at),
        state=_STATES[rules.NoticeState(n.state)],
        acknowledged_at=ts(n.acknowledged_at),
        acknowledged_by_agency=n.acknowledged_by_agency,
        source_event_id=n.source_event_id,
        delivered_at=ts(n.delivered_at),
        sender_agency=n.sender_agency,
        escalated_at=ts(n.escalated_at),
        recipient_agency=n.recipient_agency,
    )


def _delivery_pb(d: Delivery, attempts: list[DeliveryAttempt]) -> pb.Delivery:
    return pb.Delivery(
        id=d.id,
        notice_id=d.notice_id,
        channel=d.channel,
        target=d.target,
        state=_DELIVERY_STATES[rules.DeliveryState(d.state)],
        attempts=d.attempts,
        next_attempt_at=ts(d.next_attempt_at),
        delivered_at=ts(d.delivered_at),
        receipt=d.receipt,
        history=[pb.DeliveryAttempt(at=ts(a.at), ok=a.ok, detail=a.detail) for a in attempts],
    )


def _reminder_pb(r: Reminder) -> pb.Reminder:
    return pb.Reminder(
        id=r.id,
        kind=_KINDS[rules.ReminderKind(r.kind)],
        obligation_id=r.obligation_id,
        producer=r.producer,
        rule=r.rule,
        subject=r.subject,
        territory=r.territory,
        responsible_agency=r.responsible_agency,
        responsible_person=r.responsible_person,
        recipient_agency=r.recipient_agency,
        recipient_role=r.recipient_role,
        text=r.text,
        due_at=ts(r.due_at),
        created_at=ts(r.created_at),
    )


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, wiring: Wiring, channels: Channels | None = None) -> None:
        self._w = wiring
        self._channels = channels or Channels()

    async def RecordReceipt(
        self, request: pb.RecordReceiptRequest, context: Ctx
    ) -> pb.RecordReceiptResponse:
        # No principal: the signature authenticates the call (`notify.receipts`).
        async with self._w.transaction() as session:
            recorded = await receipts.record_receipt(
                session,
                channels=self._channels,
                sender=request.sender,
                timestamp=request.timestamp,
                signature=request.signature,
                body=request.body,
            )
        return pb.RecordReceiptResponse(
            receipt_id=recorded.receipt.id,
            notice_id=recorded.notice.id,
            acknowledged_at=ts(recorded.notice.acknowledged_at),
            first=recorded.first,
        )

    async def ListNotices(
        self, request: pb.ListNoticesRequest, context: Ctx
    ) -> pb.ListNoticesResponse:
        order = _NOTICE_ORDERS.get(request.order)
        if order is None:
            raise Invalid("order", f"must be one of {sorted(o.value for o in service.NoticeOrder)}")
        async with self._w.transaction() as session:
            rows, token = await service.list_notices(
                session,
                principal=current_principal(),
                state=_STATE_FILTER.get(request.state),
                page_token=request.page_token,
                page_size=page_size(request.page_size),
                subjects=list(request.subjects),
                order=order,
            )
        return pb.ListNoticesResponse(notices=[_notice_pb(n) for n in rows], next_page_token=token)

    async def GetNotice(self, request: pb.GetNoticeRequest, context: Ctx) -> pb.GetNoticeResponse:
        async with self._w.transaction() as session:
            row = await service.get_notice(
                session, principal=current_principal(), notice_id=request.notice_id
            )
        return pb.GetNoticeResponse(notice=_notice_pb(row))

    async def AcknowledgeNotice(
        self, request: pb.AcknowledgeNoticeRequest, context: Ctx
    ) -> pb.AcknowledgeNoticeResponse:
        async with self._w.transaction() as session:
            row = await service.acknowledge_notice(
                session, principal=current_principal(), notice_id=request.notice_id
            )
        return pb.AcknowledgeNoticeResponse(notice=_notice_pb(row))

    async def ListReminders(
        self, request: pb.ListRemindersRequest, context: Ctx
    ) -> pb.ListRemindersResponse:
        async with self._w.transaction() as session:
            rows, token = await service.list_reminders(
                session,
                principal=current_principal(),
                kind=_KIND_FILTER.get(request.kind),
                page_token=request.page_token,
                page_size=page_size(request.page_size),
            )
        return pb.ListRemindersResponse(
            reminders=[_reminder_pb(r) for r in rows], next_page_token=token
        )

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: Ctx
    ) -> pb.ListDeliveriesResponse:
        async with self._w.transaction() as session:
            rows = await service.list_deliveries(
                session, principal=current_principal(), notice_id=request.notice_id
            )
            return pb.ListDeliveriesResponse(deliveries=[_delivery_pb(d, a) for d, a in rows])

    async def GetLetter(self, request: pb.GetLetterRequest, context: Ctx) -> pb.GetLetterResponse:
        async with self._w.transaction() as session:
            letter = await service.get_letter(
                session, principal=current_principal(), notice_id=request.notice_id
            )
            return pb.GetLetterResponse(
                registration_number=letter.registration_number,
                registered_at=ts(letter.registered_at),
                pdf=letter.pdf,
            )

    async def ReportNoticeIndicators(
        self, request: pb.ReportNoticeIndicatorsRequest, context: Ctx
    ) -> pb.ReportNoticeIndicatorsResponse:
        async with self._w.transaction() as session:
            found = await indicators.report(
                session,
                principal=current_principal(),
                from_date=request.from_date,
                to_date=request.to_date,
                territory=request.territory,
            )
        return pb.ReportNoticeIndicatorsResponse(
            territory=found.territory,
            period_start=ts(found.start),
            period_end=ts(found.end),
            as_of=ts(found.as_of),
            rows=[
                pb.NoticeTimeliness(
                    recipient_agency_type=r.recipient_agency_type,
                    rule=r.rule,
                    created=r.created,
                    delivered_on_time=r.delivered_on_time,
                    delivered_late=r.delivered_late,
                    undelivered_overdue=r.undelivered_overdue,
                    undelivered_not_due=r.undelivered_not_due,
                    acknowledged=r.acknowledged,
                    delivery_hours_median=r.delivery_hours_median,
                    delivery_hours_p90=r.delivery_hours_p90,
                    acknowledgement_hours_median=r.acknowledgement_hours_median,
                    acknowledgement_hours_p90=r.acknowledgement_hours_p90,
                )
                for r in found.rows
            ],
        )
