"""Notice rules as plain functions (SHL-3, NTF-1, NTF-7, REG-9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kamqor.auth import Principal
from notify import rules

ADMITTED = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def principal(roles: set[str], agency_type: str, territory: str = "kz-ast") -> Principal:
    return Principal(
        subject="s",
        username="u",
        roles=frozenset(roles),
        agency=f"{agency_type}-1",
        agency_type=agency_type,
        territory=territory,
        client_id="kamqor-console",
        token="t",
    )


def test_shl3_admission_with_minors_notifies_police_and_guardianship() -> None:
    drafts = rules.admission_notices(
        stay_id="s1",
        center_id="fc-ast-1",
        admitted_at=ADMITTED,
        minors=2,
        zone=ZoneInfo("Asia/Almaty"),
    )
    assert [d.recipient_agency_type for d in drafts] == ["police", "guardianship"]
    assert "2 minor" in drafts[0].text and "s1" in drafts[0].text


def test_ntf1_no_notice_without_minors() -> None:
    assert (
        rules.admission_notices(
            stay_id="s1", center_id="fc-ast-1", admitted_at=ADMITTED, minors=0, zone=ZoneInfo("UTC")
        )
        == []
    )


def test_reg9_a_notice_is_seen_by_its_recipient_agency_of_its_territory_only() -> None:
    police = principal({"agency-coordinator"}, "police")
    assert rules.addressed_to(police, recipient_agency_type="police", territory="kz-ast")
    assert not rules.addressed_to(police, recipient_agency_type="guardianship", territory="kz-ast")
    assert not rules.addressed_to(police, recipient_agency_type="police", territory="kz-ala")
    analyst = principal({"analyst"}, "police")
    assert not rules.addressed_to(analyst, recipient_agency_type="police", territory="kz-ast")


def test_ntf7_acknowledgement_on_time_is_recorded() -> None:
    due = ADMITTED + timedelta(hours=24)
    assert rules.acknowledged_on_time(due, due)
    assert not rules.acknowledged_on_time(due + timedelta(seconds=1), due)
