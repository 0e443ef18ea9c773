"""SDP data bank rules: pure functions, no I/O (REG-1..REG-4, REG-6, REG-9)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kamqor.auth import Principal
from kamqor.errors import Conflict, Invalid
from kamqor.inputs import check_birth_date

ADULT_AGE = 18
REVIEW_RULE = "REG-3"
MAX_NAME = 200
MAX_TEXT = 500
MAX_GROUNDS = 4000
MAX_PERSONS = 30
MAX_MEMBERS_PRESENT = 100
MIN_SEARCH = 3

COMMISSION_ROLES = ("commission-member",)
# The registry office is an agency of its own type (REG-4); its staff hold the agency roles.
OFFICE_AGENCY_TYPE = "registry_office"
OFFICE_ROLES = ("agency-coordinator", "agency-assignee")
CENTER_READER_ROLES = ("case-worker",)
ARCHIVE_ROLES = ("auditor",)
# Whoever `may_read` can ever admit, checked before anything is read: another role is refused
# at once, whether or not the family exists (the gateway's route admits the same roles).
FAMILY_READER_ROLES = (*COMMISSION_ROLES, *CENTER_READER_ROLES, *OFFICE_ROLES, *ARCHIVE_ROLES)


class DecisionKind(StrEnum):
    REGISTRATION = "registration"
    DEREGISTRATION = "deregistration"


class DecisionState(StrEnum):
    RECORDED = "recorded"
    RECEIVED = "received"
    ENTERED = "entered"


class FamilyState(StrEnum):
    PENDING = "pending"
    REGISTERED = "registered"
    DEREGISTERED = "deregistered"


class DocumentKind(StrEnum):
    PASSPORT = "passport"
    BIRTH_CERTIFICATE = "birth_certificate"


# REG-4 (registration) and REG-6 (deregistration): the commission sends within 7 working days,
# the office enters within 3 working days of receipt.
SEND_RULE = {DecisionKind.REGISTRATION: "REG-4/send", DecisionKind.DEREGISTRATION: "REG-6/send"}
ENTER_RULE = {DecisionKind.REGISTRATION: "REG-4/enter", DecisionKind.DEREGISTRATION: "REG-6/enter"}
REGISTRATION_RULES = (REVIEW_RULE, SEND_RULE[DecisionKind.REGISTRATION])


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    series: str
    number: str
    issued_on: date | None


@dataclass(frozen=True)
class PersonIn:
    """A minor or a family member, as REG-1 lists the bank's contents."""

    full_name: str
    relation: str
    birth_date: date
    birth_place: str
    registered_address: str
    actual_address: str
    document: Document | None
    disability: bool
    work_or_study: str


@dataclass(frozen=True)
class Vote:
    members_present: int
    votes_for: int
    votes_against: int


@dataclass(frozen=True)
class Hearing:
    prevention_bodies_heard: bool
    minor_opinion_heard: bool
    parents_opinion_heard: bool


def require_registry(
    has_rule: Callable[[str], bool], rules: Sequence[str], *, profile: str
) -> None:
    """The data bank exists only where the territory's profile carries the REG rules."""
    missing = [r for r in rules if not has_rule(r)]
    if missing:
        raise Conflict(
            f"this territory's policy profile {profile!r} has no SDP data bank: "
            f"rule {missing[0]} does not apply here (REG-1..REG-9)",
            code="no-registry-rule",
        )


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(field, "is required")
    if len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")
    return value


def check_decided_on(decided_on: date, *, today: date) -> None:
    if decided_on > today:
        raise Invalid("decided_on", "is in the future")


def check_vote(vote: Vote) -> None:
    """A decision is taken by a majority of the commission members present (REG-2).

    Abstentions count against: a majority of those present, not of the votes cast.
    """
    if not 1 <= vote.members_present <= MAX_MEMBERS_PRESENT:
        raise Invalid("vote.members_present", f"must be between 1 and {MAX_MEMBERS_PRESENT}")
    if vote.votes_for < 0 or vote.votes_against < 0:
        raise Invalid("vote", "votes must not be negative")
    if vote.votes_for + vote.votes_against > vote.members_present:
        raise Invalid("vote", "more votes than members present")
    needed = vote.members_present // 2 + 1
    if vote.votes_for < needed:
        raise Conflict(
            f"not decided: {vote.votes_for} of {vote.members_present} members present voted for, "
            f"a majority needs {needed} (REG-2)",
            code="no-majority",
        )


def check_hearing(hearing: Hearing) -> None:
    """The commission hears the prevention bodies and the minor's and parents' opinion (REG-2)."""
    if not hearing.prevention_bodies_heard:
        raise Invalid("hearing.prevention_bodies_heard", "the prevention bodies are heard (REG-2)")
    if not hearing.minor_opinion_heard:
        raise Invalid("hearing.minor_opinion_heard", "the minor's opinion is heard (REG-2)")
    if not hearing.parents_opinion_heard:
        raise Invalid("hearing.parents_opinion_heard", "the parents' opinion is heard (REG-2)")


def check_person(person: PersonIn, *, field: str, on: date, minor: bool) -> PersonIn:
    """A person's data as REG-1 lists it; the identity document only where there is one."""
    name = check_text(person.full_name, field=f"{field}.full_name", limit=MAX_NAME)
    relation = check_text(
        person.relation, field=f"{field}.relation", limit=MAX_NAME, required=not minor
    )
    check_birth_date(person.birth_date, field=f"{field}.birth_date", today=on)
    if minor and age_on(person.birth_date, on) >= ADULT_AGE:
        raise Invalid(f"{field}.birth_date", "a minor must be under 18 on the decision date")
    doc = person.document
    if doc is not None:
        check_text(doc.number, field=f"{field}.document.number", limit=50)
        check_text(doc.series, field=f"{field}.document.series", limit=20, required=False)
        if doc.issued_on is not None and not person.birth_date <= doc.issued_on <= on:
            raise Invalid(f"{field}.document.issued_on", "must be between birth and the decision")
    return PersonIn(
        full_name=name,
        relation=relation,
        birth_date=person.birth_date,
        birth_place=check_text(person.birth_place, field=f"{field}.birth_place", limit=MAX_TEXT),
        registered_address=check_text(
            person.registered_address,
            field=f"{field}.registered_address",
            limit=MAX_TEXT,
            required=False,
        ),
        actual_address=check_text(
            person.actual_address, field=f"{field}.actual_address", limit=MAX_TEXT
        ),
        document=doc
        if doc is None
        else Document(doc.kind, doc.series.strip(), doc.number.strip(), doc.issued_on),
        disability=person.disability,
        work_or_study=check_text(
            person.work_or_study, field=f"{field}.work_or_study", limit=MAX_TEXT, required=False
        ),
    )


def check_family(
    minors: Sequence[PersonIn], relatives: Sequence[PersonIn], *, on: date
) -> tuple[list[PersonIn], list[PersonIn]]:
    """At least one minor; everyone described as REG-1 requires."""
    if not minors:
        raise Invalid("minors", "a registration concerns at least one minor (REG-1)")
    if len(minors) + len(relatives) > MAX_PERSONS:
        raise Invalid("relatives", f"at most {MAX_PERSONS} persons in all")
    return (
        [check_person(p, field=f"minors[{i}]", on=on, minor=True) for i, p in enumerate(minors)],
        [
            check_person(p, field=f"relatives[{i}]", on=on, minor=False)
            for i, p in enumerate(relatives)
        ],
    )


def check_review_date(review_on: date, *, decided_on: date, latest: date) -> None:
    """The repeat review is after the decision and no later than 6 months after it (REG-3)."""
    if review_on <= decided_on:
        raise Invalid("review_on", "must be after the decision date (REG-3)")
    if review_on > latest:
        raise Invalid(
            "review_on", f"must be no later than {latest.isoformat()}, 6 months after (REG-3)"
        )


def check_receivable(state: str) -> None:
    if state != DecisionState.RECORDED:
        raise Conflict("the decision was already received (REG-4)", code="decision-received")


def check_enterable(state: str, kind: str, expected: DecisionKind) -> None:
    if kind != expected:
        raise Conflict(f"this is a {kind} decision, not a {expected}", code="decision-kind")
    if state == DecisionState.RECORDED:
        raise Conflict("the decision has not been received yet (REG-4)", code="not-received")
    if state == DecisionState.ENTERED:
        raise Conflict("the decision is already entered", code="decision-entered")


def check_deregistrable(family_state: str, *, pending_deregistration: bool) -> None:
    if family_state != FamilyState.REGISTERED:
        raise Conflict(
            "only a registered family can be deregistered (REG-6)", code="not-registered"
        )
    if pending_deregistration:
        raise Conflict(
            "a deregistration decision is already on its way to the registry office (REG-6)",
            code="deregistration-pending",
        )


def is_registry_office(principal: Principal) -> bool:
    return principal.agency_type == OFFICE_AGENCY_TYPE and principal.has_any(*OFFICE_ROLES)


def may_read(principal: Principal, *, family_state: str, responsible_agency_id: str) -> bool:
    """Need to know (REG-9): the commission, the registry office, the center's case workers and
    the body responsible for the preventive work; removed families only from the archive, by
    auditors (REG-6)."""
    if family_state == FamilyState.DEREGISTERED:
        return principal.has_any(*ARCHIVE_ROLES)
    return (
        principal.has_any(*COMMISSION_ROLES, *CENTER_READER_ROLES)
        or is_registry_office(principal)
        or (principal.agency == responsible_agency_id and principal.has_any(*OFFICE_ROLES))
    )


def may_search(principal: Principal) -> bool:
    return principal.has_any(*COMMISSION_ROLES, *CENTER_READER_ROLES) or is_registry_office(
        principal
    )


def search_key(name: str) -> str:
    """Names compared case- and space-insensitively, in Python so every database agrees."""
    return " ".join(name.casefold().split())


def check_search(name: str) -> str:
    key = search_key(name)
    if key and len(key) < MIN_SEARCH:
        raise Invalid("name", f"at least {MIN_SEARCH} characters")
    return key


def check_purpose(purpose: str) -> str:
    """Every read of a person's data says why (REG-9)."""
    return check_text(purpose, field="purpose", limit=200)
