"""What both halves of the data bank use cases share."""

from __future__ import annotations

from kamqor.profiles import Profile, get_profile
from kamqor.territories import territory as territory_of
from registry import rules

SOURCE = "kamqor.registry"


def _profile_for(territory: str, *rule_keys: str) -> Profile:
    """The territory's profile, refusing where the data bank rules do not apply."""
    name = territory_of(territory).profile
    profile = get_profile(name)
    rules.require_registry(profile.has_rule, rule_keys or rules.REGISTRATION_RULES, profile=name)
    return profile
