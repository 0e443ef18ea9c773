"""The plan's state machine and the lifecycle rules as plain functions (plans.rules.lifecycle)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kamqor.errors import Conflict, Forbidden, Invalid
from kamqor.profiles import get_profile
from plans.rules import PlanState, SupportLevel
from plans.rules import lifecycle as life
from plans.rules.lifecycle import Act

S = PlanState


@pytest.mark.parametrize(
    ("state", "act", "after"),
    [
        (S.DRAFT, Act.SUBMIT, S.SUBMITTED),
        (S.SUBMITTED, Act.APPROVE, S.APPROVED),
        (S.APPROVED, Act.OPEN_REVIEW, S.UNDER_REVIEW),
        (S.UNDER_REVIEW, Act.CONCLUDE_REVIEW, S.APPROVED),
        (S.UNDER_REVIEW, Act.CLOSE, S.MONITORING),
        (S.APPROVED, Act.EXTEND, S.APPROVED),
        (S.MONITORING, Act.END_MONITORING, S.CLOSED),
        (S.MONITORING, Act.REOPEN, S.REOPENED),
    ],
)
def test_each_act_moves_the_plan_from_where_it_may(state: S, act: Act, after: S) -> None:
    assert life.transition(state, act) == after


@pytest.mark.parametrize(
    ("state", "act"),
    [
        (S.DRAFT, Act.APPROVE),
        (S.SUBMITTED, Act.SUBMIT),
        (S.APPROVED, Act.APPROVE),
        (S.DRAFT, Act.CLOSE),
        (S.CLOSED, Act.REOPEN),
        (S.REOPENED, Act.REOPEN),
        (S.APPROVED, Act.END_MONITORING),
        (S.MONITORING, Act.OPEN_REVIEW),
    ],
)
def test_every_other_act_is_refused_naming_the_state(state: S, act: Act) -> None:
    with pytest.raises(Conflict) as err:
        life.transition(state, act)
    assert err.value.code == "plan-state" and state.value in str(err.value)


def test_every_state_is_reachable_and_only_closed_and_reopened_are_final() -> None:
    sources = {s for starts, _ in life.TRANSITIONS.values() for s in starts}
    targets = {t for _, t in life.TRANSITIONS.values() if t is not None}
    assert set(S) - targets == {S.DRAFT}
    assert set(S) - sources == {S.CLOSED, S.REOPENED}


def test_pln13_measures_change_only_under_review() -> None:
    life.check_amendable(S.UNDER_REVIEW)
    for state in set(S) - {S.UNDER_REVIEW}:
        with pytest.raises(Conflict):
            life.check_amendable(state)


def test_four_eyes() -> None:
    life.check_four_eyes("head", others=["worker", ""], act="approving a plan")
    with pytest.raises(Forbidden):
        life.check_four_eyes("worker", others=["worker", "head"], act="approving a plan")


def test_pln3_the_family_takes_part() -> None:
    family = life.Participant(life.ParticipantRole.FAMILY, " Olga N. ", "")
    lawyer = life.Participant(life.ParticipantRole.LAWYER, "A. B.", "Bar")
    assert life.check_participants([lawyer, family])[1].name == "Olga N."
    with pytest.raises(Invalid) as err:
        life.check_participants([lawyer])
    assert err.value.field == "participants"
    with pytest.raises(Invalid) as err:
        life.check_participants([family, life.Participant(life.ParticipantRole.NGO, " ", "")])
    assert err.value.field == "participants[1].name"


@pytest.mark.parametrize(
    ("before", "after", "direction", "indicator"),
    [
        ("basic", "crisis", "worse", "basic_to_crisis"),
        ("adaptation", "crisis", "worse", "adaptation_to_crisis"),
        ("crisis", "basic", "better", "crisis_to_basic"),
        ("adaptation", "basic", "better", "adaptation_to_basic"),
        ("crisis", "emergency", "other", ""),
        ("basic", "adaptation", "other", ""),
    ],
)
def test_pln14_the_four_counted_directions(
    before: str, after: str, direction: str, indicator: str
) -> None:
    assert life.direction(SupportLevel(before), SupportLevel(after)) == (direction, indicator)


def test_pln14_no_change_is_no_change() -> None:
    with pytest.raises(Invalid):
        life.direction(SupportLevel.BASIC, SupportLevel.BASIC)


def test_pln10_grounds_come_from_the_profile() -> None:
    kz, khm = get_profile("kz"), get_profile("ru-khm")
    assert "result_impossible" not in life.grounds(kz)
    assert "result_impossible" in life.grounds(khm)
    with pytest.raises(Invalid):
        life.check_closure(ground="result_impossible", explanation="x", open_measures=0, profile=kz)
    with pytest.raises(Invalid) as err:
        life.check_closure(ground="result_impossible", explanation="", open_measures=0, profile=khm)
    assert err.value.field == "explanation"
    with pytest.raises(Conflict):
        life.check_closure(ground="result_achieved", explanation="", open_measures=2, profile=kz)
    assert life.check_closure(
        ground="family_refused", explanation="", open_measures=2, profile=kz
    ) == (life.Ground.FAMILY_REFUSED, "")


def test_pln1_yugra_extension_limit() -> None:
    khm = get_profile("ru-khm")
    zone = ZoneInfo("Asia/Yekaterinburg")
    approved = datetime(2027, 2, 1, 10, 0, tzinfo=zone)
    six = khm.at(approved).deadline("PLN-1", "months", 6, approved).due_at
    year = khm.at(approved).deadline("PLN-1", "months", 12, approved).due_at
    over = khm.at(approved).deadline("PLN-1", "months", 13, approved).due_at
    args = {"approved_at": approved, "current_end": six, "today": date(2027, 6, 1)}
    life.check_extension(khm, new_end=year, request_received_on=date(2027, 5, 30), **args)
    with pytest.raises(Invalid) as err:
        life.check_extension(khm, new_end=over, request_received_on=date(2027, 5, 30), **args)
    assert err.value.field == "months"
    with pytest.raises(Invalid) as err:
        life.check_extension(khm, new_end=year, request_received_on=date(2027, 6, 2), **args)
    assert err.value.field == "request_received_on"
    with pytest.raises(Conflict):
        life.check_extension(
            get_profile("kz"), new_end=year, request_received_on=date(2027, 5, 30), **args
        )
