"""Every term key of DOMAIN.md's Terms index is in each profile its "profiles" column names.

Read from ../shared/DOMAIN.md beside the project root (as in CI), so a rule added to the index
fails here until the profiles carry it.
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
    if not DOMAIN.is_file():
        pytest.skip(f"{DOMAIN} is absent: CI puts ../shared beside the project root")
    rows = _terms_index()
    assert len(rows) >= 25, "the Terms index table was not found or changed shape"
    return rows


def test_every_term_key_is_in_each_profile_of_its_row(
    terms_index: list[tuple[str, list[str]]],
) -> None:
    """INT-3, INT-7, PLN-1..13, REG-3..8, SHL-1, SHL-3, NTF-2, MON-1 as the index assigns them."""
    missing = [
        f"{name}: {key}"
        for key, names in terms_index
        for name in names
        if key not in get_profile(name).terms
    ]
    assert not missing, f"profiles lack Terms index keys: {missing}"


def test_profiles_name_only_known_profiles(terms_index: list[tuple[str, list[str]]]) -> None:
    named = {name for _, names in terms_index for name in names}
    assert named <= set(profile_names())
