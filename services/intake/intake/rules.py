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
MAX_DOCUMENTS = 10
MAX_DOCUMENT_NUMBER = 40
# The center's case workers register what they receive themselves: Yugra's application for
# social services is filed with the organisation's specialist (seed 003 p. 4.1), Bashkortostan's
# signal card is drawn up by the specialist who detects the family (seed 004, stage 1).
REGISTRARS = ("hotline-operator", "intake-operator", "case-worker")
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


class DocumentKind(StrEnum):
    """Identity documents a person is known by besides the IIN/SNILS."""

    PASSPORT = "passport"
    ID_CARD = "id_card"
    BIRTH_CERTIFICATE = "birth_certificate"
    RESIDENCE_PERMIT = "residence_permit"
    OTHER = "other"


@dataclass(frozen=True)
class DocumentIn:
    kind: DocumentKind
    number: str


@dataclass(frozen=True)
class PersonIn:
    full_name: str
    relation: Relation
    birth_date: date | None
    # Kazakhstan's individual identification number, normalised by `check_iin`; "" when unknown.
    iin: str = ""
    # Russia's insurance number (SNILS), 11 digits after `check_snils`; "" when unknown.
    snils: str = ""
    documents: tuple[DocumentIn, ...] = ()


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
        if person.iin:
            born = check_iin(person.iin, field=f"persons[{i}].iin")
            if person.birth_date is not None and born != person.birth_date:
                raise Invalid(f"persons[{i}].iin", "does not match birth_date")
        if person.snils:
            check_snils(person.snils, field=f"persons[{i}].snils")
        if len(person.documents) > MAX_DOCUMENTS:
            raise Invalid(f"persons[{i}].documents", f"at most {MAX_DOCUMENTS}")
        for j, doc in enumerate(person.documents):
            check_document_number(doc.number, field=f"persons[{i}].documents[{j}].number")
    _check_unique_identifiers(persons)
    check_relations(persons)


def minors_among(persons: list[PersonIn], *, today: date) -> int:
    def minor(p: PersonIn) -> bool:
        if p.birth_date is None:
            return p.relation == Relation.CHILD
        b = p.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day)) < 18

    return sum(1 for p in persons if minor(p))


# Weights of the IIN's check digit: the second set when the first gives 10; a number whose
# second sum gives 10 again is never issued.
_IIN_WEIGHTS = ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))
# The 7th digit: century of birth and sex (1-2: 19th, 3-4: 20th, 5-6: 21st century).
_IIN_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def iin_check_digit(first11: str) -> int | None:
    """The IIN's 12th digit for its first eleven, or None when no valid IIN starts so."""
    digits = [int(c) for c in first11]
    for weights in _IIN_WEIGHTS:
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return check
    return None


def iin_birth_date(iin: str) -> date | None:
    """The birth date an individual's IIN encodes (YYMMDD and the century digit), or None."""
    century = _IIN_CENTURY.get(iin[6])
    if century is None:
        return None
    try:
        return date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def check_iin(value: str, *, field: str) -> date:
    """A Kazakhstan IIN of a person: 12 digits, a real birth date, the right check digit.
    Returns the birth date it encodes."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise Invalid(field, "must be 12 digits")
    born = iin_birth_date(value)
    if born is None:
        raise Invalid(field, "does not encode a birth date")
    if iin_check_digit(value[:11]) != int(value[11]):
        raise Invalid(field, "wrong check digit")
    return born


# SNILS numbers up to this one were issued before check digits existed.
_SNILS_CHECKED_FROM = 1001998


def snils_check_number(first9: str) -> int:
    """The SNILS's two check digits for its nine: digits weighted 9..1, summed, modulo 101,
    100 and 101 giving 00."""
    total = sum(int(c) * (9 - i) for i, c in enumerate(first9))
    return total % 101 % 100


def normalize_snils(value: str) -> str:
    """`123-456-789 64` or `12345678964` as 11 digits; anything else unchanged."""
    return value.replace("-", "").replace(" ", "")


def check_snils(value: str, *, field: str) -> str:
    """A Russian SNILS: 11 digits (dashes and a space allowed), the right check number.
    Returns the 11 digits."""
    digits = normalize_snils(value)
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        raise Invalid(field, "must be 11 digits (XXX-XXX-XXX YY)")
    if int(digits[:9]) > _SNILS_CHECKED_FROM and snils_check_number(digits[:9]) != int(digits[9:]):
        raise Invalid(field, "wrong check digits")
    return digits


def check_document_number(value: str, *, field: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(field, "is required")
    if len(value) > MAX_DOCUMENT_NUMBER:
        raise Invalid(field, f"at most {MAX_DOCUMENT_NUMBER} characters")
    return value


def _check_unique_identifiers(persons: list[PersonIn]) -> None:
    """One person per IIN or SNILS within an appeal."""
    for attr in ("iin", "snils"):
        seen: dict[str, int] = {}
        for i, person in enumerate(persons):
            value = getattr(person, attr)
            if attr == "snils":
                value = normalize_snils(value)
            if not value:
                continue
            if value in seen:
                raise Invalid(f"persons[{i}].{attr}", f"repeats persons[{seen[value]}]")
            seen[value] = i


PARENTS = (Relation.MOTHER, Relation.FATHER)


def check_relations(persons: list[PersonIn]) -> None:
    """Relations must make sense: a child is born after its parents (relations are each
    person's place in the family, so every child is a child of every parent listed)."""
    parents = [
        (i, p.birth_date)
        for i, p in enumerate(persons)
        if p.relation in PARENTS and p.birth_date is not None
    ]
    for i, person in enumerate(persons):
        if person.relation != Relation.CHILD or person.birth_date is None:
            continue
        for j, born in parents:
            if person.birth_date <= born:
                raise Invalid(
                    f"persons[{i}].birth_date", f"a child must be younger than persons[{j}]"
                )


# --- triage (INT-3, INT-4, INT-7) ---------------------------------------------------------------

TRIAGERS = ("intake-operator", "case-worker", "center-head")
MAX_ORGANISATION = 100
MAX_TRIAGE_TEXT = 4000


class TriageKind(StrEnum):
    CONSULTATION = "consultation"
    REDIRECT = "redirect"
    PRIMARY_ASSESSMENT = "primary_assessment"
    IDENTIFICATION_REDIRECT = "identification_redirect"


# Done once per entry; consultations and redirections may follow each other.
ONCE = (TriageKind.PRIMARY_ASSESSMENT, TriageKind.IDENTIFICATION_REDIRECT)


@dataclass(frozen=True)
class TriageIn:
    kind: TriageKind
    organisation: str = ""
    in_dls: bool | None = None
    note: str = ""
    immediate_measures: str = ""


def terms_met(kind: TriageKind, *, threat_to_life: bool) -> tuple[str, ...]:
    """The term keys a triage action meets (INT-3, INT-7)."""
    if kind == TriageKind.PRIMARY_ASSESSMENT:
        return ("INT-3/threat",) if threat_to_life else ("INT-3/primary",)
    if kind == TriageKind.IDENTIFICATION_REDIRECT:
        return ("INT-7",)
    return ("INT-3/redirect",)


def check_triage(triage: TriageIn, *, threat_to_life: bool, domestic_violence: bool) -> TriageIn:
    """A triage action that makes sense for its entry: a redirection names the organisation; a
    primary assessment says whether the family is in a DLS and, under a threat to life or
    health, the immediate response measures (INT-3, INT-4); only an entry with signs of
    domestic violence is redirected for the victim's identification (INT-7)."""
    organisation = triage.organisation.strip()
    note = triage.note.strip()
    measures = triage.immediate_measures.strip()
    if len(organisation) > MAX_ORGANISATION:
        raise Invalid("organisation", f"at most {MAX_ORGANISATION} characters")
    for field, value in (("note", note), ("immediate_measures", measures)):
        if len(value) > MAX_TRIAGE_TEXT:
            raise Invalid(field, f"at most {MAX_TRIAGE_TEXT} characters")
    redirects = (TriageKind.REDIRECT, TriageKind.IDENTIFICATION_REDIRECT)
    if triage.kind in redirects and not organisation:
        raise Invalid("organisation", "is required for a redirection")
    if triage.kind == TriageKind.IDENTIFICATION_REDIRECT and not domestic_violence:
        raise Invalid("kind", "only an appeal with signs of domestic violence (INT-7)")
    if triage.kind == TriageKind.PRIMARY_ASSESSMENT:
        if triage.in_dls is None:
            raise Invalid("in_dls", "is required for a primary assessment")
        if threat_to_life and not measures:
            raise Invalid("immediate_measures", "required under a threat to life or health (INT-4)")
    if triage.kind == TriageKind.CONSULTATION and not note:
        raise Invalid("note", "is required: what the consultation was about")
    return TriageIn(
        kind=triage.kind,
        organisation=organisation,
        in_dls=triage.in_dls if triage.kind == TriageKind.PRIMARY_ASSESSMENT else None,
        note=note,
        immediate_measures=measures,
    )


# --- mobile groups (INT-4) ------------------------------------------------------------------------

GROUP_APPROVERS = ("center-head",)
# Representatives of education, health and police, coordinated by social protection (INT-4).
GROUP_AGENCY_TYPES = ("education", "health", "police", "social_protection")
REQUIRED_IN_GROUP = ("education", "health", "police")
MAX_GROUP_MEMBERS = 30


@dataclass(frozen=True)
class GroupMemberIn:
    agency_type: str
    agency: str
    representative: str


def check_mobile_group(
    *, year: int, approved_on: date, order_number: str, members: list[GroupMemberIn], today: date
) -> None:
    """A composition approved for one calendar year, during it or at the end of the year
    before, not in the future, with representatives of education, health and police at least."""
    if approved_on > today:
        raise Invalid("approved_on", "must not be in the future")
    if not approved_on.year <= year <= approved_on.year + 1:
        raise Invalid("year", "the year of approved_on or the next one")
    if not order_number.strip():
        raise Invalid("order_number", "is required")
    if len(order_number.strip()) > 100:
        raise Invalid("order_number", "at most 100 characters")
    if len(members) > MAX_GROUP_MEMBERS:
        raise Invalid("members", f"at most {MAX_GROUP_MEMBERS}")
    for i, member in enumerate(members):
        if member.agency_type not in GROUP_AGENCY_TYPES:
            raise Invalid(f"members[{i}].agency_type", f"must be one of {list(GROUP_AGENCY_TYPES)}")
        for field, value, limit in (
            ("agency", member.agency, 100),
            ("representative", member.representative, 200),
        ):
            if not value.strip():
                raise Invalid(f"members[{i}].{field}", "is required")
            if len(value.strip()) > limit:
                raise Invalid(f"members[{i}].{field}", f"at most {limit} characters")
    missing = [t for t in REQUIRED_IN_GROUP if t not in {m.agency_type for m in members}]
    if missing:
        raise Invalid("members", f"needs representatives of {', '.join(missing)}")


# --- assessment (INT-5, INT-6) ------------------------------------------------------------------

ASSESSORS = ("case-worker", "center-head")


class Outcome(StrEnum):
    DLS = "dls"
    SDP = "sdp"
    RISK_OF_DLS = "risk_of_dls"
    NONE = "none"


class Consent(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class LevelIn:
    person_id: str
    level: str
    signs: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentIn:
    outcome: Outcome
    consent: Consent
    support_contract: str = ""
    resolution: str = ""
    notes: str = ""
    levels: tuple[LevelIn, ...] = ()


def proceeds(assessment: AssessmentIn) -> bool:
    """Support follows: a DLS on the person's consent, an SDP on the commission's resolution."""
    if assessment.outcome == Outcome.SDP:
        return True
    return assessment.outcome == Outcome.DLS and assessment.consent == Consent.GIVEN


def check_assessment(
    assessment: AssessmentIn,
    *,
    catalogue: dict[str, frozenset[str]],
    sdp_level: str | None,
    contract_required: bool,
    members: frozenset[str],
    profile: str = "",
) -> AssessmentIn:
    """INT-5: support is voluntary: a DLS proceeds on consent (and a support contract where the
    profile requires one), a refusal is recorded; an SDP proceeds on the commission's resolution.
    INT-6: where the profile has support levels, each person supported gets one with the signs
    found, from the profile's catalogue (`catalogue`: level -> signs); an SDP family is at the
    level the profile fixes (`sdp_level`). `members`: the family's member ids; `profile`: the
    profile's name, which a refusal of what it does not set names."""
    contract = assessment.support_contract.strip()
    resolution = assessment.resolution.strip()
    notes = assessment.notes.strip()
    for field, value, limit in (
        ("support_contract", contract, 100),
        ("resolution", resolution, 100),
        ("notes", notes, MAX_TRIAGE_TEXT),
    ):
        if len(value) > limit:
            raise Invalid(field, f"at most {limit} characters")
    if assessment.outcome == Outcome.DLS and assessment.consent == Consent.NOT_REQUIRED:
        raise Invalid("consent", "a DLS proceeds only on consent; record it or the refusal (INT-5)")
    consented_dls = assessment.outcome == Outcome.DLS and assessment.consent == Consent.GIVEN
    if consented_dls and contract_required and not contract:
        raise Invalid("support_contract", "required with the consent here (INT-5)")
    if assessment.outcome == Outcome.SDP and not resolution:
        raise Invalid("resolution", "an SDP proceeds on the commission's resolution (INT-5)")
    checked = AssessmentIn(
        outcome=assessment.outcome,
        consent=assessment.consent,
        support_contract=contract,
        resolution=resolution,
        notes=notes,
        levels=assessment.levels,
    )
    if not proceeds(checked) or not catalogue:
        if assessment.levels:
            why = (
                "no support follows"
                if catalogue
                else f"the {profile or 'territory'} profile sets no support levels"
            )
            raise Invalid("levels", f"none here: {why} (INT-6)")
        return checked
    if not assessment.levels:
        raise Invalid("levels", "a support level for each person supported (INT-6)")
    seen: set[str] = set()
    for i, level in enumerate(assessment.levels):
        if level.person_id not in members:
            raise Invalid(f"levels[{i}].person_id", "not a member of the case's family")
        if level.person_id in seen:
            raise Invalid(f"levels[{i}].person_id", "has a level already")
        seen.add(level.person_id)
        if level.level not in catalogue:
            raise Invalid(f"levels[{i}].level", f"must be one of {sorted(catalogue)}")
        if assessment.outcome == Outcome.SDP and sdp_level and level.level != sdp_level:
            raise Invalid(
                f"levels[{i}].level", f"an SDP family is supported at {sdp_level} (INT-6)"
            )
        if not level.signs:
            raise Invalid(f"levels[{i}].signs", "the signs found are required (INT-6)")
        unknown = sorted(set(level.signs) - catalogue[level.level])
        if unknown:
            raise Invalid(f"levels[{i}].signs", f"not signs of {level.level}: {unknown}")
    return checked


# --- the responsible case worker (INT-9) ---------------------------------------------------------

ASSIGNERS = ("center-head",)
CASELOAD_READERS = ("center-head", "analyst")
# Support levels, the most intensive first. The most intensive level of a family's members
# decides its case's level; a move toward the front is a worsening (MON-2). Adaptation comes
# before basic: the Irkutsk indicators count adaptation -> basic as an improvement (seed 002,
# indicators 2.3-2.4).
LEVEL_ORDER = ("emergency", "crisis", "adaptation", "basic")


def case_level(levels: list[str]) -> str:
    """The case's support level: its members' most intensive one; "" when none is set."""
    for level in LEVEL_ORDER:
        if level in levels:
            return level
    return levels[0] if levels else ""


def check_worker(value: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("worker", "is required")
    if len(value) > 100:
        raise Invalid("worker", "at most 100 characters")
    return value


def over_recommendation(caseload: int, recommended: int | None) -> bool:
    """INT-9: the figures are a recommendation: past them is allowed, and warned about."""
    return recommended is not None and caseload > recommended


# --- home inspection (INT-8) ----------------------------------------------------------------------

VISITORS = ("case-worker", "center-head")


def check_home_visit(visited_on: date, findings: str, *, opened_on: date, today: date) -> str:
    """A visit during the case (from its opening day, not in the future) with its findings."""
    if visited_on > today:
        raise Invalid("visited_on", "must not be in the future")
    if visited_on < opened_on:
        raise Invalid("visited_on", "must not be before the case was opened")
    findings = findings.strip()
    if not findings:
        raise Invalid("findings", "is required")
    if len(findings) > MAX_TRIAGE_TEXT:
        raise Invalid("findings", f"at most {MAX_TRIAGE_TEXT} characters")
    return findings


# --- MON-2: acceptance for support and level changes ----------------------------------------------


class Direction(StrEnum):
    WORSE = "worse"
    BETTER = "better"


def level_direction(before: str, after: str) -> Direction | None:
    """A person's level change: toward a more intensive level is a worsening (MON-2, the four
    directions of PLN-14); None when the level did not change or either is not ranked."""
    if before == after or before not in LEVEL_ORDER or after not in LEVEL_ORDER:
        return None
    worse = LEVEL_ORDER.index(after) < LEVEL_ORDER.index(before)
    return Direction.WORSE if worse else Direction.BETTER


# --- journal follow-ups (INT-2) -------------------------------------------------------------------

FOLLOWERS = READERS
MAX_REASON = 1000


class FollowUpKind(StrEnum):
    INFORMATION = "information"
    CORRECTION = "correction"


class CorrectedField(StrEnum):
    SUMMARY = "summary"
    CHANNEL = "channel"


@dataclass(frozen=True)
class FollowUpIn:
    kind: FollowUpKind
    text: str = ""
    corrected_field: CorrectedField | None = None
    channel: Channel | None = None
    reason: str = ""


def check_follow_up(entry: FollowUpIn, *, summary: str, channel: str) -> FollowUpIn:
    """A later entry about an appeal (INT-2). Information carries the text and corrects
    nothing; a correction names the field, its new value (other than the value in force,
    `summary` and `channel`) and why, and never rewrites the entry it corrects."""
    text = entry.text.strip()
    reason = entry.reason.strip()
    if len(text) > MAX_SUMMARY:
        raise Invalid("text", f"at most {MAX_SUMMARY} characters")
    if len(reason) > MAX_REASON:
        raise Invalid("reason", f"at most {MAX_REASON} characters")
    if entry.kind == FollowUpKind.INFORMATION:
        if not text:
            raise Invalid("text", "is required: the new information")
        if entry.corrected_field is not None or entry.channel is not None or reason:
            raise Invalid("kind", "information corrects nothing; write a correction instead")
        return FollowUpIn(kind=entry.kind, text=text)
    if entry.corrected_field is None:
        raise Invalid("corrected_field", f"must be one of {[f.value for f in CorrectedField]}")
    if not reason:
        raise Invalid("reason", "is required: why the entry is corrected")
    if entry.corrected_field == CorrectedField.SUMMARY:
        if not text:
            raise Invalid("text", "is required: the corrected summary")
        if entry.channel is not None:
            raise Invalid("channel", "only with corrected_field channel")
        if text == summary:
            raise Invalid("text", "is the summary in force already")
        return FollowUpIn(
            kind=entry.kind, text=text, corrected_field=entry.corrected_field, reason=reason
        )
    if entry.channel is None:
        raise Invalid("channel", "is required: the right channel")
    if text:
        raise Invalid("text", "only with corrected_field summary")
    if entry.channel == channel:
        raise Invalid("channel", "is the channel in force already")
    return FollowUpIn(
        kind=entry.kind, corrected_field=entry.corrected_field, channel=entry.channel, reason=reason
    )


def in_force(
    summary: str, channel: str, corrections: list[tuple[str, str, str]]
) -> tuple[str, str]:
    """The summary and channel in force after `corrections` (field, text, channel), oldest
    first: the latest correction of each, else the original."""
    for field, text, corrected_channel in corrections:
        if field == CorrectedField.SUMMARY:
            summary = text
        elif field == CorrectedField.CHANNEL:
            channel = corrected_channel
    return summary, channel
