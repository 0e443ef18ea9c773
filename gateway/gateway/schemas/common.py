"""Conversions shared by the schema modules: proto enums, timestamps, dates, pages; and the
obligation every service presents the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field

from kamqor.deadlines.v1 import deadlines_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)
L = TypeVar("L", bound=str)


def input_config(*examples: dict[str, Any]) -> ConfigDict:
    """Request bodies refuse unknown fields, so a misspelt field is a 422 naming it."""
    if not examples:
        return ConfigDict(extra="forbid")
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class EnumMap(Generic[V, L]):
    """A proto enum (`CHANNEL_HOTLINE_111`) as the API's lower-case name (`hotline_111`)."""

    def __init__(self, wrapper: _EnumTypeWrapper[V], prefix: str) -> None:
        self._wrapper = wrapper
        self._prefix = prefix

    def to_proto(self, name: L) -> V:
        return self._wrapper.Value(self._prefix + name.upper())

    def from_proto(self, value: V) -> L:
        return cast(L, self._wrapper.Name(value).removeprefix(self._prefix).lower())

    def names(self) -> frozenset[str]:
        """Every API name except the unspecified zero value."""
        unspecified = self._prefix + "UNSPECIFIED"
        keys = self._wrapper.keys()
        return frozenset(k.removeprefix(self._prefix).lower() for k in keys if k != unspecified)


def when(msg: Message, field: str) -> datetime | None:
    """A set Timestamp field as an aware UTC datetime; None when unset."""
    if not msg.HasField(field):
        return None
    value: datetime = getattr(msg, field).ToDatetime(tzinfo=UTC)
    return value


def at(msg: Message, field: str) -> datetime:
    """A Timestamp field the service always sets."""
    value = when(msg, field)
    if value is None:
        raise ValueError(f"{type(msg).__name__}.{field} is not set")
    return value


def iso_date(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def parse_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


class Obligation(BaseModel):
    """A legal term with its due time, computed once when it arose (MON-3)."""

    id: str
    rule: str = Field(examples=["INT-3/primary"], description="Term key of DOMAIN.md.")
    subject: str = Field(description="The entity the term is about, e.g. `family/<id>`.")
    responsible_agency: str
    responsible_person: str = Field(description="Empty when no one person is named.")
    due_at: datetime
    state: str = Field(examples=["open"], description="open, met or cancelled")
    met_at: datetime | None
    on_time: bool | None = Field(description="null until met.")
    profile: str
    profile_version: str
    calendar_version: str

    @classmethod
    def from_proto(cls, msg: deadlines_pb2.Obligation) -> Obligation:
        return cls(
            id=msg.id,
            rule=msg.rule,
            subject=msg.subject,
            responsible_agency=msg.responsible_agency,
            responsible_person=msg.responsible_person,
            due_at=at(msg, "due_at"),
            state=msg.state,
            met_at=when(msg, "met_at"),
            on_time=msg.on_time if msg.HasField("on_time") else None,
            profile=msg.profile,
            profile_version=msg.profile_version,
            calendar_version=msg.calendar_version,
        )
