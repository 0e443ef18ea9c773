"""Profile files are validated at start-up; errors name the file, the key and the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from kamqor.profiles import ProfileError, UnknownRule, load_profile
from kamqor.profiles.loader import DATA

ALMATY = ZoneInfo("Asia/Almaty")
KZ: dict[str, Any] = yaml.safe_load((DATA / "kz.yaml").read_text(encoding="utf-8"))


def _write(tmp_path: Path, change: Callable[[dict[str, Any]], None], name: str = "kz") -> Path:
    raw = copy.deepcopy(KZ)
    change(raw)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _error(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> str:
    path = _write(tmp_path, change)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_an_unchanged_copy_loads(tmp_path: Path) -> None:
    assert load_profile(_write(tmp_path, lambda raw: None)).name == "kz"


def test_int3_threat_amount_must_be_positive(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["terms"]["INT-3/threat"]["amount"] = 0

    assert _error(tmp_path, change) == "terms.INT-3/threat.amount: must be > 0"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r["terms"]["SHL-3"].update(kind="fortnights"),
            "terms.SHL-3.kind: Input should be",
        ),
        (lambda r: r["terms"]["SHL-3"].pop("source"), "terms.SHL-3.source: required"),
        (lambda r: r["terms"]["SHL-3"].update(colour="red"), "terms.SHL-3.colour: unknown key"),
        (
            lambda r: r["terms"]["MON-1"].update(amount=31),
            "terms.MON-1: amount: a day of the month",
        ),
        (
            lambda r: r["terms"].update({"int-3": r["terms"]["SHL-3"]}),
            "terms.int-3: not a rule key",
        ),
        (
            lambda r: r["shelter"].update(stay_term="SHL-9"),
            "shelter.stay_term: 'SHL-9' is not a key",
        ),
        (lambda r: r.update(zone="Asia/Atlantis"), "zone: unknown IANA time zone 'Asia/Atlantis'"),
        (lambda r: r.update(utc_offset="+06:00"), "utc_offset: Asia/Almaty is +05:00"),
        (lambda r: r.update(calendar="mars"), "calendar: unknown calendar 'mars'"),
        (lambda r: r.update(name="ru-xx"), "name: 'ru-xx' is not the file name"),
        (
            lambda r: r["approaching_lead"].update(default={}),
            "approaching_lead.default: give exactly",
        ),
        (
            lambda r: r["approaching_lead"]["rules"].update({"REG-8": {"hours": 1}}),
            "approaching_lead.rules.REG-8: not a rule or key of terms",
        ),
        (
            lambda r: r["terms"]["INT-3/threat"].update(primary=True),
            "terms.INT-3/threat.primary: rule INT-3 already has primary INT-3/primary",
        ),
    ],
)
def test_errors_name_the_key_and_the_problem(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert _error(tmp_path, change).startswith(expected)


def test_kit_files_are_named_relative_to_the_kit() -> None:
    """The packaged files show as `profiles/data/kz.yaml` in errors (see yamlfile.display_path)."""
    from kamqor.calendar.yamlfile import display_path

    assert display_path(DATA / "kz.yaml") == "profiles/data/kz.yaml"


def test_not_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "kz.yaml"
    path.write_text("name: kz\nterms: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"kz\.yaml \(line \d+\): not valid YAML"):
        load_profile(path)


def _amended(raw: dict[str, Any]) -> None:
    raw["amendments"] = [
        {
            "version": "2027.1",
            "effective_from": date(2027, 1, 1),
            "terms": {
                "SHL-3": {"kind": "hours", "amount": 12, "source": "test amendment"},
                "MON-1": None,
            },
        }
    ]


def test_amendments_apply_from_their_effective_date(tmp_path: Path) -> None:
    """SHL-3 shortened to 12 hours from 2027: events before keep the old term and version."""
    profile = load_profile(_write(tmp_path, _amended))
    before = datetime(2026, 12, 31, 23, tzinfo=ALMATY)
    after = datetime.combine(date(2027, 1, 1), time(), tzinfo=ALMATY)
    old, new = profile.due("SHL-3", before), profile.due("SHL-3", after)
    assert (old.profile_version, old.amount) == ("2026.1", 24)
    assert (new.profile_version, new.amount) == ("2027.1", 12)
    assert profile.due("INT-3", after).amount == 3  # untouched terms carry over
    with pytest.raises(UnknownRule):
        profile.due("MON-1", after)  # null removes a term
    assert profile.due("MON-1", before).rule == "MON-1"


def test_amendment_errors_name_the_amendment(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _amended(raw)
        raw["amendments"][0]["terms"]["SHL-3"]["amount"] = -1

    assert _error(tmp_path, change) == "amendments[0].terms.SHL-3.amount: must be > 0"


def test_amendments_must_move_forward_in_time(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _amended(raw)
        raw["amendments"][0]["effective_from"] = date(2024, 1, 1)

    assert _error(tmp_path, change).startswith("amendments[0].effective_from: must be after")


def test_a_rule_with_several_terms_and_no_primary_is_ambiguous(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["terms"]["INT-3/primary"]["primary"] = False

    profile = load_profile(_write(tmp_path, change))
    with pytest.raises(UnknownRule, match="several terms"):
        profile.due("INT-3", datetime(2026, 3, 6, 15, tzinfo=ALMATY))
