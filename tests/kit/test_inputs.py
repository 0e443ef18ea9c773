"""The kit's input plausibility checks and the idempotency digest, as plain functions."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kamqor.idempotency import request_digest
from kamqor.inputs import birth_date_fault, message_text_fault, text_fault, years_before
from kamqor.registry.v1 import registry_pb2
from kamqor.shelter.v1 import shelter_pb2

CONTROL = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"]


def test_every_control_character_is_refused_in_a_line() -> None:
    assert len(CONTROL) == 65
    for char in CONTROL:
        assert text_fault(f"a{char}b") is not None, hex(ord(char))


def test_free_text_keeps_only_line_breaks_and_tabs() -> None:
    kept = {c for c in CONTROL if text_fault(f"a{c}b", free_text=True) is None}
    assert kept == {"\t", "\n", "\r"}


@pytest.mark.parametrize(
    "value", ["Aigerim Nurlanovna", "Иванов Пётр", "Әлия Қасымқызы", "a\u00a0b", "😀", ""]
)
def test_ordinary_text_passes(value: str) -> None:
    assert text_fault(value) is None


def test_the_fault_names_the_code_point_and_not_the_text() -> None:
    assert text_fault("Ali\x00ya") == "must not contain a control character (U+0000 at position 3)"
    assert text_fault("x\ud800") == "must not contain a lone surrogate (U+D800 at position 1)"


def test_a_message_fault_names_the_field_as_the_client_spells_it() -> None:
    request = shelter_pb2.AdmitRequest(
        adult=shelter_pb2.Resident(full_name="Dana"),
        minors=[shelter_pb2.Resident(full_name="A"), shelter_pb2.Resident(full_name="B\nC")],
    )
    assert message_text_fault(request) == (
        "minors[1].full_name",
        "must not contain a control character (U+000A at position 1)",
    )
    person = registry_pb2.Person(
        document=registry_pb2.IdentityDocument(number="12\x0034"), full_name="Ok"
    )
    request_reg = registry_pb2.RecordRegistrationDecisionRequest(relatives=[person])
    fault = message_text_fault(request_reg)
    assert fault is not None and fault[0] == "relatives[0].document.number"


def test_free_text_fields_are_named_by_their_full_name() -> None:
    request = shelter_pb2.DischargeRequest(stay_id="x", reason="one\r\ntwo\tthree")
    assert message_text_fault(request) == (
        "reason",
        "must not contain a control character (U+000D at position 3)",
    )
    prose = {"kamqor.shelter.v1.DischargeRequest.reason"}
    assert message_text_fault(request, free_text=prose) is None


@pytest.mark.parametrize(
    ("birth", "today", "fault"),
    [
        (date(1906, 3, 1), date(2026, 3, 1), None),  # exactly 120 years
        (date(1906, 2, 28), date(2026, 3, 1), "is more than 120 years ago"),
        (date(2026, 3, 1), date(2026, 3, 1), None),  # born today
        (date(2026, 3, 2), date(2026, 3, 1), "is in the future"),
        (date(1850, 1, 1), date(2026, 11, 17), "is more than 120 years ago"),
    ],
)
def test_birth_dates(birth: date, today: date, fault: str | None) -> None:
    assert birth_date_fault(birth, today=today) == fault


def test_years_before_29_february() -> None:
    assert years_before(date(2028, 2, 29), 120) == date(1908, 2, 29)
    assert years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)


def test_the_digest_ignores_the_key_and_sees_every_other_field() -> None:
    one = shelter_pb2.RegisterShelterRequest(idempotency_key="k1", name="A", capacity=3)
    same = shelter_pb2.RegisterShelterRequest(capacity=3, name="A", idempotency_key="k2")
    other = shelter_pb2.RegisterShelterRequest(idempotency_key="k1", name="A", capacity=4)
    assert request_digest(one) == request_digest(same)
    assert request_digest(one) != request_digest(other)
    assert len(request_digest(one)) == 64
    assert one.idempotency_key == "k1"  # the request itself is left alone
