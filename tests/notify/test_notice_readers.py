"""Who follows a notice up besides its recipient: the head of the sending center, and its
shelter operators for the SHL-3 notices of admissions (the bed board shows them)."""

from __future__ import annotations

from kamqor.auth import Principal
from notify import rules


def person(*roles: str, agency: str = "fc-ast-1") -> Principal:
    return Principal(
        subject="s",
        username="u",
        roles=frozenset(roles),
        agency=agency,
        agency_type="family_center",
        territory="kz-ast",
        client_id="kamqor-dev-tools",
        token="t",
    )


def test_the_sending_center_head_follows_every_notice() -> None:
    head = person("center-head")
    assert rules.sent_by(head, sender_agency="fc-ast-1", rule="SHL-3")
    assert rules.sent_by(head, sender_agency="fc-ast-1", rule="NTF-2")
    assert not rules.sent_by(head, sender_agency="fc-ala-1", rule="SHL-3")


def test_shelter_operators_follow_only_their_centers_admission_notices() -> None:
    operator = person("shelter-operator")
    assert rules.sent_by(operator, sender_agency="fc-ast-1", rule=rules.ADMISSION_RULE)
    assert not rules.sent_by(operator, sender_agency="fc-ast-1", rule="NTF-2")
    assert not rules.sent_by(operator, sender_agency="fc-ala-1", rule=rules.ADMISSION_RULE)


def test_others_of_the_center_follow_none() -> None:
    assert not rules.sent_by(person("case-worker"), sender_agency="fc-ast-1", rule="SHL-3")
