"""Written notices between agencies, each with a due time and an acknowledgement (NTF-7)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    EnumMap,
    at,
    input_config,
    page_token_out,
    when,
)
from kamqor.notify.v1 import notify_pb2 as pb

NoticeState = TypeAliasType("NoticeState", Literal["pending", "acknowledged"])
NOTICE_STATES = EnumMap[pb.NoticeState.ValueType, NoticeState](pb.NoticeState, "NOTICE_STATE_")
NoticeOrder = TypeAliasType("NoticeOrder", Literal["newest_first", "due_first"])
NOTICE_ORDERS = EnumMap[pb.NoticeOrder.ValueType, NoticeOrder](pb.NoticeOrder, "NOTICE_ORDER_")


class Notice(BaseModel):
    """One written notice to one agency."""

    id: UUID
    rule: str = Field(examples=["SHL-3"], description="The rule that requires the notice.")
    recipient_agency_type: str = Field(examples=["police"])
    recipient_agency: str | None = Field(
        default=None,
        examples=["edu-ast-1"],
        description="The one agency the notice is addressed to (NTF-3 measures, PLN-4 copies); "
        "none when it goes to every agency of `recipient_agency_type` in the territory.",
    )
    territory: str
    subject: str = Field(examples=["stay/01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e"])
    text: str
    created_at: datetime
    due_at: datetime
    state: NoticeState
    acknowledged_at: datetime | None
    acknowledged_by_agency: str | None
    delivered_at: datetime | None = Field(
        description="When the first channel delivered it: the sender's obligation is met then "
        "(SHL-3), whether or not it is acknowledged."
    )
    escalated_at: datetime | None = Field(
        description="When it escalated to the center head before its due time (NTF-7)."
    )

    @classmethod
    def from_proto(cls, msg: pb.Notice) -> Notice:
        return cls(
            id=msg.id,
            rule=msg.rule,
            recipient_agency_type=msg.recipient_agency_type,
            recipient_agency=msg.recipient_agency or None,
            territory=msg.territory,
            subject=msg.subject,
            text=msg.text,
            created_at=at(msg, "created_at"),
            due_at=at(msg, "due_at"),
            state=NOTICE_STATES.from_proto(msg.state),
            acknowledged_at=when(msg, "acknowledged_at"),
            acknowledged_by_agency=msg.acknowledged_by_agency or None,
            delivered_at=when(msg, "delivered_at"),
            escalated_at=when(msg, "escalated_at"),
        )


class NoticePage(BaseModel):
    """One page of the caller's notices, newest first."""

    items: list[Notice]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListNoticesResponse) -> NoticePage:
        return cls(
            items=[Notice.from_proto(n) for n in msg.notices],
            next_page_token=page_token_out(msg.next_page_token),
        )


DeliveryState = TypeAliasType("DeliveryState", Literal["pending", "delivered", "failed"])
DELIVERY_STATES = EnumMap[pb.DeliveryState.ValueType, DeliveryState](
    pb.DeliveryState, "DELIVERY_STATE_"
)
DeliveryChannel = TypeAliasType("DeliveryChannel", Literal["webhook", "email", "letter"])


class DeliveryAttempt(BaseModel):
    """One try of one delivery."""

    at: datetime
    ok: bool
    detail: str = Field(
        description="HTTP status, SMTP reply, the letter's registration number, or the error's "
        "class.",
        examples=["HTTP 200"],
    )


class Delivery(BaseModel):
    """A notice on one channel of its recipient agency (configuration decides which)."""

    id: UUID
    notice_id: UUID
    channel: DeliveryChannel
    target: str = Field(
        description="The webhook URL, the agency's mailbox, or `registry` for a letter."
    )
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    receipt: str | None = Field(
        description="The webhook's 2xx status, the SMTP server's acceptance, or the letter's "
        "registration number."
    )
    history: list[DeliveryAttempt]

    @classmethod
    def from_proto(cls, msg: pb.Delivery) -> Delivery:
        return cls(
            id=msg.id,
            notice_id=msg.notice_id,
            channel=msg.channel,
            target=msg.target,
            state=DELIVERY_STATES.from_proto(msg.state),
            attempts=msg.attempts,
            next_attempt_at=when(msg, "next_attempt_at"),
            delivered_at=when(msg, "delivered_at"),
            receipt=msg.receipt or None,
            history=[
                DeliveryAttempt(at=at(a, "at"), ok=a.ok, detail=a.detail) for a in msg.history
            ],
        )


class DeliveryList(BaseModel):
    """The deliveries of one notice, one per channel."""

    items: list[Delivery]


class NoticeReceiptIn(BaseModel):
    """A receipt a recipient agency's system posts for a notice addressed to it (NTF-7), signed
    over the raw body as our webhooks are (`X-Kamqor-Signature`)."""

    model_config = input_config(
        {
            "receipt_id": "5b0e3f5c-2d7c-4f0e-9d0a-9a3c1b2e4f60",
            "notice_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
        }
    )

    receipt_id: UUID = Field(
        description="The sender's own id of this receipt: recorded once; the same receipt "
        "again changes nothing, the same id for another notice is a 409."
    )
    notice_id: UUID


class NoticeReceipt(BaseModel):
    """What a receipt recorded: the notice's acknowledgement (NTF-7)."""

    receipt_id: UUID
    notice_id: UUID
    acknowledged_at: datetime
    first: bool = Field(
        description="False when this receipt had been recorded before (a retry or a replay)."
    )

    @classmethod
    def from_proto(cls, msg: pb.RecordReceiptResponse) -> NoticeReceipt:
        return cls(
            receipt_id=msg.receipt_id,
            notice_id=msg.notice_id,
            acknowledged_at=at(msg, "acknowledged_at"),
            first=msg.first,
        )
