"""The electronic journal of appeals (INT-2) and the obligations each entry opens (INT-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    BirthDate,
    EnumMap,
    FreeText,
    Line,
    Obligation,
    at,
    input_config,
    iso_date,
    page_token_out,
    parse_date,
)
from kamqor.intake.v1 import intake_pb2 as pb

Channel = TypeAliasType(
    "Channel",
    Literal[
        "hotline_111",
        "in_person",
        "phone",
        "online",
        "state_system",
        "report",
        "media",
        "mobile_group",
        "signal_card",
    ],
)
Relation = TypeAliasType("Relation", Literal["applicant", "mother", "father", "child", "other"])
CHANNELS = EnumMap[pb.Channel.ValueType, Channel](pb.Channel, "CHANNEL_")
RELATIONS = EnumMap[pb.Relation.ValueType, Relation](pb.Relation, "RELATION_")
AppealOrder = TypeAliasType(
    "AppealOrder", Literal["newest_first", "oldest_first", "journal_number"]
)
APPEAL_ORDERS = EnumMap[pb.AppealOrder.ValueType, AppealOrder](pb.AppealOrder, "APPEAL_ORDER_")


class AppealPersonIn(BaseModel):
    """Someone the appeal is about."""

    model_config = input_config()

    full_name: Line = Field(min_length=1, max_length=200, examples=["Aigerim Nurlanovna S."])
    relation: Relation
    birth_date: BirthDate | None = Field(
        default=None, description="Omit when unknown; not in the future, at most 120 years ago."
    )


class AppealIn(BaseModel):
    """A new appeal or piece of information, registered before anything else happens (INT-2)."""

    model_config = input_config(
        {
            "channel": "hotline_111",
            "summary": "Neighbour reports children left alone for two days.",
            "persons": [
                {"full_name": "Dana K.", "relation": "mother"},
                {"full_name": "Arman K.", "relation": "child", "birth_date": "2017-04-02"},
            ],
            "threat_to_life": False,
            "domestic_violence": True,
        }
    )

    channel: Channel
    summary: FreeText = Field(min_length=1, max_length=4000)
    persons: list[AppealPersonIn] = Field(max_length=30)
    threat_to_life: StrictBool = Field(
        default=False, description="A direct threat to life or health (INT-3: 1 working day)."
    )
    domestic_violence: StrictBool = False

    def to_proto(self, idempotency_key: str | None) -> pb.RegisterAppealRequest:
        return pb.RegisterAppealRequest(
            idempotency_key=idempotency_key or "",
            channel=CHANNELS.to_proto(self.channel),
            summary=self.summary,
            persons=[
                pb.Person(
                    full_name=p.full_name,
                    relation=RELATIONS.to_proto(p.relation),
                    birth_date=iso_date(p.birth_date),
                )
                for p in self.persons
            ],
            threat_to_life=self.threat_to_life,
            domestic_violence=self.domestic_violence,
        )


class AppealPerson(BaseModel):
    """Someone an appeal is about."""

    full_name: str
    relation: Relation
    birth_date: date | None


class Appeal(BaseModel):
    """One entry of the electronic journal."""

    id: UUID
    journal_number: str = Field(examples=["fc-ast-1/2026/000042"])
    center_id: str
    territory: str
    channel: Channel
    registered_at: datetime
    summary: str
    persons: list[AppealPerson]
    threat_to_life: bool
    domestic_violence: bool
    obligations: list[Obligation]
    registered_by: str

    @classmethod
    def from_proto(cls, msg: pb.Appeal) -> Appeal:
        return cls(
            id=msg.id,
            journal_number=msg.journal_number,
            center_id=msg.center_id,
            territory=msg.territory,
            channel=CHANNELS.from_proto(msg.channel),
            registered_at=at(msg, "registered_at"),
            summary=msg.summary,
            persons=[
                AppealPerson(
                    full_name=p.full_name,
                    relation=RELATIONS.from_proto(p.relation),
                    birth_date=parse_date(p.birth_date),
                )
                for p in msg.persons
            ],
            threat_to_life=msg.threat_to_life,
            domestic_violence=msg.domestic_violence,
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            registered_by=msg.registered_by,
        )


class AppealPage(BaseModel):
    """One page of the journal in the requested order."""

    items: list[Appeal]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListAppealsResponse) -> AppealPage:
        return cls(
            items=[Appeal.from_proto(a) for a in msg.appeals],
            next_page_token=page_token_out(msg.next_page_token),
        )
