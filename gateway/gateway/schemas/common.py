"""Conversions shared by the schema modules: proto enums, timestamps, dates, pages; and the
obligation every service presents the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, cast

from google.protobuf.message import Message
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from kamqor.clock import utcnow
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.inputs import MAX_AGE_YEARS, text_fault, years_before

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)
L = TypeVar("L", bound=str)


def input_config(*examples: dict[str, Any]) -> ConfigDict:
    """Request bodies refuse unknown fields, so a misspelt field is a 422 naming it."""
    if not examples:
        return ConfigDict(extra="forbid")
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


def _line(value: str) -> str:
    if (fault := text_fault(value)) is not None:
        raise PydanticCustomError("control_character", fault)
    return value


def _free_text(value: str) -> str:
    if (fault := text_fault(value, free_text=True)) is not None:
        raise PydanticCustomError("control_character", fault)
    return value


# Every text a client sends is one of these two (`kamqor.inputs` says why): a `Line` (names,
# numbers, ids, titles, addresses, query parameters) has no control character at all; `FreeText`
# (a summary, a report, a reason, grounds) may keep line breaks and tabs. The services refuse
# the same again, naming the same field.
Line = Annotated[str, AfterValidator(_line)]
FreeText = Annotated[str, AfterValidator(_free_text)]

# The day is the territory's, which the schema does not know: the gateway takes the widest day
# on Earth (UTC-12 to UTC+14) and lets the service decide at the edges in the territory's zone.
_EARLIEST_ZONE = timedelta(hours=-12)
_LATEST_ZONE = timedelta(hours=14)


def _birth_date(value: date) -> date:
    now = utcnow()
    if value > (now + _LATEST_ZONE).date():
        raise PydanticCustomError("birth_date", "is in the future")
    if value < years_before((now + _EARLIEST_ZONE).date(), MAX_AGE_YEARS):
        raise PydanticCustomError("birth_date", f"is more than {MAX_AGE_YEARS} years ago")
    return value


BirthDate = Annotated[date, AfterValidator(_birth_date)]


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
