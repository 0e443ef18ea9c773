"""Loading and validating profile files; `get_profile` is the cached entry point.

A file holds the first version at its top level and later versions under `amendments`: each
amendment names its `version` and `effective_from` and replaces the top-level sections it gives,
except `terms`, which it merges key by key (a key set to null removes that term).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kamqor.calendar.data import get_calendar
from kamqor.calendar.errors import CalendarError
from kamqor.calendar.yamlfile import display_path, read_mapping, validate
from kamqor.clock import utcnow
from kamqor.profiles.errors import ProfileError
from kamqor.profiles.model import RULE_KEY, ProfileData
from kamqor.profiles.profile import Profile

DATA = Path(str(resources.files("kamqor.profiles").joinpath("data")))


def _versions(raw: dict[str, Any], path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(key prefix for errors, merged raw mapping) per version, oldest first."""
    amendments = raw.pop("amendments", None) or []
    if not isinstance(amendments, list):
        raise ProfileError(f"{display_path(path)}: amendments: must be a list")
    out = [("", raw)]
    merged = raw
    for i, patch in enumerate(amendments):
        where = f"amendments[{i}]"
        if not isinstance(patch, dict) or not {"version", "effective_from"} <= patch.keys():
            raise ProfileError(
                f"{display_path(path)}: {where}: needs `version` and `effective_from`"
            )
        merged = {**merged, **{k: v for k, v in patch.items() if k != "terms"}}
        terms = {**merged.get("terms", {}), **(patch.get("terms") or {})}
        merged["terms"] = {k: v for k, v in terms.items() if v is not None}
        out.append((where + ".", merged))
    return out


def _check(data: ProfileData, where: str, path: Path) -> None:
    """Rules pydantic cannot see alone: references between sections, tzdata, the calendar."""
    file = display_path(path)

    def fail(key: str, problem: str) -> ProfileError:
        return ProfileError(f"{file}: {where}{key}: {problem}")

    for key in data.terms:
        if not re.match(RULE_KEY, key):
            raise fail(f"terms.{key}", "not a rule key like INT-3 or INT-3/threat")
    by_rule: dict[str, list[str]] = {}
    for key, term in data.terms.items():
        if term.primary:
            by_rule.setdefault(key.split("/")[0], []).append(key)
    for rule, keys in by_rule.items():
        if len(keys) > 1:
            raise fail(f"terms.{keys[1]}.primary", f"rule {rule} already has primary {keys[0]}")
    for field in ("stay_term", "minors_notice_term"):
        ref = getattr(data.shelter, field)
        if ref is not None and ref not in data.terms:
            raise fail(f"shelter.{field}", f"{ref!r} is not a key of terms")
    rule_ids = {k.split("/")[0] for k in data.terms} | set(data.terms)
    for key in data.approaching_lead.rules:
        if key not in rule_ids:
            raise fail(f"approaching_lead.rules.{key}", "not a rule or key of terms")
    levels = {level.code for level in data.support_levels}
    for level in data.caseload_limits.per_level:
        if level not in levels:
            raise fail(f"caseload_limits.per_level.{level}", "not a support level code")
    if data.sdp_support_level is not None and data.sdp_support_level not in levels:
        raise fail("sdp_support_level", "not a support level code")
    if data.plan_term.by_support_level and not levels:
        raise fail("plan_term.by_support_level", "needs support_levels")
    zone = ZoneInfo(data.zone)
    try:
        calendar = get_calendar(data.calendar, on=data.effective_from)
    except CalendarError as exc:
        raise fail("calendar", str(exc)) from None
    # Check the offset where it matters: now, or the version's start when that is later.
    start = datetime.combine(data.effective_from, time(), tzinfo=zone)
    probe = max(start, utcnow().astimezone(zone))
    if calendar.first_day <= probe.date() <= calendar.last_day:
        offset = probe.strftime("%z")
        actual = f"{offset[:3]}:{offset[3:]}"
        if actual != data.utc_offset:
            raise fail(
                "utc_offset",
                f"{data.zone} is {actual} on {probe.date()} in this tzdata, profile says "
                f"{data.utc_offset}: update tzdata (pip package `tzdata`) or the profile",
            )


def load_profile(path: Path) -> Profile:
    """Load and validate one profile file; `ProfileError` names the file, key and problem."""
    raw = read_mapping(path, ProfileError)
    versions: list[ProfileData] = []
    for where, merged in _versions(raw, path):
        data = validate(ProfileData, merged, path, ProfileError, prefix=where)
        _check(data, where, path)
        if versions and data.effective_from <= versions[-1].effective_from:
            raise ProfileError(
                f"{display_path(path)}: {where}effective_from: must be after the previous "
                f"version's {versions[-1].effective_from.isoformat()}"
            )
        versions.append(data)
    if versions[0].name != path.stem:
        raise ProfileError(f"{display_path(path)}: name: {versions[0].name!r} is not the file name")
    return Profile(versions)


def profile_names() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.yaml"))


@cache
def get_profile(name: str) -> Profile:
    """The profile `name`, loaded and validated once per process."""
    path = DATA / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"unknown profile {name!r} (known: {', '.join(profile_names())})")
    return load_profile(path)


def load_all_profiles() -> list[Profile]:
    """Validate every shipped profile: call at start-up so a bad file stops the service."""
    return [get_profile(name) for name in profile_names()]
