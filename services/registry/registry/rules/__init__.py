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
MAX_DOCUMENTS = 30
MAX_DOCUMENT_TITLE = 200

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
    # A repeat review that kept the family on record (REG-3): it changes nothing in the bank
    # the registry office keeps (REG-1 lists no review date), so it is not sent.
    REVIEW = "review"


class ReviewOutcome(StrEnum):
    KEEP = "keep"
    DEREGISTER = "deregister"


class DecisionState(StrEnum):
    RECORDED = "recorded"
    # Sent by the commission's secretary (REG-4, REG-6), awaiting the office's receipt.
    SENT = "sent"
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
    # Why the minor could not be heard (an infant): the seed takes the minor's opinion into
    # account, it does not make a decision about a baby impossible.
    minor_not_heard_reason: str = ""
    # What the commission studied at the session (seed 002 p. 44).
    documents_reviewed: tuple[str, ...] = ()


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


def check_hearing(hearing: Hearing, *, documents_required: bool = False) -> Hearing:
    """The commission hears the prevention bodies, takes the minor's opinion into account where
    the minor can give one (or records why not) and the parents', and studies the documents
    (seed 002 p. 44, REG-2). Returns the hearing with its texts trimmed."""
    if not hearing.prevention_bodies_heard:
        raise Invalid("hearing.prevention_bodies_heard", "the prevention bodies are heard (REG-2)")
    reason = check_text(
        hearing.minor_not_heard_reason,
        field="hearing.minor_not_heard_reason",
        limit=MAX_TEXT,
        required=False,
    )
    if hearing.minor_opinion_heard and reason:
        raise Invalid(
            "hearing.minor_not_heard_reason", "only when the minor's opinion was not heard"
        )
    if not hearing.minor_opinion_heard and not reason:
        raise Invalid(
            "hearing.minor_opinion_heard",
            "the minor's opinion is heard, or hearing.minor_not_heard_reason says why it "
            "cannot be (REG-2)",
        )
    if not hearing.parents_opinion_heard:
        raise Invalid("hearing.parents_opinion_heard", "the parents' opinion is heard (REG-2)")
    if len(hearing.documents_reviewed) > MAX_DOCUMENTS:
        raise Invalid("hearing.documents_reviewed", f"at most {MAX_DOCUMENTS}")
    documents = tuple(
        check_text(d, field=f"hearing.documents_reviewed[{i}]", limit=MAX_DOCUMENT_TITLE)
        for i, d in enumerate(hearing.documents_reviewed)
    )
    if documents_required and not documents:
        raise Invalid(
            "hearing.documents_reviewed",
            "the documents the commission studied are recorded (seed 002 p. 44)",
        )
    return Hearing(
        prevention_bodies_heard=True,
        minor_opinion_heard=hearing.minor_opinion_heard,
        parents_opinion_heard=True,
        minor_not_heard_reason=reason,
        documents_reviewed=documents,
    )


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


# From which date the six months of REG-3 run: the date of the commission's session that
# decided the registration (`decided_on`), not the registry office's later entry. Source: seed
# 002 p. 44, "the registration decision names the responsible body and the date of the
# commission's session for the repeat review ..., no later than 6 months from the date of the
# family's registration in the data bank" (the date of "postanovka na uchet", which the
# commission decides). The decision itself names the review date, so the limit must be known on
# the day of the decision, when the entry (p. 45-46: up to 7 + 3 working days later) is not; the
# session's date is also the earlier, the stricter of the two. Counted like every term from the
# next day (the session's local midnight), ending on the same date six months later, or on the
# next working day when that one is not (`kamqor.profiles`). A review that keeps the family on
# record schedules the next one by the same rule, counted from that review's session: the seed
# sets the first review only, and this way a family is never left more than six months without
# one.
def check_review_date(
    review_on: date, *, decided_on: date, latest: date, field: str = "review_on"
) -> None:
    """The repeat review is after the decision and no later than 6 months after it (REG-3)."""
    if review_on <= decided_on:
        raise Invalid(field, "must be after the decision date (REG-3)")
    if review_on > latest:
        raise Invalid(field, f"must be no later than {latest.isoformat()}, 6 months after (REG-3)")


def check_reviewable(
    family_state: str, *, pending_deregistration: bool, decided_on: date, registered_on: date
) -> None:
    """A repeat review concerns a family on record (REG-3), after its registration decision."""
    if family_state != FamilyState.REGISTERED:
        raise Conflict(
            f"only a family on record is reviewed; this one is {family_state} (REG-3)",
            code="not-registered",
        )
    if pending_deregistration:
        raise Conflict(
            "a deregistration decision is already on its way to the registry office (REG-6)",
            code="deregistration-pending",
        )
    if decided_on < registered_on:
        raise Invalid("decided_on", "is before the family's registration decision (REG-3)")


def check_sendable(kind: DecisionKind) -> None:
    if kind not in SEND_RULE:
        raise Conflict(
            "a repeat review that kept the family on record is not sent to the registry office",
            code="decision-kind",
        )


def check_unsent(state: str) -> None:
    if state != DecisionState.RECORDED:
        raise Conflict(
            f"the decision was already sent; it is {state} (REG-4)", code="decision-sent"
        )


def check_receivable(state: str) -> None:
    """Received once, whether the secretary recorded sending it or it came on paper."""
    if state not in (DecisionState.RECORDED, DecisionState.SENT):
        raise Conflict("the decision was already received (REG-4)", code="decision-received")


def check_enterable(state: str, kind: str, expected: DecisionKind) -> None:
    if kind != expected:
        raise Conflict(f"this is a {kind} decision, not a {expected}", code="decision-kind")
    if state in (DecisionState.RECORDED, DecisionState.SENT):
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


# --- commission sessions (REG-2) ---------------------------------------------------------------


class BallotChoice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class SessionMember:
    member_id: str
    full_name: str


@dataclass(frozen=True)
class Ballot:
    member_id: str
    choice: BallotChoice | None
    conflict_of_interest: bool = False


MAX_COMPOSITION = MAX_MEMBERS_PRESENT


def quorum_of(composition_size: int) -> int:
    """At least half of the commission's members present. The seeds set no quorum (seed 002
    p. 44 only says decisions are taken by a majority of the members present); half of the
    composition is the federal model regulation's rule for commissions on minors' affairs, to
    be confirmed per profile."""
    return (composition_size + 1) // 2


def check_session(composition_size: int, members: Sequence[SessionMember]) -> list[SessionMember]:
    """The members present, each once, no more than the commission has, and a quorum."""
    if not 1 <= composition_size <= MAX_COMPOSITION:
        raise Invalid("composition_size", f"must be between 1 and {MAX_COMPOSITION}")
    if not members:
        raise Invalid("members_present", "at least one member is present")
    kept: list[SessionMember] = []
    seen: set[str] = set()
    for i, m in enumerate(members):
        member_id = check_text(m.member_id, field=f"members_present[{i}].member_id", limit=100)
        if member_id in seen:
            raise Invalid(f"members_present[{i}].member_id", "is listed twice")
        seen.add(member_id)
        name = check_text(m.full_name, field=f"members_present[{i}].full_name", limit=MAX_NAME)
        kept.append(SessionMember(member_id, name))
    if len(kept) > composition_size:
        raise Invalid("members_present", "more members present than the commission has")
    needed = quorum_of(composition_size)
    if len(kept) < needed:
        raise Conflict(
            f"no quorum: {len(kept)} of {composition_size} members present, at least {needed} "
            "are needed for the session to decide (REG-2)",
            code="no-quorum",
        )
    return kept


def tally(ballots: Sequence[Ballot], present: Sequence[str]) -> Vote:
    """Every member present votes once, recorded; a member with a conflict of interest
    abstains; the decision then needs a majority of the members present (`check_vote`)."""
    by_member: dict[str, Ballot] = {}
    for i, b in enumerate(ballots):
        if b.member_id not in present:
            raise Invalid(f"ballots[{i}].member_id", "was not present at the session (REG-2)")
        if b.member_id in by_member:
            raise Invalid(f"ballots[{i}].member_id", "has already voted")
        if b.choice is None:
            raise Invalid(f"ballots[{i}].choice", "must be one of for, against, abstain")
        if b.conflict_of_interest and b.choice != BallotChoice.ABSTAIN:
            raise Invalid(
                f"ballots[{i}].choice", "a member with a conflict of interest abstains (REG-2)"
            )
        by_member[b.member_id] = b
    missing = [m for m in present if m not in by_member]
    if missing:
        raise Invalid("ballots", f"no vote recorded for member {missing[0]} (REG-2)")
    choices = [b.choice for b in by_member.values()]
    return Vote(
        members_present=len(present),
        votes_for=choices.count(BallotChoice.FOR),
        votes_against=choices.count(BallotChoice.AGAINST),
    )


# --- changes in a family's data (REG-5) -------------------------------------------------------

CHANGE_SEND_RULE = "REG-5/send"
CHANGE_ENTER_RULE = "REG-5/enter"
MAX_CHANGED_FIELDS = 30
# Who reports a change: the staff of the institution responsible for the family's preventive
# work, which in Irkutsk is the center the registration decision names (seed 002 p. 25, 27).
CHANGE_REPORTER_ROLES = ("case-worker", "center-head")


class ChangeState(StrEnum):
    REPORTED = "reported"
    ENTERED = "entered"
    # Reported, then the family was removed from the bank before the office entered it.
    VOID = "void"


# A member's REG-1 fields a change may carry, with whether a value is required; the birth date
# identifies the person and is corrected by a new decision, not by a change.
MEMBER_FIELDS: dict[str, bool] = {
    "full_name": True,
    "relation": False,
    "birth_place": True,
    "registered_address": False,
    "actual_address": True,
    "document_series": False,
    "document_number": False,
    "document_issued_on": False,
    "disability": True,
    "work_or_study": False,
}
FAMILY_FIELDS: dict[str, bool] = {"responsible_body": True}
FIELD_LIMITS = {"full_name": MAX_NAME, "relation": MAX_NAME, "document_series": 20}


@dataclass(frozen=True)
class FieldChange:
    member_id: str
    field: str
    value: str


def may_report_change(principal: Principal, *, responsible_agency_id: str) -> bool:
    return principal.agency == responsible_agency_id and principal.has_any(*CHANGE_REPORTER_ROLES)


def check_changeable(family_state: str) -> None:
    if family_state != FamilyState.REGISTERED:
        raise Conflict(
            f"the family is {family_state}: only the data of a family on record is changed "
            "(REG-5, REG-6)",
            code="not-registered",
        )


def _check_value(field: str, value: str, *, where: str, required: bool) -> str:
    if field == "disability":
        if value not in ("true", "false"):
            raise Invalid(where, "must be true or false")
        return value
    if field == "document_issued_on":
        value = value.strip()
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise Invalid(where, "must be an ISO date, YYYY-MM-DD") from None
        return value
    return check_text(
        value, field=where, limit=FIELD_LIMITS.get(field, MAX_TEXT), required=required
    )


def check_change(fields: Sequence[FieldChange], *, member_ids: Sequence[str]) -> list[FieldChange]:
    """What changed, field by field, each once: a member's REG-1 field or the family's
    responsible body (REG-1, REG-5)."""
    if not fields:
        raise Invalid("fields", "at least one changed field (REG-5)")
    if len(fields) > MAX_CHANGED_FIELDS:
        raise Invalid("fields", f"at most {MAX_CHANGED_FIELDS}")
    kept: list[FieldChange] = []
    seen: set[tuple[str, str]] = set()
    for i, f in enumerate(fields):
        allowed = MEMBER_FIELDS if f.member_id else FAMILY_FIELDS
        if f.member_id and f.member_id not in member_ids:
            raise Invalid(f"fields[{i}].member_id", "is not a member of this family")
        if f.field not in allowed:
            raise Invalid(f"fields[{i}].field", f"must be one of {sorted(allowed)}")
        if (f.member_id, f.field) in seen:
            raise Invalid(f"fields[{i}].field", "is changed twice in one report")
        seen.add((f.member_id, f.field))
        value = _check_value(
            f.field, f.value, where=f"fields[{i}].value", required=allowed[f.field]
        )
        kept.append(FieldChange(f.member_id, f.field, value))
    return kept
