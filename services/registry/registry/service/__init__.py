"""Data bank use cases: authorise, validate, apply rules, persist, stage events. Never commits.

Split by aggregate (ARCHITECTURE.md): `decisions` records the commission's decisions and the
registry office's receipt, entry and removal; `families` reads and searches the bank and holds
the views both return.
"""

from registry.service._common import SOURCE
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

__all__ = [
    "SOURCE",
    "DecisionView",
    "FamilySummary",
    "FamilyView",
    "enter_family",
    "get_family",
    "receive_decision",
    "record_deregistration",
    "record_registration_decision",
    "remove_family",
    "search_families",
]
