"""Conversions shared by the schema modules: proto enums, timestamps, dates, pages; and the
obligation every service presents the same way."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, cast

from google.protobuf.message import Message
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
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
_LINE_CHECK = AfterValidator(_line)
Line = Annotated[str, _LINE_CHECK]
FreeText = Annotated[str, AfterValidator(_free_text)]

# A date a client sends is an ISO 8601 calendar date, `YYYY-MM-DD`, as `format: date` says, and
# nothing else: pydantic would also take `0` (or `"0"`) as 1970-01-01, a Unix time, or a
# datetime at midnight. A `date` already made (a default, a test) passes.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_type", "Input should be a date string YYYY-MM-DD")


ISO_DATE_ONLY = BeforeValidator(_iso_date_only)
IsoDate = Annotated[date, ISO_DATE_ONLY]

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


# The service decides the day in the territory's zone; OpenAPI has no "not after today", so
# the schema says it in words (`x-not-after`/`x-not-before` for tools that read extensions).
BirthDate = Annotated[
    date,
    AfterValidator(_birth_date),
    ISO_DATE_ONLY,
    Field(
        json_schema_extra={
            "x-not-after": "today",
            "x-not-before": f"{MAX_AGE_YEARS} years ago",
        }
    ),
]


# --- page tokens -----------------------------------------------------------------------------

# A page token is opaque to clients: the service's cursor (today an id) with a version prefix,
# base64url without padding. A client passes `next_page_token` back unchanged; anything the
# gateway did not issue is a 422 naming the token, never a service error.
_PAGE_TOKEN_PREFIX = b"kq1:"
_PAGE_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_CURSOR = re.compile(r"[\x21-\x7e]{1,360}")
PAGE_TOKEN_PATTERN = "^[A-Za-z0-9_-]+$"
PAGE_TOKEN_MAX_LENGTH = 500
PAGE_TOKEN_DESCRIPTION = (
    "Opaque: the `next_page_token` of the previous page, passed back unchanged; "
    "any other value is a 422 naming this field."
)


def page_token_out(cursor: str) -> str | None:
    """The token a page hands out for the service's cursor; None on the last page."""
    if not cursor:
        return None
    return base64.urlsafe_b64encode(_PAGE_TOKEN_PREFIX + cursor.encode()).rstrip(b"=").decode()


def page_cursor(token: str) -> str:
    """The service's cursor inside a token `page_token_out` made, or a validation error."""
    cursor = None
    if _PAGE_TOKEN_ALPHABET.fullmatch(token):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if raw.startswith(_PAGE_TOKEN_PREFIX):
            cursor = raw.removeprefix(_PAGE_TOKEN_PREFIX).decode("ascii", errors="replace")
    if cursor is None or not _CURSOR.fullmatch(cursor):
        raise PydanticCustomError(
            "page_token", "is not a page token of this API (pass next_page_token unchanged)"
        )
    return cursor


NEXT_PAGE_TOKEN_DESCRIPTION = (
    "Opaque: pass it back unchanged as `page_token` for the next page; null on the last page."
)


# A request's page token, validated to the service's cursor it carries.
PageToken = Annotated[
    str,
    StringConstraints(pattern=PAGE_TOKEN_PATTERN, max_length=PAGE_TOKEN_MAX_LENGTH),
    _LINE_CHECK,
    AfterValidator(page_cursor),
]


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
