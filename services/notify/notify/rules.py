"""Notice rules: who must be told what, by when (SHL-3, NTF-1, NTF-7). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kamqor.auth import AGENCY_TYPES, Principal
from kamqor.profiles.model import Lead

ADMISSION_RULE = "SHL-3"
# SHL-3 / NTF-1: police and guardianship are told in writing within 24 hours.
ADMISSION_RECIPIENTS = ("police", "guardianship")
RECIPIENT_ROLES = ("agency-coordinator", "agency-assignee", "partner-system")
SENDER_ROLES = ("center-head",)
# The center's shelter operators follow the SHL-3 notices of their own admissions (sent,
# acknowledged by whom, overdue); they see no other notice of the center.
SHELTER_ROLES = ("shelter-operator",)


class NoticeState(StrEnum):
    """The recipient's acknowledgement (NTF-7); delivery, which meets the sender's obligation
    (SHL-3), is tracked apart (`Notice.delivered_at`, `Delivery`)."""

    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Person:
    full_name: str
    birth_date: str


@dataclass(frozen=True)
class AdmissionFacts:
    """What police and guardianship must act on after an admission with minors (SHL-3, NTF-1),
    and nothing more of the case file. Empty strings where the shelter did not send a field
    (events from before it did): the notice then says so rather than guessing."""

    adult: Person | None = None
    minors: tuple[Person, ...] = ()
    shelter_name: str = ""
    shelter_address: str = ""
    specialist_name: str = ""
    specialist_contact: str = ""

    def as_content(self) -> dict[str, object]:
        """The structured content a recipient's system receives (webhook body)."""
        return {
            "adult": None
            if self.adult is None
            else {"full_name": self.adult.full_name, "birth_date": self.adult.birth_date},
            "minors": [{"full_name": m.full_name, "birth_date": m.birth_date} for m in self.minors],
            "shelter": {"name": self.shelter_name, "address": self.shelter_address},
            "specialist": {"name": self.specialist_name, "contact": self.specialist_contact},
        }


NOT_GIVEN = "(not given by the shelter)"


@dataclass(frozen=True)
class NoticeDraft:
    recipient_agency_type: str
    text: str
    content: dict[str, object] | None = None
    # One agency by its id (NTF-3, PLN-4); '' for every agency of the type in the territory.
    recipient_agency: str = ""


def admission_notices(
    *,
    stay_id: str,
    center_id: str,
    admitted_at: datetime,
    minors: int,
    zone: ZoneInfo,
    facts: AdmissionFacts | None = None,
    recipients: tuple[str, ...] = ADMISSION_RECIPIENTS,
) -> list[NoticeDraft]:
    """The written notices an admission with minors requires (SHL-3, NTF-1), one per recipient
    agency type of the profile; none without minors.

    Need to know: who was admitted, which minors with their birth dates, which shelter and its
    address, since when, and the responsible specialist's contact; nothing else of the case.
    """
    if minors <= 0:
        return []
    facts = facts or AdmissionFacts()
    local = admitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    adult = (
        f"{facts.adult.full_name} (born {facts.adult.birth_date or NOT_GIVEN})"
        if facts.adult is not None
        else f"an adult {NOT_GIVEN}"
    )
    children = (
        "; ".join(f"{m.full_name} (born {m.birth_date or NOT_GIVEN})" for m in facts.minors)
        if facts.minors
        else f"{minors} minor child(ren), names {NOT_GIVEN}"
    )
    shelter = facts.shelter_name or f"the crisis shelter of center {center_id}"
    lines = [
        f"Written notice under SHL-3 (NTF-1), stay {stay_id}.",
        f"Admitted: {adult}, together with {minors} minor child(ren).",
        f"Minors: {children}.",
        f"Shelter: {shelter}, {facts.shelter_address or 'address ' + NOT_GIVEN}.",
        f"Since: {local}.",
        "Responsible specialist: "
        f"{facts.specialist_name or NOT_GIVEN}, {facts.specialist_contact or NOT_GIVEN}.",
    ]
    text = "\n".join(lines)
    content = {"stay_id": stay_id, "admitted_at": admitted_at.isoformat(), **facts.as_content()}
    return [NoticeDraft(recipient_agency_type=r, text=text, content=content) for r in recipients]


# --- delivery (NTF-7: delivered, then acknowledged) ------------------------------------------


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    LETTER = "letter"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A claimed delivery is retried after this if its sender died before recording the outcome;
# receivers dedupe on the Idempotency-Key, so a repeat is harmless.
CLAIM_LEASE = timedelta(minutes=2)


def retry_after(attempts: int) -> timedelta | None:
    """Backoff after `attempts` failed tries: 30 s, 1 min, 2 min, ... at most 1 h; None when
    it is time to give up (the notice then escalates, NTF-7)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_RETRY)


def escalate_at(*, created_at: datetime, due_at: datetime, lead: Lead) -> datetime:
    """When an undelivered or unacknowledged notice escalates to the center head: `lead`
    before its due time (the profile's `notices.escalate_before`), never before creation."""
    return max(created_at, due_at - lead.before(due_at - created_at))


BEFORE_DUE_STAGE = "before-due"
UNACKNOWLEDGED_STAGE = "unacknowledged"


def needs_escalation(state: str) -> bool:
    """Undelivered or unacknowledged: both still need the center head before the due time."""
    return NoticeState(state) != NoticeState.ACKNOWLEDGED


def addressed_to(
    principal: Principal, *, recipient_agency_type: str, territory: str, recipient_agency: str = ""
) -> bool:
    """A notice is seen by the receiving agency of its territory (need to know, REG-9): the one
    agency it names (NTF-3, PLN-4), or every agency of its type when it names none (SHL-3)."""
    if not principal.has_any(*RECIPIENT_ROLES) or principal.territory != territory:
        return False
    if recipient_agency:
        return principal.agency == recipient_agency
    return principal.agency_type == recipient_agency_type


def sent_by(principal: Principal, *, sender_agency: str, rule: str = "") -> bool:
    """The head of the center that had to send a notice follows it up (NTF-7 escalation); its
    shelter operators follow the SHL-3 notices of admissions."""
    if principal.agency != sender_agency:
        return False
    return principal.has_any(*SENDER_ROLES) or (
        rule == ADMISSION_RULE and principal.has_any(*SHELTER_ROLES)
    )


def acknowledged_on_time(acknowledged_at: datetime, due_at: datetime) -> bool:
    return acknowledged_at <= due_at


# --- reminders and escalations of obligations (NTF-7, MON-3) ----------------------------------

# The services whose sweepers emit `ObligationDue` (kamqor.<producer>.obligation.<stage>).
OBLIGATION_PRODUCERS = ("intake", "plans", "registry", "shelter", "notify")
# Staff of the responsible agency who see its reminders; the responsible person sees theirs too.
AGENCY_AUDIENCE = "agency"
AGENCY_READERS = (
    "agency-coordinator",
    "agency-assignee",
    "case-worker",
    "center-head",
    "commission-member",
    "partner-system",
)
HEAD_AUDIENCE = "center-head"
HEAD_READERS = ("center-head",)
# Who may ask for reminders: the audiences above, and shelter operators, who are named the
# responsible person of the stays they admit (SHL-1).
REMINDER_READERS = (*AGENCY_READERS, "shelter-operator")


class ReminderKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class Stage(StrEnum):
    """The sweeper's stages of an obligation (kit `sweeping`)."""

    APPROACHING = "approaching"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ReminderDraft:
    kind: ReminderKind
    recipient_agency: str
    recipient_role: str
    text: str


def reminder_for(
    *,
    stage: str,
    rule: str,
    subject: str,
    responsible_agency: str,
    territory_center: str,
    due_at: datetime,
    zone: ZoneInfo,
) -> ReminderDraft:
    """An approaching term reminds the responsible agency; an overdue one escalates to the head
    of the territory's center, which coordinates the agencies (NTF-7, MON-3).

    The text names the rule, the subject's id and the due time only: no personal data (REG-9).
    """
    local = due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if Stage(stage) == Stage.APPROACHING:
        return ReminderDraft(
            kind=ReminderKind.REMINDER,
            recipient_agency=responsible_agency,
            recipient_role=AGENCY_AUDIENCE,
            text=f"Reminder under {rule}: {subject} is due by {local} ({responsible_agency}).",
        )
    return ReminderDraft(
        kind=ReminderKind.ESCALATION,
        recipient_agency=territory_center,
        recipient_role=HEAD_AUDIENCE,
        text=(
            f"Escalation under {rule}: {subject} was due by {local} and is overdue "
            f"(responsible: {responsible_agency})."
        ),
    )


def reminded(
    principal: Principal,
    *,
    territory: str,
    recipient_agency: str,
    recipient_role: str,
    responsible_person: str,
) -> bool:
    """Whether a reminder or escalation is addressed to `principal` (need to know, REG-9)."""
    if principal.territory != territory:
        return False
    if recipient_role == HEAD_AUDIENCE:
        return principal.agency == recipient_agency and principal.has_any(*HEAD_READERS)
    return (principal.agency == recipient_agency and principal.has_any(*AGENCY_READERS)) or bool(
        responsible_person and principal.subject == responsible_person
    )


# --- the other notices the rules require (NTF-2 … NTF-6) --------------------------------------

VIOLATION_RULE = "NTF-2"
MEASURE_RULE = "NTF-3"
CLOSURE_RULE = "NTF-4"
REDIRECTION_RULE = "NTF-5"
DECISION_RULE = "NTF-6"
# The profile term each notice's due time comes from. A notice whose territory's profile has no
# such term is not created: the law binds that notice elsewhere, not there (DOMAIN.md terms).
VIOLATION_TERM = "NTF-2"
# NTF-3: the agency designates a responsible person within its PLN-6 term of receiving the
# measure; that is what the notice asks of it.
MEASURE_TERM = "PLN-6"
CLOSURE_TERM = "PLN-11"
# No regulation sets a term for the closure letter (DOMAIN.md PLN-11); see create_closure_notice.
CLOSURE_PRACTICE_WORKING_DAYS = 3
REDIRECTION_TERMS = ("INT-3/redirect", "INT-7")
DECISION_ENTER_TERMS = {"registration": "REG-4/enter", "deregistration": "REG-6/enter"}
FAMILY = "family"
GUARDIANSHIP = "guardianship"
REGISTRY_OFFICE = "registry_office"
# INT-7: a victim is redirected for identification to an organisation of special social services.
IDENTIFYING_AGENCY_TYPE = "social_protection"
# A competent organisation outside the state agencies (INT-3): an NGO, to Kamqor.
OTHER_ORGANISATION = "ngo"


@dataclass(frozen=True)
class RuleNotice:
    """One notice a rule requires: its rule ID, the profile term its due time comes from, what
    it is about and when that arose, who sends it, and its draft (need to know only)."""

    rule: str
    term: str
    subject: str
    arose_at: datetime
    sender_agency: str
    draft: NoticeDraft
    in_writing: bool = False


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def violation_notice(
    *,
    appeal_id: str,
    journal_number: str,
    center_id: str,
    registered_at: datetime,
    threat_to_life: bool,
    minors: int,
    zone: ZoneInfo,
) -> RuleNotice | None:
    """NTF-2: an appeal reporting a threat to a child's life or health (INT-4 with minors) is a
    fact of violation of a child's rights: guardianship is told immediately. The notice names
    the journal entry to act on, not its contents (REG-9)."""
    if not threat_to_life or minors <= 0:
        return None
    text = "\n".join(
        [
            f"Immediate notice under {VIOLATION_RULE}: a violation of a child's rights.",
            f"Appeal {journal_number or appeal_id} registered {_local(registered_at, zone)} "
            f"by center {center_id}: a threat to the life or health of {minors} minor(s).",
            f"Contact center {center_id} for the details.",
        ]
    )
    content: dict[str, object] = {
        "appeal_id": appeal_id,
        "journal_number": journal_number,
        "registered_at": registered_at.isoformat(),
        "minors": minors,
        "center_id": center_id,
    }
    return RuleNotice(
        rule=VIOLATION_RULE,
        term=VIOLATION_TERM,
        subject=f"appeal/{appeal_id}",
        arose_at=registered_at,
        sender_agency=center_id,
        draft=NoticeDraft(recipient_agency_type=GUARDIANSHIP, text=text, content=content),
    )


def measure_notice(
    *,
    measure_id: str,
    plan_id: str,
    agency_id: str,
    agency_type: str,
    kind: str,
    deadline: str,
    sent_at: datetime,
    center_id: str,
    zone: ZoneInfo,
) -> RuleNotice:
    """NTF-3: a measure of an approved plan reaches its agency, which designates a responsible
    person within PLN-6; the notice carries the measure, not the family's case."""
    text = "\n".join(
        [
            f"Notice under {MEASURE_RULE} (PLN-5): measure {measure_id} of plan {plan_id} "
            f"for {agency_id}.",
            f"Kind: {kind}; to be carried out by {deadline or NOT_GIVEN}.",
            f"Sent {_local(sent_at, zone)}; designate a responsible person (PLN-6).",
        ]
    )
    content: dict[str, object] = {
        "measure_id": measure_id,
        "plan_id": plan_id,
        "agency_id": agency_id,
        "kind": kind,
        "deadline": deadline,
        "sent_at": sent_at.isoformat(),
    }
    return RuleNotice(
        rule=MEASURE_RULE,
        term=MEASURE_TERM,
        subject=f"measure/{measure_id}",
        arose_at=sent_at,
        sender_agency=center_id,
        draft=NoticeDraft(
            recipient_agency_type=agency_type,
            recipient_agency=agency_id,
            text=text,
            content=content,
        ),
    )


def closure_notice(
    *,
    plan_id: str,
    family_id: str,
    center_id: str,
    reason: str,
    closed_at: datetime,
    zone: ZoneInfo,
) -> RuleNotice:
    """NTF-4: a closure decision goes to the family in writing (PLN-11)."""
    text = "\n".join(
        [
            f"Written notice under {CLOSURE_RULE} (PLN-11): support under plan {plan_id} "
            f"is closed as of {_local(closed_at, zone)}.",
            f"Reason: {reason or NOT_GIVEN}. Center {center_id} answers any question.",
        ]
    )
    content: dict[str, object] = {
        "plan_id": plan_id,
        "family_id": family_id,
        "reason": reason,
        "closed_at": closed_at.isoformat(),
    }
    return RuleNotice(
        rule=CLOSURE_RULE,
        term=CLOSURE_TERM,
        subject=f"plan/{plan_id}",
        arose_at=closed_at,
        sender_agency=center_id,
        draft=NoticeDraft(recipient_agency_type=FAMILY, text=text, content=content),
        in_writing=True,
    )


def redirection_recipient(*, organisation: str, term: str) -> str:
    """The agency type an NTF-5 notice is addressed to: the organisation when it names one."""
    if organisation in AGENCY_TYPES:
        return organisation
    return IDENTIFYING_AGENCY_TYPE if term == "INT-7" else OTHER_ORGANISATION


def redirection_notice(
    *,
    appeal_id: str,
    journal_number: str,
    center_id: str,
    organisation: str,
    term: str,
    redirected_at: datetime,
    zone: ZoneInfo,
) -> RuleNotice | None:
    """NTF-5: a redirection goes to the competent organisation (INT-3, 1 working day) or a
    domestic-violence victim to identification (INT-7, 2 working days). None for another term."""
    if term not in REDIRECTION_TERMS:
        return None
    text = "\n".join(
        [
            f"Notice under {REDIRECTION_RULE} ({term}): appeal {journal_number or appeal_id} "
            f"is redirected to {organisation or NOT_GIVEN} by center {center_id}.",
            f"Redirected {_local(redirected_at, zone)}; contact the center for the details.",
        ]
    )
    content: dict[str, object] = {
        "appeal_id": appeal_id,
        "journal_number": journal_number,
        "organisation": organisation,
        "redirected_at": redirected_at.isoformat(),
    }
    return RuleNotice(
        rule=REDIRECTION_RULE,
        term=term,
        subject=f"appeal/{appeal_id}",
        arose_at=redirected_at,
        sender_agency=center_id,
        draft=NoticeDraft(
            recipient_agency_type=redirection_recipient(organisation=organisation, term=term),
            text=text,
            content=content,
        ),
    )


def decision_notice(
    *,
    decision_id: str,
    family_id: str,
    kind: str,
    commission_id: str,
    enter_rule: str,
    sent_at: datetime,
    zone: ZoneInfo,
) -> RuleNotice | None:
    """NTF-6: a commission's registry decision to the registry office, which enters it within
    its term from receipt (REG-4/enter, REG-6/enter). None for a kind with no such term."""
    term = enter_rule or DECISION_ENTER_TERMS.get(kind, "")
    if not term:
        return None
    text = "\n".join(
        [
            f"Notice under {DECISION_RULE}: commission {commission_id} decided {kind or NOT_GIVEN} "
            f"of family {family_id} (decision {decision_id}).",
            f"Sent {_local(sent_at, zone)}; enter it in the data bank ({term}).",
        ]
    )
    content: dict[str, object] = {
        "decision_id": decision_id,
        "family_id": family_id,
        "kind": kind,
        "commission_id": commission_id,
        "sent_at": sent_at.isoformat(),
    }
    return RuleNotice(
        rule=DECISION_RULE,
        term=term,
        subject=f"decision/{decision_id}",
        arose_at=sent_at,
        sender_agency=commission_id,
        draft=NoticeDraft(recipient_agency_type=REGISTRY_OFFICE, text=text, content=content),
    )


# --- PLN-4: a copy of the approved plan to every responsible organisation ---------------------

COPY_RULE = "PLN-4"
# The copy goes out with the measures, so where the profile binds the measures' sending (PLN-5,
# kz) that term is the copy's. Elsewhere the law names no term for it (DOMAIN.md PLN-4, Yugra):
# product practice gives it one working day, like the draft's PLN-4/draft, so it still has a
# due time and escalates (NTF-7), but no legal obligation is opened for it.
COPY_TERM = "PLN-5"
COPY_PRACTICE_WORKING_DAYS = 1
# PlanApproved names the responsible organisations by id, not by type: the copy is addressed to
# the organisation itself.
RESPONSIBLE_ORGANISATION = "organisation"


def plan_copy_notices(
    *,
    plan_id: str,
    center_id: str,
    situation: str,
    approved_at: datetime,
    term_ends_at: datetime | None,
    measures: int,
    agency_ids: list[str] | tuple[str, ...],
    zone: ZoneInfo,
    family_id: str = "",
) -> list[RuleNotice]:
    """PLN-4: one copy of the approved plan to each responsible organisation, once each (an
    organisation named twice gets one copy), and one to the family in writing (a letter, like
    the NTF-4 closure letter) unless its family is still unknown (the case not yet announced).
    A copy says which plan, since when and until when, and whom to ask; the family's case stays
    with the center (REG-9)."""
    approved = f"plan {plan_id} was approved {_local(approved_at, zone)} by center {center_id}"
    runs = (
        f"Measures in the plan: {measures}; the plan runs until "
        f"{_local(term_ends_at, zone) if term_ends_at else NOT_GIVEN}."
    )
    facts: dict[str, object] = {
        "plan_id": plan_id,
        "approved_at": approved_at.isoformat(),
        "term_ends_at": term_ends_at.isoformat() if term_ends_at else None,
        "measures": measures,
    }
    drafts = [
        NoticeDraft(
            recipient_agency_type=RESPONSIBLE_ORGANISATION,
            recipient_agency=agency_id,
            text="\n".join(
                [
                    f"Copy under {COPY_RULE}: {approved}; {agency_id} is responsible for "
                    "measures in it.",
                    runs,
                    f"Contact center {center_id} for the details.",
                ]
            ),
            content={
                **facts,
                "center_id": center_id,
                "situation": situation,
                "agency_id": agency_id,
            },
        )
        for agency_id in dict.fromkeys(a for a in agency_ids if a)
    ]
    if family_id:
        drafts.append(
            NoticeDraft(
                recipient_agency_type=FAMILY,
                text="\n".join(
                    [
                        f"Written copy under {COPY_RULE}: your family's {approved}.",
                        runs,
                        f"Center {center_id} answers any question.",
                    ]
                ),
                content={**facts, "family_id": family_id},
            )
        )
    return [
        RuleNotice(
            rule=COPY_RULE,
            term=COPY_TERM,
            subject=f"plan/{plan_id}",
            arose_at=approved_at,
            sender_agency=center_id,
            draft=draft,
            in_writing=draft.recipient_agency_type == FAMILY,
        )
        for draft in drafts
    ]
