"""Reminders of approaching obligations and escalations of overdue ones (NTF-7, MON-3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from gateway.schemas.common import NEXT_PAGE_TOKEN_DESCRIPTION, EnumMap, at, page_token_out
from kamqor.notify.v1 import notify_pb2 as pb

ReminderKind = TypeAliasType("ReminderKind", Literal["reminder", "escalation"])
REMINDER_KINDS = EnumMap[pb.ReminderKind.ValueType, ReminderKind](pb.ReminderKind, "REMINDER_KIND_")


class Reminder(BaseModel):
    """A reminder to the responsible agency, or an escalation to the center head."""

    id: UUID
    kind: ReminderKind
    obligation_id: str
    producer: str = Field(examples=["intake"], description="The service that owns the obligation.")
    rule: str = Field(examples=["INT-3/primary"], description="Term key of the obligation.")
    subject: str = Field(examples=["appeal/01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e"])
    territory: str
    responsible_agency: str = Field(examples=["fc-ast-1"])
    responsible_person: str | None
    recipient_agency: str = Field(examples=["fc-ast-1"])
    recipient_role: str = Field(
        examples=["agency"],
        description="`agency`: the agency's staff; `center-head`: the head of the center.",
    )
    text: str
    due_at: datetime
    created_at: datetime

    @classmethod
    def from_proto(cls, msg: pb.Reminder) -> Reminder:
        return cls(
            id=msg.id,
            kind=REMINDER_KINDS.from_proto(msg.kind),
            obligation_id=msg.obligation_id,
            producer=msg.producer,
            rule=msg.rule,
            subject=msg.subject,
            territory=msg.territory,
            responsible_agency=msg.responsible_agency,
            responsible_person=msg.responsible_person or None,
            recipient_agency=msg.recipient_agency,
            recipient_role=msg.recipient_role,
            text=msg.text,
            due_at=at(msg, "due_at"),
            created_at=at(msg, "created_at"),
        )


class ReminderPage(BaseModel):
    """One page of the caller's reminders and escalations, newest first."""

    items: list[Reminder]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListRemindersResponse) -> ReminderPage:
        return cls(
            items=[Reminder.from_proto(r) for r in msg.reminders],
            next_page_token=page_token_out(msg.next_page_token),
        )
