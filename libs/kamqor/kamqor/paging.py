"""Keyset pagination under a chosen sort order.

A page token is the order's name, the last row's sort key and its id (`order~key~id`, printable
ASCII of at most ~180 characters, which the gateway wraps in its own opaque token). The next page
continues strictly after `(key, id)` in the order's direction, so a page is stable under inserts
and ties (the id breaks them), and a token is refused under another order. An instant is kept to
the microsecond; a text key longer than `MAX_TEXT_KEY` bytes is left out (`*`) and read back from
the row itself, whose sort column must then never change.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, literal, select, tuple_
from sqlalchemy.orm import Mapped

from kamqor.errors import Invalid

Key = str | datetime | date
Column = ColumnElement[Any] | Mapped[Any]
MAX_TEXT_KEY = 96
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEP = "~"
_FROM_ROW = "*"


@dataclass(frozen=True)
class Cursor:
    # None: the key is the row's own (too long to carry), looked up by id.
    key: Key | None
    id: str


def _dump(key: Key) -> str:
    if isinstance(key, datetime):
        return str((key - _EPOCH) // timedelta(microseconds=1))
    if isinstance(key, date):
        return key.isoformat()
    raw = key.encode()
    if len(raw) > MAX_TEXT_KEY:
        return _FROM_ROW
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _load(text: str, key_type: type[Key]) -> Key | None:
    if key_type is datetime:
        return _EPOCH + timedelta(microseconds=int(text))
    if key_type is date:
        return date.fromisoformat(text)
    if text == _FROM_ROW:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def encode(order: str, key: Key, row_id: str) -> str:
    return _SEP.join((order, _dump(key), row_id))


def decode(token: str, *, order: str, key_type: type[Key]) -> Cursor | None:
    """The cursor of `token` ('' for the first page: None); `Invalid` naming `page_token` when it
    is malformed or was issued under another order."""
    if not token:
        return None
    try:
        name, text, row_id = token.split(_SEP)
        if not text or not row_id or not row_id.isascii():
            raise ValueError
        key = _load(text, key_type)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise Invalid("page_token", "is not a token this list issued") from None
    if name != order:
        raise Invalid("page_token", "was issued under another sort order")
    return Cursor(key, row_id)


def after(key: Column, row_id: Column, cursor: Cursor, *, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `cursor` in `ORDER BY key, id` (both DESC when `descending`): a row
    comparison PostgreSQL answers from an index on `(…, key, id)`."""
    row = tuple_(key, row_id)
    if cursor.key is None:
        own = select(key).where(row_id == cursor.id).correlate(None).scalar_subquery()
        mark = tuple_(own, literal(cursor.id))
    else:
        mark = tuple_(literal(cursor.key), literal(cursor.id))
    return row < mark if descending else row > mark


def next_token(rows: list[Any], size: int, order: str, key_of: Any) -> str:
    """The token of the page after `rows` (fetched with `size + 1`), '' on the last page."""
    if len(rows) <= size:
        return ""
    last = rows[size - 1]
    return encode(order, key_of(last), last.id)
