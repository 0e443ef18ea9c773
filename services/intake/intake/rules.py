"""Intake rules: the journal and triage terms (INT-1, INT-2, INT-3, INT-7). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kamqor.errors import Invalid
from kamqor.inputs import check_birth_date

MAX_SUMMARY = 4000
MAX_PERSONS = 30
MAX_NAME = 200
REGISTRARS = ("hotline-operator", "intake-operator")
READERS = ("hotline-operator", "intake-operator", "case-worker", "center-head")


class Channel(StrEnum):
    """Sources of a case (INT-1)."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    ONLINE = "online"
    HOTLINE_111 = "hotline_111"
    STATE_SYSTEM = "state_system"
    REPORT = "report"
    MEDIA = "media"
    MOBILE_GROUP = "mobile_group"
    SIGNAL_CARD = "signal_card"


class Relation(StrEnum):
    APPLICANT = "applicant"
    MOTHER = "mother"
    FATHER = "father"
    CHILD = "child"
    OTHER = "other"


@dataclass(frozen=True)
class PersonIn:
    full_name: str
    relation: Relation
    birth_date: date | None


def journal_number(center_id: str, year: int, sequence: int) -> str:
    """Unique per center and year (INT-2)."""
    return f"{center_id}/{year}/{sequence:06d}"


# Every term key an entry may open; the service asks the profile which of them it sets.
TRIAGE_KEYS = ("INT-3/threat", "INT-3/primary", "INT-7")


def triage_rules(*, threat_to_life: bool, domestic_violence: bool, has_rule: set[str]) -> list[str]:
    """The obligations an entry opens (INT-3, INT-7), as term keys the profile has (`has_rule`).

    A threat to life or health shortens the primary assessment to one working day with immediate
    response measures; signs of domestic violence add the redirection for identification. Only
    the terms the territory's regulation sets become obligations (the Terms index binds INT-3
    and INT-7 to Kazakhstan): elsewhere the entry is registered (INT-2) and opens none.
    """
    keys = ["INT-3/threat" if threat_to_life else "INT-3/primary"]
    if domestic_violence:
        keys.append("INT-7")
    return [key for key in keys if key in has_rule]


def check_summary(value: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("summary", "is required")
    if len(value) > MAX_SUMMARY:
        raise Invalid("summary", f"at most {MAX_SUMMARY} characters")
    return value


def check_persons(persons: list[PersonIn], *, today: date) -> None:
    if len(persons) > MAX_PERSONS:
        raise Invalid("persons", f"at most {MAX_PERSONS}")
    for i, person in enumerate(persons):
        name = person.full_name.strip()
        if not name:
            raise Invalid(f"persons[{i}].full_name", "is required")
        if len(name) > MAX_NAME:
            raise Invalid(f"persons[{i}].full_name", f"at most {MAX_NAME} characters")
        if person.birth_date is not None:
            check_birth_date(person.birth_date, field=f"persons[{i}].birth_date", today=today)


def minors_among(persons: list[PersonIn], *, today: date) -> int:
    def minor(p: PersonIn) -> bool:
        if p.birth_date is None:
            return p.relation == Relation.CHILD
        b = p.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day)) < 18

    return sum(1 for p in persons if minor(p))
