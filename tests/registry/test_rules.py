"""Data bank rules as plain functions (REG-1, REG-2, REG-3, REG-4, REG-6, REG-9)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kamqor.auth import Principal
from kamqor.errors import Conflict, Invalid
from kamqor.profiles import get_profile
from registry import rules
from registry.rules import FamilyState

DECIDED = date(2026, 11, 23)


def person(**kw: object) -> rules.PersonIn:
    values: dict[str, object] = {
        "full_name": "Иванов Пётр Сергеевич",
        "relation": "",
        "birth_date": date(2015, 3, 1),
        "birth_place": "Иркутск",
        "registered_address": "",
        "actual_address": "Иркутск, ул. Ленина, 1",
        "document": None,
        "disability": False,
        "work_or_study": "школа № 5",
    }
    values.update(kw)
    return rules.PersonIn(**values)  # type: ignore[arg-type]


def principal(roles: tuple[str, ...], agency_type: str = "family_center", agency: str = "a-1"):  # type: ignore[no-untyped-def]
    return Principal(
        subject="s",
        username="u",
        roles=frozenset(roles),
        agency=agency,
        agency_type=agency_type,
        territory="ru-irk",
        client_id="c",
        token="t",
    )


def test_reg2_majority_of_members_present() -> None:
    rules.check_vote(rules.Vote(members_present=7, votes_for=4, votes_against=3))
    with pytest.raises(Conflict) as err:
        rules.check_vote(rules.Vote(members_present=8, votes_for=4, votes_against=4))
    assert err.value.code == "no-majority"
    assert "REG-2" in err.value.message and "needs 5" in err.value.message


def test_reg2_abstentions_count_against_a_majority_of_those_present() -> None:
    # 4 for, 1 against, 4 abstaining: more for than against, but not a majority of the 9 present.
    with pytest.raises(Conflict):
        rules.check_vote(rules.Vote(members_present=9, votes_for=4, votes_against=1))


def test_reg2_vote_counts_must_be_coherent() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_vote(rules.Vote(members_present=0, votes_for=0, votes_against=0))
    assert err.value.field == "vote.members_present"
    with pytest.raises(Invalid) as err:
        rules.check_vote(rules.Vote(members_present=5, votes_for=4, votes_against=2))
    assert err.value.field == "vote"


def test_reg2_the_minor_the_parents_and_the_prevention_bodies_are_heard() -> None:
    rules.check_hearing(rules.Hearing(True, True, True))
    for i, field in enumerate(
        ("prevention_bodies_heard", "minor_opinion_heard", "parents_opinion_heard")
    ):
        flags = [True, True, True]
        flags[i] = False
        with pytest.raises(Invalid) as err:
            rules.check_hearing(rules.Hearing(*flags))
        assert err.value.field == f"hearing.{field}"


def test_reg1_a_registration_concerns_at_least_one_minor_under_18() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_family([], [person(relation="мать")], on=DECIDED)
    assert err.value.field == "minors"
    with pytest.raises(Invalid) as err:
        rules.check_family([person(birth_date=date(2008, 11, 23))], [], on=DECIDED)
    assert err.value.field == "minors[0].birth_date"


def test_reg1_members_carry_relation_birth_place_and_actual_address() -> None:
    _, relatives = rules.check_family(
        [person()], [person(full_name=" Иванова  Мария ", relation="мать")], on=DECIDED
    )
    assert relatives[0].full_name == "Иванова  Мария"
    with pytest.raises(Invalid) as err:
        rules.check_family([person()], [person(relation="")], on=DECIDED)
    assert err.value.field == "relatives[0].relation"
    with pytest.raises(Invalid) as err:
        rules.check_family([person(birth_place="")], [], on=DECIDED)
    assert err.value.field == "minors[0].birth_place"
    with pytest.raises(Invalid) as err:
        rules.check_family([person(actual_address="")], [], on=DECIDED)
    assert err.value.field == "minors[0].actual_address"


def test_reg1_identity_document_only_where_there_is_one() -> None:
    rules.check_family([person(document=None)], [], on=DECIDED)
    doc = rules.Document(rules.DocumentKind.BIRTH_CERTIFICATE, "2510", "", date(2015, 3, 10))
    with pytest.raises(Invalid) as err:
        rules.check_family([person(document=doc)], [], on=DECIDED)
    assert err.value.field == "minors[0].document.number"
    early = rules.Document(rules.DocumentKind.BIRTH_CERTIFICATE, "2510", "1", date(2014, 1, 1))
    with pytest.raises(Invalid) as err:
        rules.check_family([person(document=early)], [], on=DECIDED)
    assert err.value.field == "minors[0].document.issued_on"


def test_reg3_repeat_review_no_later_than_six_months_after_registration() -> None:
    latest = date(2027, 5, 23)
    rules.check_review_date(latest, decided_on=DECIDED, latest=latest)
    with pytest.raises(Invalid) as err:
        rules.check_review_date(latest + timedelta(days=1), decided_on=DECIDED, latest=latest)
    assert err.value.field == "review_on" and "REG-3" in err.value.reason
    with pytest.raises(Invalid):
        rules.check_review_date(DECIDED, decided_on=DECIDED, latest=latest)


def test_reg_rules_apply_only_where_the_profile_has_them() -> None:
    irk, kz = get_profile("ru-irk"), get_profile("kz")
    rules.require_registry(irk.has_rule, rules.REGISTRATION_RULES, profile="ru-irk")
    with pytest.raises(Conflict) as err:
        rules.require_registry(kz.has_rule, rules.REGISTRATION_RULES, profile="kz")
    assert err.value.code == "no-registry-rule"
    assert "REG-3" in err.value.message


def test_reg4_reg6_terms_send_in_7_and_enter_in_3_working_days() -> None:
    irk = get_profile("ru-irk")
    for kind in (rules.DecisionKind.REGISTRATION, rules.DecisionKind.DEREGISTRATION):
        assert irk.term(rules.SEND_RULE[kind]).amount == 7
        assert irk.term(rules.ENTER_RULE[kind]).amount == 3


def test_reg4_a_decision_is_received_once_then_entered_once() -> None:
    rules.check_receivable(rules.DecisionState.RECORDED)
    with pytest.raises(Conflict):
        rules.check_receivable(rules.DecisionState.RECEIVED)
    reg = rules.DecisionKind.REGISTRATION
    rules.check_enterable(rules.DecisionState.RECEIVED, reg, reg)
    with pytest.raises(Conflict) as err:
        rules.check_enterable(rules.DecisionState.RECORDED, reg, reg)
    assert err.value.code == "not-received"
    with pytest.raises(Conflict):
        rules.check_enterable(rules.DecisionState.ENTERED, reg, reg)
    with pytest.raises(Conflict) as err:
        rules.check_enterable(rules.DecisionState.RECEIVED, reg, rules.DecisionKind.DEREGISTRATION)
    assert err.value.code == "decision-kind"


def test_reg6_only_a_registered_family_is_deregistered_once() -> None:
    rules.check_deregistrable(FamilyState.REGISTERED, pending_deregistration=False)
    with pytest.raises(Conflict):
        rules.check_deregistrable(FamilyState.PENDING, pending_deregistration=False)
    with pytest.raises(Conflict) as err:
        rules.check_deregistrable(FamilyState.REGISTERED, pending_deregistration=True)
    assert err.value.code == "deregistration-pending"


def test_reg9_need_to_know_readers_of_a_family() -> None:
    kw = {"family_state": FamilyState.REGISTERED, "responsible_agency_id": "fc-irk-1"}
    assert rules.may_read(principal(("commission-member",), "commission"), **kw)
    assert rules.may_read(principal(("case-worker",)), **kw)
    assert rules.may_read(principal(("agency-assignee",), "registry_office"), **kw)
    assert rules.may_read(principal(("agency-coordinator",), "education", "fc-irk-1"), **kw)
    assert not rules.may_read(principal(("agency-coordinator",), "education", "edu-irk-1"), **kw)
    assert not rules.may_read(principal(("analyst",), "ministry"), **kw)
    assert not rules.may_read(principal(("intake-operator",)), **kw)


def test_reg6_removed_families_are_read_only_from_the_archive_by_auditors() -> None:
    kw = {"family_state": FamilyState.DEREGISTERED, "responsible_agency_id": "fc-irk-1"}
    assert not rules.may_read(principal(("commission-member",), "commission"), **kw)
    assert not rules.may_read(principal(("case-worker",)), **kw)
    assert rules.may_read(principal(("auditor",), "ministry"), **kw)


def test_reg9_every_read_says_why() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_purpose("  ")
    assert err.value.field == "purpose"


def test_search_names_are_compared_case_and_space_insensitively() -> None:
    assert rules.search_key("  ИВАНОВ   Пётр ") == "иванов пётр"
    assert rules.check_search("") == ""
    with pytest.raises(Invalid):
        rules.check_search("ив")


def test_reg2_the_minor_is_heard_or_the_reason_recorded() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_hearing(rules.Hearing(True, False, True))
    assert err.value.field == "hearing.minor_opinion_heard"
    kept = rules.check_hearing(
        rules.Hearing(True, False, True, "  an infant  ", (" school report ",)),
        documents_required=True,
    )
    assert kept.minor_not_heard_reason == "an infant"
    assert kept.documents_reviewed == ("school report",)
    with pytest.raises(Invalid) as err:
        rules.check_hearing(rules.Hearing(True, True, True), documents_required=True)
    assert err.value.field == "hearing.documents_reviewed"


def test_reg2_quorum_is_half_the_commission_and_ballots_are_counted() -> None:
    assert [rules.quorum_of(n) for n in (1, 2, 7, 8, 9)] == [1, 1, 4, 4, 5]
    members = [rules.SessionMember(f"m{i}", f"Member {i}") for i in range(4)]
    with pytest.raises(Conflict) as err:
        rules.check_session(9, members)
    assert err.value.code == "no-quorum"
    assert len(rules.check_session(8, members)) == 4
    ballots = [
        rules.Ballot("m0", rules.BallotChoice.FOR),
        rules.Ballot("m1", rules.BallotChoice.FOR),
        rules.Ballot("m2", rules.BallotChoice.AGAINST),
        rules.Ballot("m3", rules.BallotChoice.ABSTAIN, conflict_of_interest=True),
    ]
    assert rules.tally(ballots, ["m0", "m1", "m2", "m3"]) == rules.Vote(4, 2, 1)
