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


def sent_by(principal: Principal, *, sender_agency: str) -> bool:
    """The head of the center that had to send a notice follows it up (NTF-7 escalation)."""
    return principal.has_any(*SENDER_ROLES) and principal.agency == sender_agency


def acknowledged_on_time(acknowledged_at: datetime, due_at: datetime) -> bool:
    return acknowledged_at <= due_at
