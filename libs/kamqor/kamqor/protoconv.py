"""Conversions between protobuf well-known types and Python values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from kamqor.errors import Invalid


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


def dt(value: Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


def parse_date(value: str, *, field: str, required: bool = True) -> date | None:
    """An ISO date (YYYY-MM-DD) or an `Invalid` naming the field."""
    if not value:
        if required:
            raise Invalid(field, "is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, "must be a date YYYY-MM-DD") from None


def page_size(value: int, *, default: int = 50, maximum: int = 200) -> int:
    if value < 0:
        raise Invalid("page_size", "must not be negative")
    return min(value or default, maximum)
