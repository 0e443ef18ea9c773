"""Each profile carries exactly the term keys DOMAIN.md's Terms index binds to it.

Read from ../shared/DOMAIN.md beside the project root (as in CI), so a rule added to the index
fails here until the profiles carry it, and a term the index does not bind to a profile (a term
that region's regulation does not set) fails unless the profile marks it as local practice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kamqor.profiles import get_profile, profile_names

DOMAIN = Path(__file__).resolve().parents[2].parent / "shared" / "DOMAIN.md"


def _terms_index() -> list[tuple[str, list[str]]]:
    """(term key, profile names) for every row of the Terms index table."""
    text = DOMAIN.read_text(encoding="utf-8")
    section = text.split("## Terms index", 1)[1].split("\n## ", 1)[0]
    rows: list[tuple[str, list[str]]] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        names = profile_names() if cells[3] == "all" else [p.strip() for p in cells[3].split(",")]
        rows += [(key, names) for key in re.findall(r"`([^`]+)`", cells[0])]
    return rows


@pytest.fixture(scope="module")
def terms_index() -> list[tuple[str, list[str]]]:
    # No skip: CI always has ../shared, and a check that can vanish silently checks nothing.
    assert DOMAIN.is_file(), f"{DOMAIN} is absent: put ../shared beside the project root"
    rows = _terms_index()
    assert len(rows) >= 25, "the Terms index table was not found or changed shape"
    return rows


def test_every_term_key_is_in_each_profile_of_its_row(
    terms_index: list[tuple[str, list[str]]],
) -> None:
    """Every key of the index (INT-3/primary, REG-5/send, MON-1, ...) in each profile it names."""
    missing = [
        f"{name}: {key}"
        for key, names in terms_index
        for name in names
        if key not in get_profile(name).terms
    ]
    assert not missing, f"profiles lack Terms index keys: {missing}"


def test_no_profile_has_a_term_its_row_does_not_bind_unless_local_practice(
    terms_index: list[tuple[str, list[str]]],
) -> None:
    """A region's regulation that sets no such term gets none: a term outside the profile's
    rows is allowed only when the profile marks it `local_practice` (never as law)."""
    bound = {(key, name) for key, names in terms_index for name in names}
    unbound = [
        f"{name}: {key}"
        for name in profile_names()
        for version in get_profile(name).versions
        for key, term in version.data.terms.items()
        if (key, name) not in bound and not term.local_practice
    ]
    assert not unbound, f"terms the Terms index does not bind to the profile: {unbound}"


def test_profiles_name_only_known_profiles(terms_index: list[tuple[str, list[str]]]) -> None:
    named = {name for _, names in terms_index for name in names}
    assert named <= set(profile_names())
