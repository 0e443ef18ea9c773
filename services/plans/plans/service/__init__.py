"""Plan use cases: authorise, validate, apply rules, persist, stage events. Never commits.

Split by aggregate (ARCHITECTURE.md): `plans` drafts, reads and approves a plan and holds the
views; `lifecycle` carries it through reviews, closure, monitoring and reopening; `lists` and
`indicators` read across plans; `measures` follows its measures up with the agencies and the
center.
"""

from plans.service._common import SOURCE
from plans.service.cases import remember_case
from plans.service.indicators import PlanIndicators, report_plan_indicators
from plans.service.lifecycle import (
    change_support_level,
    close_plan,
    conclude_plan_review,
    end_monitoring,
    extend_plan,
    open_plan_review,
    reopen_plan,
    submit_plan,
)
from plans.service.lists import PlanRow, list_plans
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
    "PlanIndicators",
    "PlanRow",
    "PlanView",
    "add_support_measures",
    "approve_plan",
    "change_support_level",
    "close_plan",
    "complete_measure",
    "conclude_plan_review",
    "create_plan",
    "designate_assignee",
    "end_monitoring",
    "extend_plan",
    "follow_replanned_terms",
    "get_plan",
    "list_my_measures",
    "list_plans",
    "open_plan_review",
    "remember_case",
    "reopen_plan",
    "report_measure",
    "report_plan_indicators",
    "return_measure",
    "submit_plan",
]
