"""Shelter rules as plain functions (SHL-1, SHL-3, SHL-5, SHL-6)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kamqor.errors import Conflict, Invalid
from shelter import rules

TODAY = date(2026, 11, 23)


def resident(born: date, name: str = "Someone") -> rules.ResidentIn:
    return rules.ResidentIn(full_name=name, birth_date=born)


def test_age_counts_whole_years() -> None:
    assert rules.age_on(date(2008, 11, 24), TODAY) == 17
    assert rules.age_on(date(2008, 11, 23), TODAY) == 18


def test_shl3_minors_admitted_with_the_adult_are_under_18() -> None:
    adult = resident(date(1990, 1, 1))
    rules.check_residents(adult, [resident(date(2010, 5, 5))], on=TODAY)
    with pytest.raises(Invalid) as err:
        rules.check_residents(
            adult, [resident(date(2015, 1, 1)), resident(date(2008, 1, 1))], on=TODAY
        )
    assert err.value.field == "minors[1].birth_date"


def test_shl3_the_admitted_adult_is_of_age() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_residents(resident(date(2010, 1, 1)), [], on=TODAY)
    assert err.value.field == "adult.birth_date"


def test_birth_in_the_future_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_residents(resident(date(1990, 1, 1)), [resident(date(2027, 1, 1))], on=TODAY)
    assert err.value.field == "minors[0].birth_date"


@pytest.mark.parametrize(
    ("occupied", "incoming", "fits"), [(0, 3, True), (7, 3, True), (8, 3, False)]
)
def test_shl6_placement_never_exceeds_capacity(occupied: int, incoming: int, fits: bool) -> None:
    if fits:
        rules.check_capacity(capacity=10, occupied=occupied, incoming=incoming)
    else:
        with pytest.raises(Conflict) as err:
            rules.check_capacity(capacity=10, occupied=occupied, incoming=incoming)
        assert err.value.code == "shelter-full"


def test_shl3_written_notice_only_with_minors() -> None:
    assert rules.needs_written_notice(1)
    assert not rules.needs_written_notice(0)


def test_shl5_bed_days_count_each_started_local_day_per_person() -> None:
    astana = ZoneInfo("Asia/Almaty")
    # 22:00 UTC on 1 March is 03:00 on 2 March in Astana: the stay starts on 2 March.
    start = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
    assert rules.bed_days(start, datetime(2026, 3, 1, 23, 0, tzinfo=UTC), 3, astana) == 3
    assert rules.bed_days(start, datetime(2026, 3, 11, 9, 0, tzinfo=UTC), 3, astana) == 27


def test_names_are_required_and_bounded() -> None:
    with pytest.raises(Invalid):
        rules.check_name("  ", field="adult.full_name")
    with pytest.raises(Invalid):
        rules.check_name("x" * 201, field="adult.full_name")
    assert rules.check_name("  Aigerim ", field="adult.full_name") == "Aigerim"


def test_a_referring_document_belongs_to_a_referral_by_an_authority() -> None:
    assert rules.check_referral(rules.Referral.POLICE, " KUSP 1/26 ") == "KUSP 1/26"
    assert rules.check_referral(rules.Referral.SELF_APPLICATION, "") == ""
    for referral, document in (
        (rules.Referral.SELF_APPLICATION, "X-1"),
        (rules.Referral.HEALTH, "9" * 101),
        # SHL-2: an authority's referral is made in writing; its number is required.
        (rules.Referral.POLICE, ""),
        (rules.Referral.HEALTH, "  "),
        (rules.Referral.EMPLOYMENT_AND_SOCIAL_PROGRAMMES, ""),
    ):
        with pytest.raises(Invalid) as err:
            rules.check_referral(referral, document)
        assert err.value.field == "referral_document"


def test_hold_length_defaults_and_bounds() -> None:
    assert rules.hold_length(0) == rules.DEFAULT_HOLD
    assert rules.hold_length(90).total_seconds() == 90 * 60
    for minutes in (-1, 3 * 24 * 60 + 1):
        with pytest.raises(Invalid):
            rules.hold_length(minutes)


def test_beds_named_one_per_person_and_once() -> None:
    rules.check_bed_choice([], 3)
    rules.check_bed_choice(["a", "b"], 2)
    for beds in (["a"], ["a", "a"]):
        with pytest.raises(Invalid) as err:
            rules.check_bed_choice(beds, 2)
        assert err.value.field == "bed_ids"


def test_extension_needs_a_decision_and_a_later_day() -> None:
    astana = ZoneInfo("Asia/Almaty")
    end = datetime(2026, 12, 2, 23, 59, 59, 999999, tzinfo=astana)
    new_end = rules.check_extension(
        current_end=end, until=date(2026, 12, 9), zone=astana, decision_number="7", reason="why"
    )
    assert new_end == datetime(2026, 12, 9, 23, 59, 59, 999999, tzinfo=astana)
    for number, reason, until, field in (
        ("", "why", date(2026, 12, 9), "decision_number"),
        ("7", " ", date(2026, 12, 9), "reason"),
        ("7", "why", date(2026, 12, 2), "until"),
    ):
        with pytest.raises(Invalid) as err:
            rules.check_extension(
                current_end=end, until=until, zone=astana, decision_number=number, reason=reason
            )
        assert err.value.field == field


def test_bed_days_run_through_the_night_before_the_end() -> None:
    assert rules.bed_days_through(date(2026, 3, 9), date(2026, 3, 12)) == date(2026, 3, 11)
    assert rules.bed_days_through(date(2026, 3, 9), date(2026, 3, 9)) == date(2026, 3, 9)


def test_stays_by_length_buckets() -> None:
    assert [rules.length_bucket(d) for d in (0, 7, 8, 14, 15, 31, 32, 400)] == [
        "0-7",
        "0-7",
        "8-14",
        "8-14",
        "15-31",
        "15-31",
        "32+",
        "32+",
    ]
