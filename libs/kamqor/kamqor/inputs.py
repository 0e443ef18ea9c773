"""Plausibility of raw input, shared by the gateway's schemas and every service's own checks.

Not domain rules (those are in each service's `rules.py`): what any text or birth date must be
before a rule looks at it. The gateway refuses the same things first; a service refuses them
again, so a gRPC caller that bypasses the gateway meets the same limits.

Text: no control character (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) in any field,
and no lone surrogate (category Cs, which no UTF-8 encoder or database can store). Free text
meant to be read as prose (an appeal's summary, a report, a reason, grounds) may keep line
breaks and tabs (`\\n`, `\\r`, `\\t`: a browser's textarea sends CRLF); names, numbers, ids,
titles and addresses are single lines and keep none.

Birth dates: not in the future and at most `MAX_AGE_YEARS` years back.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date

from google.protobuf.message import Message

from kamqor.errors import Invalid

MAX_AGE_YEARS = 120
LINE_BREAKS_AND_TABS = "\t\n\r"

_FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_fault(value: str, *, free_text: bool = False) -> str | None:
    """Why `value` is not acceptable text, or None; the message never quotes the value."""
    found = (_FORBIDDEN_IN_FREE_TEXT if free_text else _FORBIDDEN_IN_LINE).search(value)
    if found is None:
        return None
    char = found.group()
    what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"must not contain {what} (U+{ord(char):04X} at position {found.start()})"


def check_text(value: str, *, field: str, free_text: bool = False) -> str:
    """`value` unchanged, or `Invalid` naming the field."""
    if (fault := text_fault(value, free_text=free_text)) is not None:
        raise Invalid(field, fault)
    return value


def message_text_fault(
    message: Message, *, free_text: Collection[str] = (), prefix: str = ""
) -> tuple[str, str] | None:
    """The first string field of `message` (nested messages included) that is not acceptable
    text, as (field path as the client spells it, e.g. `minors[1].full_name`; reason).

    `free_text` holds the full names of the string fields that may keep line breaks and tabs
    (`kamqor.shelter.v1.DischargeRequest.reason`).
    """
    for descriptor, value in message.ListFields():
        name = prefix + descriptor.name
        if descriptor.type == descriptor.TYPE_STRING:
            values = list(value) if descriptor.is_repeated else [value]
            prose = descriptor.full_name in free_text
            for i, item in enumerate(values):
                if (fault := text_fault(item, free_text=prose)) is not None:
                    return (f"{name}[{i}]" if descriptor.is_repeated else name), fault
        elif descriptor.type == descriptor.TYPE_MESSAGE:
            entry = descriptor.message_type
            if entry is not None and entry.GetOptions().map_entry:
                items = [(f"{name}[{key}]", item) for key, item in value.items()]
            elif descriptor.is_repeated:
                items = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
            else:
                items = [(name, value)]
            for path, item in items:
                if isinstance(item, Message):
                    found = message_text_fault(item, free_text=free_text, prefix=f"{path}.")
                    if found is not None:
                        return found
                elif isinstance(item, str) and (fault := text_fault(item)) is not None:
                    return path, fault
    return None


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_date_fault(value: date, *, today: date) -> str | None:
    """Why `value` cannot be a living person's birth date on `today`, or None."""
    if value > today:
        return "is in the future"
    if value < years_before(today, MAX_AGE_YEARS):
        return f"is more than {MAX_AGE_YEARS} years ago"
    return None


def check_birth_date(value: date, *, field: str, today: date) -> date:
    """`value` unchanged, or `Invalid` naming the field; `today` in the territory's zone."""
    if (fault := birth_date_fault(value, today=today)) is not None:
        raise Invalid(field, fault)
    return value
