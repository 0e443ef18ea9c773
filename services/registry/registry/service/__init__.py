"""Data bank use cases: authorise, validate, apply rules, persist, stage events. Never commits.

Split by aggregate (ARCHITECTURE.md): `decisions` records the commission's decisions and the
registry office's receipt, entry and removal; `families` reads and searches the bank and holds
the views both return.
"""

from registry.service._common import SOURCE
from registry.service.changes import ChangeView, enter_change, report_change
from registry.service.decisions import (
    enter_family,
    receive_decision,
    record_deregistration,
    record_registration_decision,
    remove_family,
)
from registry.service.families import (
    DecisionView,
    FamilySummary,
    FamilyView,
    get_family,
    search_families,
)
from registry.service.office import list_office_inbox, send_decision
from registry.service.reviews import record_review
from registry.service.sessions import SessionView, get_session, open_session

__all__ = [
    "SOURCE",
    "ChangeView",
    "DecisionView",
    "FamilySummary",
    "FamilyView",
    "SessionView",
    "enter_change",
    "enter_family",
    "get_family",
    "get_session",
    "list_office_inbox",
    "open_session",
    "receive_decision",
    "record_deregistration",
    "record_registration_decision",
    "record_review",
    "remove_family",
    "report_change",
    "search_families",
    "send_decision",
]
