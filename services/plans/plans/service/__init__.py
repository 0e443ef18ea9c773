"""Plan use cases: authorise, validate, apply rules, persist, stage events. Never commits.

Split by aggregate (ARCHITECTURE.md): `plans` drafts, reads and approves a plan and holds the
views; `measures` follows its measures up with the agencies and the center.
"""

from plans.service._common import SOURCE
from plans.service.measures import (
    MeasureOrder,
    complete_measure,
    designate_assignee,
    list_my_measures,
    report_measure,
    return_measure,
)
from plans.service.plans import (
    MeasureView,
    PlanView,
    approve_plan,
    create_plan,
    follow_replanned_terms,
    get_plan,
)
from plans.service.support import add_support_measures

__all__ = [
    "SOURCE",
    "MeasureOrder",
    "MeasureView",
    "PlanView",
    "add_support_measures",
    "approve_plan",
    "complete_measure",
    "create_plan",
    "designate_assignee",
    "follow_replanned_terms",
    "get_plan",
    "list_my_measures",
    "report_measure",
    "return_measure",
]
