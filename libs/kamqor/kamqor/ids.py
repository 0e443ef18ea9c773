"""Identifiers: UUIDv7, so ids sort by creation time (outbox order, pagination)."""

from __future__ import annotations

import uuid

from uuid6 import uuid7

from kamqor.errors import Invalid


def new_id() -> str:
    return str(uuid7())


def parse_id(value: str, *, field: str) -> str:
    """Return the canonical form of a UUID string or raise `Invalid` naming the field."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise Invalid(field, "must be a UUID") from None
