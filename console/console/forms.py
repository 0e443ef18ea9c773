"""Form errors the GOV.UK way: a summary at the top linking to each field, and the message
beside the field. Messages are msgids, translated when the page renders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from console.api import ApiError
from kamqor.clock import utcnow

MAX_NAME = 200
_INDEX = re.compile(r"\[(\d+)\]")


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated where it is shown."""
    return message


@dataclass
class Errors:
    """Field name (as the form names it) -> msgid, in the order the form shows the fields."""

    fields: dict[str, str] = field(default_factory=dict)
    # A problem of the whole form (e.g. the shelter is full): a msgid.
    form: str | None = None

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields) or self.form is not None


def form_field(api_field: str) -> str:
    """The API's field path (`minors[1].birth_date`) as the form's input name
    (`minors-1-birth_date`), which is also the input's id the summary links to."""
    return _INDEX.sub(r"-\1", api_field).replace(".", "-")


def required_text(errors: Errors, name: str, value: str, message: str) -> str:
    value = value.strip()
    if not value:
        errors.add(name, message)
    elif len(value) > MAX_NAME:
        errors.add(name, N_("Enter at most 200 characters"))
    return value


def birth_date(errors: Errors, name: str, value: str, *, missing: str) -> date | None:
    value = value.strip()
    if not value:
        errors.add(name, missing)
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.add(name, N_("Enter a real date of birth"))
        return None
    if parsed > utcnow().date():
        errors.add(name, N_("Date of birth must be in the past"))
        return None
    if parsed.year < utcnow().year - 120:
        errors.add(name, N_("Enter a real date of birth"))
        return None
    return parsed


# Field messages the services send, by the form's field: what to tell the person instead.
API_FIELD_MESSAGES = {
    "adult-birth_date": N_("The adult must be 18 or older on the day of admission"),
    "minors-birth_date": N_("A child admitted with the adult must be under 18"),
}


def from_api(errors: Errors, exc: ApiError, known: dict[str, str] | None = None) -> None:
    """A problem answer from the gateway, as errors beside the fields it names."""
    for api_field in exc.fields:
        name = form_field(api_field)
        generic = re.sub(r"-\d+-", "-", name)
        message = (known or {}).get(name) or API_FIELD_MESSAGES.get(generic)
        errors.add(name, message or N_("Check this answer"))
    if not exc.fields:
        errors.form = PROBLEM_MESSAGES.get(exc.reason, N_("The request could not be completed"))


PROBLEM_MESSAGES = {
    "shelter-full": N_("The shelter has too few free beds for everyone in this admission"),
    "stay-ended": N_("This stay has already ended"),
    "other-center": N_("Only the shelter's own center admits to it"),
    "not-found": N_("Not found, or not visible to you"),
    "forbidden": N_("You do not have permission to do this"),
    "service-unavailable": N_("A service is unavailable; try again in a minute"),
}
