"""Policy profiles (DOMAIN.md "Policy profiles"): the API services call, and the data behind it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kamqor.calendar import TermsError
from kamqor.profiles import (
    Deadline,
    Profile,
    ProfileError,
    UnknownRule,
    get_profile,
    load_all_profiles,
    profile_names,
)

ALMATY = ZoneInfo("Asia/Almaty")
IRKUTSK = ZoneInfo("Asia/Irkutsk")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")


def _eod(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone)


def test_every_shipped_profile_loads_and_validates() -> None:
    assert profile_names() == ["kz", "ru-ba", "ru-irk", "ru-khm"]
    assert all(isinstance(p, Profile) for p in load_all_profiles())


@pytest.mark.parametrize(
    ("name", "zone", "calendar"),
    [
        ("kz", "Asia/Almaty", "kz"),
        ("ru-irk", "Asia/Irkutsk", "ru"),
        ("ru-khm", "Asia/Yekaterinburg", "ru"),
        ("ru-ba", "Asia/Yekaterinburg", "ru-ba"),
    ],
)
def test_profile_names_its_zone_and_calendar(name: str, zone: str, calendar: str) -> None:
    p = get_profile(name)
    assert p.name == name and p.zone == ZoneInfo(zone) and p.calendar.id == calendar
    assert p.version and p.calendar.version.startswith(f"{calendar}:")


def test_get_profile_is_cached() -> None:
    assert get_profile("kz") is get_profile("kz")


def test_unknown_profile_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="unknown profile 'xx'"):
        get_profile("xx")


def test_int3_threat_is_one_working_day_kz() -> None:
    """INT-3/threat: 1 working day; from Friday 6 March 2026, with 9 March off."""
    d = get_profile("kz").due("INT-3/threat", datetime(2026, 3, 6, 15, tzinfo=ALMATY))
    assert d == Deadline(
        rule="INT-3/threat",
        profile="kz",
        profile_version="2026.1",
        calendar_version=d.calendar_version,
        due_at=_eod(date(2026, 3, 10), ALMATY),
        kind="working_days",
        amount=1,
    )
    assert d.calendar_version.startswith("kz:2026.1+")  # before the 2026 amendment


def test_int3_bare_rule_id_means_the_primary_assessment() -> None:
    """A bare rule id names its primary term: `INT-3` is INT-3/primary, 3 working days."""
    p = get_profile("kz")
    at = datetime(2026, 3, 6, 15, tzinfo=ALMATY)
    assert p.due("INT-3", at).rule == "INT-3/primary"
    assert p.due("INT-3", at).due_at == _eod(date(2026, 3, 12), ALMATY)


def test_int3_terms_are_kazakhstans_only() -> None:
    """INT-3/redirect (1 working day), INT-3/primary, INT-3/threat: seed 001, Kazakhstan; the
    Terms index binds them to kz only, so no other profile has them."""
    assert get_profile("kz").term("INT-3/redirect").amount == 1
    for name in ("ru-irk", "ru-khm", "ru-ba"):
        p = get_profile(name)
        assert not any(p.has_rule(k) for k in ("INT-3/redirect", "INT-3/primary", "INT-3/threat"))


def test_int7_domestic_violence_redirect_is_two_working_days_kz() -> None:
    d = get_profile("kz").due("INT-7", datetime(2026, 3, 20, 10, tzinfo=ALMATY))
    assert d.due_at == _eod(date(2026, 3, 27), ALMATY)  # Nauryz 23-25 March is off


def test_shl3_notice_within_24_calendar_hours_kz() -> None:
    """SHL-3 (24 hours) from admission, through the New Year holiday."""
    p = get_profile("kz")
    at = datetime(2025, 12, 31, 18, tzinfo=ALMATY)
    d = p.due("SHL-3", at)
    assert d.due_at == datetime(2026, 1, 1, 18, tzinfo=ALMATY)
    assert p.approaching_at("SHL-3", at, d.due_at) == datetime(2026, 1, 1, 12, tzinfo=ALMATY)


def test_shl1_stay_of_up_to_one_month_kz() -> None:
    # A calendar month, clamped to February's last day, and not moved off Saturday 28.2.2026.
    d = get_profile("kz").due("SHL-1", datetime(2026, 1, 31, 22, tzinfo=ALMATY))
    assert d.due_at == _eod(date(2026, 2, 28), ALMATY)


def test_shelter_rules_are_data() -> None:
    """SHL-1, SHL-3: stays and written notices in KZ; Bashkortostan places via guardianship."""
    kz, ba = get_profile("kz"), get_profile("ru-ba")
    assert kz.has_rule("SHL-1") and kz.has_rule("SHL-3") and kz.shelter.stays
    assert kz.shelter.notify == ["police", "guardianship"] and kz.shelter.notice_in_writing
    assert not ba.has_rule("SHL-3") and not ba.shelter.stays
    assert ba.shelter.child_placement_via == "guardianship"


def test_pln4_approve_within_ten_working_days_ru_khm() -> None:
    """PLN-4/approve: 10 working days from the application; PLN-4/draft: 1 working day."""
    p = get_profile("ru-khm")
    at = datetime(2026, 4, 27, 9, tzinfo=YEKATERINBURG)
    assert p.due("PLN-4/approve", at).due_at == _eod(date(2026, 5, 13), YEKATERINBURG)
    assert p.due("PLN-4/draft", at).due_at == _eod(date(2026, 4, 28), YEKATERINBURG)
    assert p.approvals.plan_dls == "working_group"


def test_pln5_and_pln6_two_working_days_in_kz_only() -> None:
    """Terms PLN-5 and PLN-6: measures out in 2 working days, a responsible person in 2 more
    (seed 000, Kazakhstan); elsewhere the same steps have no legal term."""
    kz = get_profile("kz")
    assert (kz.term("PLN-5").kind, kz.term("PLN-5").amount) == ("working_days", 2)
    assert (kz.term("PLN-6").kind, kz.term("PLN-6").amount) == ("working_days", 2)
    for name in ("ru-irk", "ru-khm", "ru-ba"):
        p = get_profile(name)
        assert not p.has_rule("PLN-5") and not p.has_rule("PLN-6")


def test_pln7_monthly_report_by_the_fifth_ru_khm() -> None:
    d = get_profile("ru-khm").due("PLN-7/monthly", datetime(2026, 4, 15, tzinfo=YEKATERINBURG))
    assert d.due_at == _eod(date(2026, 5, 5), YEKATERINBURG)


def test_pln12_monitoring_three_to_six_months_kz() -> None:
    term = get_profile("kz").term("PLN-12")
    assert (term.kind, term.min_amount, term.amount) == ("months", 3, 6)


def test_pln13_final_review_two_weeks_before_the_end_ru_khm() -> None:
    p = get_profile("ru-khm")
    end = _eod(date(2026, 10, 30), YEKATERINBURG)
    d = p.due("PLN-13/final", end)
    assert d.due_at == _eod(date(2026, 10, 16), YEKATERINBURG)
    assert p.approaching_at("PLN-13/final", end, d.due_at) == d.due_at - timedelta(days=7)


def test_pln1_plan_term_by_profile() -> None:
    """Term PLN-1: one year (kz); by support level (ru-irk); 6 months, extendable (ru-khm)."""
    at = datetime(2026, 2, 2, 12, tzinfo=IRKUTSK)
    irk = get_profile("ru-irk")
    assert irk.plan_term.by_support_level
    assert irk.plan_end(at, "emergency").due_at == _eod(date(2026, 5, 4), IRKUTSK)  # 2 May: Sat
    assert irk.plan_end(at, "basic").due_at == _eod(date(2027, 2, 2), IRKUTSK)
    khm = get_profile("ru-khm").plan_term
    assert (khm.max_months, khm.extension_max_months) == (6, 12)
    assert khm.extension_approved_by == "working_group"
    assert get_profile("kz").plan_term.max_months == 12
    assert get_profile("ru-ba").plan_term.set_by == "commission"
    with pytest.raises(UnknownRule):
        irk.plan_end(at, "no-such-level")


def test_int6_support_levels_cap_the_duration_irkutsk() -> None:
    levels = {lvl.code: lvl for lvl in get_profile("ru-irk").support_levels}
    caps = {code: lvl.max_months for code, lvl in levels.items()}
    assert caps == {"adaptation": 12, "basic": 12, "crisis": 6, "emergency": 3}
    emergency_signs = {s.code for s in levels["emergency"].signs}
    assert {"hostility", "newborn_abandonment", "minor_parents"} <= emergency_signs


def test_int9_caseload_limits_irkutsk() -> None:
    """Recommended caseloads by level, 6 / 12 / 24 families: a recommendation, no approver."""
    limits = get_profile("ru-irk").caseload_limits
    assert [limits.limit_for(x) for x in ("emergency", "crisis", "adaptation", "basic")] == [
        6,
        12,
        24,
        24,
    ]
    assert not hasattr(limits, "override_by")
    assert get_profile("kz").caseload_limits.limit_for("crisis") is None


def test_int6_an_sdp_family_in_irkutsk_is_supported_at_the_emergency_level() -> None:
    assert get_profile("ru-irk").sdp_support_level == "emergency"
    assert get_profile("kz").sdp_support_level is None


def test_pln4_who_approves_plans() -> None:
    assert get_profile("kz").approvals.plan_dls == "center"
    irk = get_profile("ru-irk").approvals
    assert (irk.plan_dls, irk.plan_sdp) == ("working_group", "commission")
    assert get_profile("ru-ba").approvals.plan_dls == "commission"


def test_reg4_send_then_enter_irkutsk() -> None:
    """REG-4/send: 7 working days, REG-4/enter: 3; the bare rule id names REG-4/send."""
    p = get_profile("ru-irk")
    at = datetime(2026, 4, 28, 16, tzinfo=IRKUTSK)
    sent = p.due("REG-4", at)
    # 1 May (Fri) and the weekend are off: 29, 30 Apr, 4-8 May.
    assert sent.rule == "REG-4/send" and sent.due_at == _eod(date(2026, 5, 8), IRKUTSK)
    # Received on the 8th; 11 May (for Saturday 9 May) is off: 12, 13, 14 May.
    assert p.due("REG-4/enter", sent.due_at).due_at == _eod(date(2026, 5, 14), IRKUTSK)
    for rule in ("REG-5", "REG-6"):
        assert p.term(f"{rule}/send").amount == 7 and p.term(f"{rule}/enter").amount == 3


def test_reg3_reg7_reg8_irkutsk() -> None:
    p = get_profile("ru-irk")
    assert p.due("REG-3", datetime(2026, 1, 15, tzinfo=IRKUTSK)).due_at == _eod(
        date(2026, 7, 15), IRKUTSK
    )
    quarter_end = datetime(2026, 9, 30, 23, tzinfo=IRKUTSK)
    assert p.due("REG-7/office", quarter_end).due_at == _eod(date(2026, 10, 5), IRKUTSK)
    assert p.due("REG-7/ministry", quarter_end).due_at == _eod(date(2026, 10, 12), IRKUTSK)
    assert p.due("REG-8", datetime(2026, 6, 1, tzinfo=IRKUTSK)).due_at == _eod(
        date(2026, 6, 16), IRKUTSK
    )


def test_ntf2_immediate_notice_in_minutes_irkutsk() -> None:
    at = datetime(2026, 1, 1, 9, tzinfo=IRKUTSK)
    assert get_profile("ru-irk").due("NTF-2", at).due_at == at + timedelta(minutes=60)


def test_mon1_quarterly_in_kz_irkutsk_and_yugra() -> None:
    for name in ("kz", "ru-irk", "ru-khm"):
        assert get_profile(name).term("MON-1").kind == "quarter_day"
    assert not get_profile("ru-ba").has_rule("MON-1")


def test_unknown_rule_is_a_terms_error() -> None:
    p = get_profile("ru-ba")
    assert not p.has_rule("SHL-3")
    with pytest.raises(UnknownRule, match="no term for rule 'SHL-3'") as caught:
        p.due("SHL-3", datetime(2026, 1, 12, tzinfo=YEKATERINBURG))
    assert isinstance(caught.value, TermsError)


def test_has_rule_accepts_rule_ids_and_keys() -> None:
    p = get_profile("kz")
    assert p.has_rule("INT-3") and p.has_rule("INT-3/threat") and not p.has_rule("INT-3/nope")


def test_deadlines_are_in_the_profile_zone_whatever_the_event_zone() -> None:
    """Timeliness compares met_at with due_at: both are instants, shown in the territory's zone."""
    at = datetime(2026, 1, 12, 3, tzinfo=ZoneInfo("UTC"))
    assert get_profile("ru-irk").due("REG-8", at).due_at.tzinfo == IRKUTSK


def test_approaching_defaults_to_a_quarter_of_the_span_and_never_precedes_the_event() -> None:
    p = get_profile("kz")
    at = datetime(2026, 3, 10, 9, tzinfo=ALMATY)
    due = p.due("INT-3/primary", at).due_at
    approaching = p.approaching_at("INT-3/primary", at, due)
    assert approaching == due - (due - at) / 4
    assert at <= approaching <= due
    assert p.approaching_at("SHL-3", at, at + timedelta(hours=2)) == at  # lead 6 h > span


def test_events_before_the_first_profile_version_are_refused() -> None:
    with pytest.raises(ProfileError, match="no version in force"):
        get_profile("kz").due("INT-3", datetime(2023, 12, 1, tzinfo=ALMATY))
