"""Intake rules as plain functions (INT-1, INT-2, INT-3, INT-7)."""

from __future__ import annotations

from datetime import date

import pytest

from intake import rules
from kamqor.errors import Invalid

TODAY = date(2026, 11, 23)


def test_int2_journal_number_is_unique_per_center_and_year() -> None:
    assert rules.journal_number("fc-ast-1", 2026, 42) == "fc-ast-1/2026/000042"
    assert rules.journal_number("fc-ast-1", 2027, 42) != rules.journal_number("fc-ast-1", 2026, 42)
    assert rules.journal_number("fc-ala-1", 2026, 42) != rules.journal_number("fc-ast-1", 2026, 42)


ALL_TRIAGE = set(rules.TRIAGE_KEYS)


def test_int3_threat_to_life_shortens_the_primary_assessment() -> None:
    assert rules.triage_rules(
        threat_to_life=True, domestic_violence=False, has_rule=ALL_TRIAGE
    ) == ["INT-3/threat"]
    assert rules.triage_rules(
        threat_to_life=False, domestic_violence=False, has_rule=ALL_TRIAGE
    ) == ["INT-3/primary"]


def test_int7_domestic_violence_adds_redirection_where_the_profile_has_it() -> None:
    with_rule = rules.triage_rules(threat_to_life=True, domestic_violence=True, has_rule=ALL_TRIAGE)
    assert with_rule == ["INT-3/threat", "INT-7"]
    without = rules.triage_rules(
        threat_to_life=True, domestic_violence=True, has_rule={"INT-3/threat", "INT-3/primary"}
    )
    assert without == ["INT-3/threat"]


def test_int3_no_triage_obligation_where_the_profile_sets_no_term() -> None:
    """The Terms index binds INT-3 and INT-7 to Kazakhstan only: elsewhere an entry opens none."""
    for threat, violence in ((True, True), (False, False)):
        assert (
            rules.triage_rules(threat_to_life=threat, domestic_violence=violence, has_rule=set())
            == []
        )


def test_int1_every_source_of_a_case_is_a_channel() -> None:
    assert {c.value for c in rules.Channel} == {
        "in_person",
        "phone",
        "online",
        "hotline_111",
        "state_system",
        "report",
        "media",
        "mobile_group",
        "signal_card",
    }


def test_persons_are_checked_by_position() -> None:
    ok = rules.PersonIn("Mother", rules.Relation.MOTHER, date(1990, 1, 1))
    rules.check_persons([ok], today=TODAY)
    with pytest.raises(Invalid) as err:
        rules.check_persons([ok, rules.PersonIn(" ", rules.Relation.CHILD, None)], today=TODAY)
    assert err.value.field == "persons[1].full_name"
    with pytest.raises(Invalid) as err:
        rules.check_persons(
            [rules.PersonIn("Baby", rules.Relation.CHILD, date(2027, 1, 1))], today=TODAY
        )
    assert err.value.field == "persons[0].birth_date"


def test_minors_are_counted_by_age_or_relation() -> None:
    persons = [
        rules.PersonIn("Mother", rules.Relation.MOTHER, date(1990, 1, 1)),
        rules.PersonIn("Child", rules.Relation.CHILD, date(2019, 1, 1)),
        rules.PersonIn("Unknown age child", rules.Relation.CHILD, None),
        rules.PersonIn("Adult son", rules.Relation.CHILD, date(2000, 1, 1)),
    ]
    assert rules.minors_among(persons, today=TODAY) == 2


def test_summary_is_required() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_summary("   ")
    assert err.value.field == "summary"
