"""Information requests to the data bank (REG-8): who may ask, with which lawful purpose, and
what each purpose lets the answer disclose. Pure, no I/O.

Seed 002 p. 53-54: the bank's information is used by the bodies of the prevention system "to
carry out their tasks and functions in their established spheres of activity" and is sent to
them on request within 10 working days, under 149-FZ and 152-FZ. So a purpose is a body's own
sphere under Federal Law 120-FZ (the article naming that body's preventive functions), and the
answer holds only the REG-1 fields that sphere needs (152-FZ art. 5 p. 5: no more data than the
purpose needs).
"""

from __future__ import annotations

from dataclasses import dataclass

from kamqor.auth import Principal
from kamqor.errors import Forbidden, Invalid

INQUIRY_RULE = "REG-8"
# The staff of a prevention body (an agency); the registry office holds the bank and asks no one.
REQUESTER_ROLES = ("agency-coordinator", "agency-assignee")
MAX_REASON = 500

# REG-1's fields of a member, then the family's.
MEMBER_FIELDS = (
    "full_name",
    "relation",
    "birth_date",
    "birth_place",
    "registered_address",
    "actual_address",
    "document",
    "disability",
    "work_or_study",
)
FAMILY_FIELDS = ("responsible_body", "grounds")
_WHO = ("full_name", "relation", "birth_date")


@dataclass(frozen=True)
class LawfulPurpose:
    code: str
    # The agency types whose sphere the purpose is.
    body_types: tuple[str, ...]
    fields: tuple[str, ...]
    source: str


PURPOSES: dict[str, LawfulPurpose] = {
    p.code: p
    for p in (
        LawfulPurpose(
            "juvenile_prevention",
            ("police",),
            (
                *_WHO,
                "birth_place",
                "registered_address",
                "actual_address",
                "document",
                "responsible_body",
                "grounds",
            ),
            "120-FZ art. 21: individual preventive work of the police's juvenile units",
        ),
        LawfulPurpose(
            "child_rights_protection",
            ("guardianship",),
            (
                *_WHO,
                "registered_address",
                "actual_address",
                "document",
                "disability",
                "responsible_body",
                "grounds",
            ),
            "120-FZ art. 16: protection of the rights of minors left without care",
        ),
        LawfulPurpose(
            "education_support",
            ("education",),
            (*_WHO, "work_or_study", "responsible_body"),
            "120-FZ art. 14: the school's preventive work and the minor's education",
        ),
        LawfulPurpose(
            "medical_care",
            ("health",),
            (*_WHO, "actual_address", "disability", "responsible_body"),
            "120-FZ art. 18: medical and rehabilitation help to minors",
        ),
        LawfulPurpose(
            "social_support",
            ("social", "social_protection", "family_center"),
            (
                *_WHO,
                "registered_address",
                "actual_address",
                "disability",
                "work_or_study",
                "responsible_body",
            ),
            "120-FZ art. 12: social services and state support of the family",
        ),
        LawfulPurpose(
            "employment_assistance",
            ("employment",),
            (*_WHO, "work_or_study"),
            "120-FZ art. 22: help to minors and their parents in finding work",
        ),
    )
}


def purposes_of(body_type: str) -> list[str]:
    return sorted(code for code, p in PURPOSES.items() if body_type in p.body_types)


def check_requester(principal: Principal) -> None:
    if not principal.has_any(*REQUESTER_ROLES):
        raise Forbidden("only a prevention body's staff request information (REG-8)")


def check_purpose(principal: Principal, code: str) -> LawfulPurpose:
    """The purpose must be one of the list, and one of the requester's body type (REG-8)."""
    own = purposes_of(principal.agency_type)
    if not own:
        raise Invalid(
            "purpose",
            f"a body of type {principal.agency_type!r} has no lawful purpose to request the "
            "data bank (REG-8)",
        )
    purpose = PURPOSES.get(code.strip())
    if purpose is None or purpose.code not in own:
        raise Invalid("purpose", f"must be one of {own}, the lawful purposes of this body (REG-8)")
    return purpose


def disclose(purpose: LawfulPurpose, values: dict[str, object]) -> dict[str, object]:
    """Only what the purpose allows (REG-8); every other field is left out, not blanked."""
    return {k: v for k, v in values.items() if k in purpose.fields}
