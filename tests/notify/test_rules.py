"""Notice rules as plain functions (SHL-3, NTF-1, NTF-7, REG-9)."""

from __future__ import annotations

from dataclasses import replace
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


def test_pln4_one_copy_per_responsible_organisation_addressed_by_id() -> None:
    copies = rules.plan_copy_notices(
        plan_id="p1",
        center_id="fc-ast-1",
        situation="dls",
        approved_at=ADMITTED,
        term_ends_at=None,
        measures=3,
        agency_ids=["edu-ast-1", "hlt-ast-1", "edu-ast-1", ""],
        zone=ZoneInfo("Asia/Almaty"),
    )
    assert [c.draft.recipient_agency for c in copies] == ["edu-ast-1", "hlt-ast-1"]
    assert {(c.rule, c.term, c.subject, c.sender_agency) for c in copies} == {
        ("PLN-4", "PLN-5", "plan/p1", "fc-ast-1")
    }
    assert all(c.draft.recipient_agency_type == rules.RESPONSIBLE_ORGANISATION for c in copies)


def test_ntf3_a_notice_to_one_agency_is_that_agencys_only() -> None:
    own = principal({"agency-coordinator"}, "education")  # agency "education-1"
    other = replace(own, agency="education-2")
    addressed = {"recipient_agency_type": "education", "territory": "kz-ast"}
    assert rules.addressed_to(own, **addressed, recipient_agency="education-1")
    assert not rules.addressed_to(other, **addressed, recipient_agency="education-1")
    # Without an agency id, every agency of the type in the territory (SHL-3 style).
    assert rules.addressed_to(other, **addressed)
    elsewhere = replace(own, territory="kz-ala")
    assert not rules.addressed_to(elsewhere, **addressed, recipient_agency="education-1")
