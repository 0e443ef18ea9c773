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
from registry.service.inquiries import (
    InquiryView,
    answer_inquiry,
    create_inquiry,
    get_inquiry,
    list_own,
    list_to_answer,
)
from registry.service.office import list_office_inbox, send_decision
from registry.service.reports import (
    Export,
    Indicators,
    ReportView,
    export_reports,
    indicators,
    list_reports,
    submit_ministry_summary,
    submit_office_report,
)
from registry.service.reviews import record_review
from registry.service.sessions import SessionView, get_session, open_session

__all__ = [
    "SOURCE",
    "ChangeView",
    "DecisionView",
    "Export",
    "FamilySummary",
    "FamilyView",
    "Indicators",
    "InquiryView",
    "ReportView",
    "SessionView",
    "answer_inquiry",
    "create_inquiry",
    "enter_change",
    "enter_family",
    "export_reports",
    "get_family",
    "get_inquiry",
    "get_session",
    "indicators",
    "list_office_inbox",
    "list_own",
    "list_reports",
    "list_to_answer",
    "open_session",
    "receive_decision",
    "record_deregistration",
    "record_registration_decision",
    "record_review",
    "remove_family",
    "report_change",
    "search_families",
    "send_decision",
    "submit_ministry_summary",
    "submit_office_report",
]
