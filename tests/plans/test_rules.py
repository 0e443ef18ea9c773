"""Plan rules as plain functions (PLN-1, PLN-2, PLN-4..PLN-9)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kamqor.errors import Conflict, Invalid
from kamqor.profiles import Approvals, get_profile
from plans import rules
from plans.rules import MeasureKind, MeasureState, Situation, SupportLevel

TODAY = date(2026, 11, 23)
TERM_END = date(2027, 11, 23)
CENTER = "fc-ast-1"
ALMATY = ZoneInfo("Asia/Almaty")


def measure(**kw: object) -> rules.MeasureIn:
    values: dict[str, object] = {
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "kind": MeasureKind.PEDAGOGICAL,
        "title": "Tutoring in mathematics",
        "target": "eldest child",
        "deadline": TODAY + timedelta(days=30),
    }
    values.update(kw)
    return rules.MeasureIn(**values)  # type: ignore[arg-type]


def check(*drafts: rules.MeasureIn) -> list[rules.MeasureIn]:
    return rules.check_measures(drafts, center_id=CENTER, today=TODAY, term_ends_on=TERM_END)


def test_pln2_a_plan_needs_at_least_one_measure() -> None:
    with pytest.raises(Invalid) as err:
        check()
    assert err.value.field == "measures"


def test_pln2_every_measure_has_an_agency_a_kind_and_a_deadline() -> None:
    kept = check(measure())[0]
    assert (kept.agency_id, kept.agency_type, kept.kind) == (
        "edu-ast-1",
        "education",
        MeasureKind.PEDAGOGICAL,
    )
    with pytest.raises(Invalid) as err:
        check(measure(), measure(agency_id="  "))
    assert err.value.field == "measures[1].agency_id"
    with pytest.raises(Invalid) as err:
        check(measure(agency_type="bakery"))
    assert err.value.field == "measures[0].agency_type"
    with pytest.raises(Invalid) as err:
        check(measure(title=""))
    assert err.value.field == "measures[0].title"


def test_pln2_the_familys_own_participation_is_followed_by_the_center() -> None:
    kept = check(measure(kind=MeasureKind.FAMILY_PARTICIPATION, agency_id="", agency_type=""))[0]
    assert (kept.agency_id, kept.agency_type) == (CENTER, rules.CENTER_AGENCY_TYPE)
    with pytest.raises(Invalid) as err:
        check(measure(kind=MeasureKind.FAMILY_PARTICIPATION))
    assert err.value.field == "measures[0].agency_id"


def test_pln1_measure_deadlines_fall_within_the_plan_term() -> None:
    check(measure(deadline=TERM_END))
    with pytest.raises(Invalid) as err:
        check(measure(deadline=TERM_END + timedelta(days=1)))
    assert err.value.field == "measures[0].deadline"
    assert "PLN-1" in err.value.reason
    with pytest.raises(Invalid):
        check(measure(deadline=TODAY - timedelta(days=1)))


def test_pln1_kz_plan_term_is_at_most_one_year() -> None:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    end = rules.plan_term_end(get_profile("kz"), at=at, support_level=None)
    assert end.astimezone(ALMATY).date() == date(2027, 11, 23)


def test_pln1_irkutsk_term_follows_the_support_level() -> None:
    irk = get_profile("ru-irk")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(Invalid) as err:
        rules.plan_term_end(irk, at=at, support_level=None)
    assert err.value.field == "support_level"
    emergency = rules.plan_term_end(irk, at=at, support_level=SupportLevel.EMERGENCY)
    crisis = rules.plan_term_end(irk, at=at, support_level=SupportLevel.CRISIS)
    basic = rules.plan_term_end(irk, at=at, support_level=SupportLevel.BASIC)
    assert emergency < crisis < basic
    assert 89 <= (emergency - at).days <= 95  # three months (INT-6)


def test_pln4_dls_plans_approved_by_the_working_group_sdp_by_the_commission() -> None:
    irk = Approvals(plan_dls="working_group", plan_sdp="commission")
    assert rules.approver_roles(rules.approver_for(Situation.DLS, irk)) == ("center-head",)
    assert rules.approver_roles(rules.approver_for(Situation.SDP, irk)) == ("commission-member",)
    assert rules.approver_for(Situation.DLS, get_profile("kz").approvals) in rules.CENTER_APPROVERS


def test_pln4_no_sdp_plans_where_the_profile_has_no_approver_for_them() -> None:
    with pytest.raises(Conflict) as err:
        rules.approver_for(Situation.SDP, get_profile("kz").approvals)
    assert err.value.code == "no-approver"
    assert "PLN-4" in err.value.message


def test_pln4_only_a_submitted_plan_with_measures_is_approved() -> None:
    rules.check_approvable(rules.PlanState.SUBMITTED, 2)
    for state in (rules.PlanState.DRAFT, rules.PlanState.APPROVED):
        with pytest.raises(Conflict):
            rules.check_approvable(state, 2)
    with pytest.raises(Conflict):
        rules.check_approvable(rules.PlanState.SUBMITTED, 0)


def test_pln5_measures_of_other_agencies_are_sent_the_centers_own_are_not() -> None:
    """PLN-5: measures go to their agencies; the center keeps its own (PLN-2)."""
    assert rules.state_after_approval("edu-ast-1", CENTER) == MeasureState.SENT
    assert rules.state_after_approval(CENTER, CENTER) == MeasureState.ASSIGNED


def test_pln6_first_designation_meets_the_term_later_ones_replace_the_person() -> None:
    assert rules.check_designation(MeasureState.SENT) is True
    assert rules.check_designation(MeasureState.ASSIGNED) is False
    assert rules.check_designation(MeasureState.RETURNED) is False
    for state in (MeasureState.DRAFT, MeasureState.REPORTED, MeasureState.COMPLETED):
        with pytest.raises(Conflict):
            rules.check_designation(state)


def test_pln7_only_the_designated_person_reports() -> None:
    rules.check_report(MeasureState.ASSIGNED, assignee="teacher.ast", reporter="teacher.ast")
    rules.check_report(MeasureState.RETURNED, assignee="teacher.ast", reporter="teacher.ast")
    with pytest.raises(Conflict) as err:
        rules.check_report(MeasureState.ASSIGNED, assignee="teacher.ast", reporter="x.ast")
    assert err.value.code == "not-assignee"
    with pytest.raises(Conflict) as err:
        rules.check_report(MeasureState.SENT, assignee="", reporter="teacher.ast")
    assert err.value.code == "no-assignee"


def test_pln7_a_report_on_the_deadline_day_is_on_time_in_local_time() -> None:
    deadline = date(2026, 12, 1)
    # 23:30 in Almaty on the deadline day is 18:30 UTC: on time.
    assert rules.on_time(datetime(2026, 12, 1, 18, 30, tzinfo=UTC), deadline, ALMATY)
    # 00:30 in Almaty the next day is 19:30 UTC on the deadline day: late.
    assert not rules.on_time(datetime(2026, 12, 1, 19, 30, tzinfo=UTC), deadline, ALMATY)


def test_pln8_a_return_needs_a_reason_and_a_later_deadline_within_the_term() -> None:
    """PLN-8: back for rework or repeat execution, with a reason and a new deadline."""
    kw = {"today": TODAY, "term_ends_on": TERM_END}
    assert (
        rules.check_return(
            MeasureState.REPORTED, reason=" done badly ", new_deadline=TODAY + timedelta(1), **kw
        )
        == "done badly"
    )
    with pytest.raises(Invalid) as err:
        rules.check_return(MeasureState.REPORTED, reason=" ", new_deadline=TERM_END, **kw)
    assert err.value.field == "reason"
    with pytest.raises(Invalid) as err:
        rules.check_return(MeasureState.REPORTED, reason="x", new_deadline=TODAY, **kw)
    assert err.value.field == "new_deadline"
    with pytest.raises(Invalid):
        rules.check_return(
            MeasureState.REPORTED, reason="x", new_deadline=TERM_END + timedelta(1), **kw
        )
    with pytest.raises(Conflict):
        rules.check_return(MeasureState.COMPLETED, reason="x", new_deadline=TERM_END, **kw)


def test_pln9_completion_follows_the_agencys_report_with_a_past_date() -> None:
    kw = {"today": TODAY, "started_on": TODAY - timedelta(10)}
    rules.check_completion(MeasureState.REPORTED, sent_to_agency=True, completed_on=TODAY, **kw)
    with pytest.raises(Conflict):
        rules.check_completion(MeasureState.ASSIGNED, sent_to_agency=True, completed_on=TODAY, **kw)
    # The center's own measures (the family's participation) need no agency report.
    rules.check_completion(MeasureState.ASSIGNED, sent_to_agency=False, completed_on=TODAY, **kw)
    with pytest.raises(Invalid) as err:
        rules.check_completion(
            MeasureState.REPORTED, sent_to_agency=True, completed_on=TODAY + timedelta(1), **kw
        )
    assert err.value.field == "completed_on"
    with pytest.raises(Invalid):
        rules.check_completion(
            MeasureState.REPORTED, sent_to_agency=True, completed_on=TODAY - timedelta(11), **kw
        )
    with pytest.raises(Conflict):
        rules.check_completion(
            MeasureState.COMPLETED, sent_to_agency=True, completed_on=TODAY, **kw
        )
