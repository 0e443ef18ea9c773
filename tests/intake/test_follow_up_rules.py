"""The pure rules behind the journal's follow-ups and the indicators' level directions."""

from __future__ import annotations

import pytest

from intake import rules
from intake.rules import Channel, CorrectedField, Direction, FollowUpIn, FollowUpKind
from kamqor.errors import Invalid


@pytest.mark.parametrize(
    ("before", "after", "direction"),
    [
        # The four directions the Irkutsk indicators count (seed 002, 2.1-2.4).
        ("basic", "crisis", Direction.WORSE),
        ("crisis", "basic", Direction.BETTER),
        ("adaptation", "crisis", Direction.WORSE),
        ("adaptation", "basic", Direction.BETTER),
        ("crisis", "emergency", Direction.WORSE),
        ("emergency", "adaptation", Direction.BETTER),
        ("crisis", "crisis", None),
        ("crisis", "unknown", None),
    ],
)
def test_level_direction(before: str, after: str, direction: Direction | None) -> None:
    assert rules.level_direction(before, after) == direction


def test_a_family_level_is_its_most_intensive_members() -> None:
    assert rules.case_level(["basic", "adaptation"]) == "adaptation"
    assert rules.case_level(["basic", "emergency", "crisis"]) == "emergency"
    assert rules.case_level([]) == ""


def check(entry: FollowUpIn) -> FollowUpIn:
    return rules.check_follow_up(entry, summary="As registered", channel="phone")


def test_information_is_trimmed_and_corrects_nothing() -> None:
    assert check(FollowUpIn(FollowUpKind.INFORMATION, text="  News \n")) == FollowUpIn(
        FollowUpKind.INFORMATION, text="News"
    )
    with pytest.raises(Invalid) as caught:
        check(FollowUpIn(FollowUpKind.INFORMATION, text="x", channel=Channel.MEDIA))
    assert caught.value.field == "kind"


def test_a_correction_names_the_field_the_new_value_and_why() -> None:
    summary = FollowUpIn(
        FollowUpKind.CORRECTION, text="Better", corrected_field=CorrectedField.SUMMARY, reason="r"
    )
    assert check(summary) == summary
    channel = FollowUpIn(
        FollowUpKind.CORRECTION,
        corrected_field=CorrectedField.CHANNEL,
        channel=Channel.HOTLINE_111,
        reason=" r ",
    )
    assert check(channel).reason == "r"
    for bad, field in (
        (FollowUpIn(FollowUpKind.CORRECTION, text="x", reason="r"), "corrected_field"),
        (FollowUpIn(FollowUpKind.CORRECTION, corrected_field=CorrectedField.SUMMARY), "reason"),
        (
            FollowUpIn(FollowUpKind.CORRECTION, corrected_field=CorrectedField.SUMMARY, reason="r"),
            "text",
        ),
        (
            FollowUpIn(
                FollowUpKind.CORRECTION,
                text="As registered",
                corrected_field=CorrectedField.SUMMARY,
                reason="r",
            ),
            "text",
        ),
        (
            FollowUpIn(
                FollowUpKind.CORRECTION,
                text="x",
                corrected_field=CorrectedField.CHANNEL,
                channel=Channel.MEDIA,
                reason="r",
            ),
            "text",
        ),
        (
            FollowUpIn(
                FollowUpKind.CORRECTION,
                corrected_field=CorrectedField.CHANNEL,
                channel=Channel.PHONE,
                reason="r",
            ),
            "channel",
        ),
        (
            FollowUpIn(FollowUpKind.INFORMATION, text="x" * (rules.MAX_SUMMARY + 1)),
            "text",
        ),
    ):
        with pytest.raises(Invalid) as caught:
            check(bad)
        assert caught.value.field == field, bad


def test_the_latest_correction_of_each_field_is_in_force() -> None:
    assert rules.in_force("s0", "phone", []) == ("s0", "phone")
    corrections = [
        ("summary", "s1", ""),
        ("channel", "", "hotline_111"),
        ("summary", "s2", ""),
    ]
    assert rules.in_force("s0", "phone", corrections) == ("s2", "hotline_111")
