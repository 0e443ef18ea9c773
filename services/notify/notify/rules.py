"""Notice rules: who must be told what, by when (SHL-3, NTF-1, NTF-7). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from kamqor.auth import Principal

ADMISSION_RULE = "SHL-3"
# SHL-3 / NTF-1: police and guardianship are told in writing within 24 hours.
ADMISSION_RECIPIENTS = ("police", "guardianship")
RECIPIENT_ROLES = ("agency-coordinator", "agency-assignee", "partner-system")
SENDER_ROLES = ("center-head",)
# The center's shelter operators follow the SHL-3 notices of their own admissions (sent,
# acknowledged by whom, overdue); they see no other notice of the center.
SHELTER_ROLES = ("shelter-operator",)


class NoticeState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class NoticeDraft:
    recipient_agency_type: str
    text: str


def admission_notices(
    *, stay_id: str, center_id: str, admitted_at: datetime, minors: int, zone: ZoneInfo
) -> list[NoticeDraft]:
    """The written notices an admission with minors requires (SHL-3); none without minors.

    The text names the stay and the counts only: residents' identities are given on request
    through the shelter, where every read is audited (REG-9).
    """
    if minors <= 0:
        return []
    local = admitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    text = (
        f"Written notice under SHL-3: on {local} the crisis shelter of center {center_id} "
        f"admitted an adult together with {minors} minor child(ren) (stay {stay_id})."
    )
    return [NoticeDraft(recipient_agency_type=r, text=text) for r in ADMISSION_RECIPIENTS]


def addressed_to(principal: Principal, *, recipient_agency_type: str, territory: str) -> bool:
    """A notice is seen by the receiving agency of its territory (need to know, REG-9)."""
    return (
        principal.has_any(*RECIPIENT_ROLES)
        and principal.agency_type == recipient_agency_type
        and principal.territory == territory
    )


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
