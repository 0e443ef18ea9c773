"""Policy profiles: each jurisdiction's terms, plan rules, levels, limits and approvers, as data.

    from kamqor.profiles import get_profile
    p = get_profile("kz")
    d = p.due("INT-3/threat", at)   # Deadline: due_at, rule, profile_version, calendar_version
    p.approaching_at("INT-3/threat", at, d.due_at)

Files: `profiles/data/<name>.yaml` (model in `model.py`, loading rules in `loader.py`).
"""

from kamqor.profiles.errors import ProfileError, UnknownRule
from kamqor.profiles.loader import get_profile, load_all_profiles, load_profile, profile_names
from kamqor.profiles.model import (
    Approvals,
    CaseloadLimits,
    Lead,
    PlanTerm,
    ProfileData,
    Shelter,
    SupportLevel,
    Term,
)
from kamqor.profiles.profile import Deadline, Profile, ProfileVersion

__all__ = [
    "Approvals",
    "CaseloadLimits",
    "Deadline",
    "Lead",
    "PlanTerm",
    "Profile",
    "ProfileData",
    "ProfileError",
    "ProfileVersion",
    "Shelter",
    "SupportLevel",
    "Term",
    "UnknownRule",
    "get_profile",
    "load_all_profiles",
    "load_profile",
    "profile_names",
]
