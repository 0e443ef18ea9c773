"""The pure rules of requests, quarters and retention, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kamqor.auth import Principal
from kamqor.errors import Forbidden, Invalid
from kamqor.profiles import get_profile
from registry.rules import inquiries, reports

IRKUTSK = ZoneInfo("Asia/Irkutsk")


def body(agency_type: str, *roles: str) -> Principal:
    return Principal(
        subject="s",
        username="u",
        roles=frozenset(roles or ("agency-coordinator",)),
        agency="a-1",
        agency_type=agency_type,
        territory="ru-irk",
        client_id="tests",
        token="",
    )


@pytest.mark.parametrize(
    ("agency_type", "purpose"),
    [
        ("police", "juvenile_prevention"),
        ("guardianship", "child_rights_protection"),
        ("education", "education_support"),
        ("health", "medical_care"),
        ("family_center", "social_support"),
        ("employment", "employment_assistance"),
    ],
)
def test_each_body_type_has_its_own_purpose_only(agency_type: str, purpose: str) -> None:
    assert inquiries.check_purpose(body(agency_type), purpose).code == purpose
    others = set(inquiries.PURPOSES) - {purpose}
    for other in others:
        with pytest.raises(Invalid) as err:
            inquiries.check_purpose(body(agency_type), other)
        assert err.value.field == "purpose"


@pytest.mark.parametrize("agency_type", ["registry_office", "commission", "ministry", "hotline"])
def test_a_body_type_without_a_purpose_is_refused_naming_the_field(agency_type: str) -> None:
    with pytest.raises(Invalid) as err:
        inquiries.check_purpose(body(agency_type), "juvenile_prevention")
    assert err.value.field == "purpose"
    assert agency_type in err.value.reason


def test_only_agency_staff_ask() -> None:
    with pytest.raises(Forbidden):
        inquiries.check_requester(body("police", "analyst"))


def test_disclosure_keeps_only_the_purposes_fields() -> None:
    values: dict[str, object] = {f: f"v-{f}" for f in inquiries.MEMBER_FIELDS}
    kept = inquiries.disclose(inquiries.PURPOSES["education_support"], values)
    assert set(kept) == {"full_name", "relation", "birth_date", "work_or_study"}
    every = {f for p in inquiries.PURPOSES.values() for f in p.fields}
    assert every <= {*inquiries.MEMBER_FIELDS, *inquiries.FAMILY_FIELDS}


@pytest.mark.parametrize("text", ["2026-Q0", "2026-Q5", "2026Q4", "26-Q4", "", "1999-Q1"])
def test_a_quarter_is_written_year_dash_q_number(text: str) -> None:
    with pytest.raises(Invalid) as err:
        reports.parse_quarter(text)
    assert err.value.field == "quarter"


def test_a_quarter_ends_at_the_local_midnight_that_starts_the_next() -> None:
    q4 = reports.parse_quarter("2026-Q4")
    assert q4.end(IRKUTSK) == datetime(2027, 1, 1, tzinfo=IRKUTSK)
    assert q4.last_day() == date(2026, 12, 31)
    assert reports.previous(reports.parse_quarter("2027-Q1")) == q4
    assert reports.quarter_of(date(2026, 11, 30)) == q4
    with pytest.raises(Invalid):
        reports.check_ended(q4, now=datetime(2026, 12, 31, 15, 59, tzinfo=UTC), zone=IRKUTSK)
    reports.check_ended(q4, now=datetime(2026, 12, 31, 16, 0, tzinfo=UTC), zone=IRKUTSK)


def test_irkutsks_archive_keeps_a_removed_family_five_years() -> None:
    profile = get_profile("ru-irk")
    removed = datetime(2026, 4, 1, 11, tzinfo=IRKUTSK)
    due = profile.due(reports.RETENTION_RULE, removed).due_at
    assert due.astimezone(IRKUTSK).date() == date(2031, 4, 1)
    assert profile.term(reports.RETENTION_RULE).local_practice
