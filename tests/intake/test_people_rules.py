# ruff: noqa: RUF001 - Cyrillic and Kazakh letters on purpose
"""People's identifiers and relations as plain functions: the Kazakhstan IIN and the Russian
SNILS with their check digits (property tests), relations that make sense, the name key."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from intake import rules
from kamqor.errors import Invalid
from kamqor.names import name_key

TODAY = date(2026, 11, 23)
CENTURY_DIGITS = {1800: "12", 1900: "34", 2000: "56"}


def iin_of(born: date, sex: int, serial: str) -> str | None:
    """An IIN for `born`: YYMMDD, the century/sex digit, a 4-digit serial, the check digit."""
    first11 = f"{born:%y%m%d}{CENTURY_DIGITS[born.year // 100 * 100][sex]}{serial}"
    check = rules.iin_check_digit(first11)
    return None if check is None else first11 + str(check)


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 23))
serials = st.from_regex(r"\A[0-9]{4}\Z", fullmatch=True)


def test_a_known_iin_is_valid_and_gives_its_birth_date() -> None:
    """8·1+8·2+0·3+3·4+0·5+2·6+4·7+5·8+0·9+1·10+3·11 = 159, 159 mod 11 = 5."""
    assert rules.check_iin("880302450135", field="iin") == date(1988, 3, 2)
    with pytest.raises(Invalid, match="check digit") as err:
        rules.check_iin("880302450136", field="persons[0].iin")
    assert err.value.field == "persons[0].iin"


@given(born=births, sex=st.integers(0, 1), serial=serials)
def test_every_iin_built_by_the_rule_is_valid(born: date, sex: int, serial: str) -> None:
    iin = iin_of(born, sex, serial)
    assume(iin is not None)
    assert iin is not None
    assert rules.check_iin(iin, field="iin") == born


@given(born=births, sex=st.integers(0, 1), serial=serials, wrong=st.integers(1, 9))
def test_any_other_check_digit_is_refused(born: date, sex: int, serial: str, wrong: int) -> None:
    iin = iin_of(born, sex, serial)
    assume(iin is not None)
    assert iin is not None
    bad = iin[:11] + str((int(iin[11]) + wrong) % 10)
    with pytest.raises(Invalid, match="check digit"):
        rules.check_iin(bad, field="iin")


@given(digits=st.lists(st.integers(0, 9), min_size=10, max_size=10))
def test_the_second_weights_apply_when_the_first_give_ten(digits: list[int]) -> None:
    """The 10th digit (weight 10, i.e. -1 mod 11) is chosen so that the first sum gives 10."""
    rest = sum(d * w for d, w in zip(digits, (1, 2, 3, 4, 5, 6, 7, 8, 9, 11), strict=True))
    tenth = (rest - 10) % 11
    assume(tenth < 10)
    number = [*digits[:9], tenth, digits[9]]
    assert sum(d * w for d, w in zip(number, range(1, 12), strict=True)) % 11 == 10
    second = sum(d * w for d, w in zip(number, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True))
    expected = None if second % 11 == 10 else second % 11
    assert rules.iin_check_digit("".join(map(str, number))) == expected


@pytest.mark.parametrize(
    ("iin", "reason"),
    [
        ("88030245013", "12 digits"),
        ("8803024501350", "12 digits"),
        ("88030245013a", "12 digits"),
        ("８８０３０２４５０１３５", "12 digits"),  # full-width digits are not ASCII
        ("881302450135", "birth date"),  # month 13
        ("880302050135", "birth date"),  # century digit 0
    ],
)
def test_malformed_iins_are_refused(iin: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        rules.check_iin(iin, field="iin")


@pytest.mark.parametrize(
    ("snils", "digits"),
    [
        ("112-233-445 95", "11223344595"),  # sum 95 < 100: the sum itself
        ("98765432183", "98765432183"),  # sum 285, 285 mod 101 = 83
        ("001-001-998 00", "00100199800"),  # issued before check digits: not checked
    ],
)
def test_known_snils_are_valid(snils: str, digits: str) -> None:
    assert rules.check_snils(snils, field="snils") == digits


@given(first9=st.from_regex(r"\A[0-9]{9}\Z", fullmatch=True), wrong=st.integers(1, 99))
def test_snils_check_number_property(first9: str, wrong: int) -> None:
    assume(int(first9) > 1001998)
    total = sum(int(c) * (9 - i) for i, c in enumerate(first9))
    expected = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    good = f"{first9}{expected:02d}"
    assert rules.check_snils(good, field="snils") == good
    bad = f"{first9}{(expected + wrong) % 100:02d}"
    with pytest.raises(Invalid, match="check digits"):
        rules.check_snils(bad, field="snils")


@pytest.mark.parametrize("snils", ["112-233-445", "112-233-445 9a", "1122334459511"])
def test_malformed_snils_are_refused(snils: str) -> None:
    with pytest.raises(Invalid, match="11 digits"):
        rules.check_snils(snils, field="snils")


def person(relation: rules.Relation, born: date | None, **kw: object) -> rules.PersonIn:
    return rules.PersonIn("Someone", relation, born, **kw)  # type: ignore[arg-type]


def test_a_child_older_than_its_parent_is_refused_naming_the_child() -> None:
    mother = person(rules.Relation.MOTHER, date(1990, 1, 1))
    with pytest.raises(Invalid) as err:
        rules.check_persons([mother, person(rules.Relation.CHILD, date(1989, 5, 1))], today=TODAY)
    assert err.value.field == "persons[1].birth_date"
    rules.check_persons([mother, person(rules.Relation.CHILD, date(2015, 5, 1))], today=TODAY)
    rules.check_persons([mother, person(rules.Relation.CHILD, None)], today=TODAY)


def test_iin_must_match_the_birth_date_and_not_repeat() -> None:
    with pytest.raises(Invalid, match="birth_date") as err:
        rules.check_persons(
            [person(rules.Relation.MOTHER, date(1988, 3, 3), iin="880302450135")], today=TODAY
        )
    assert err.value.field == "persons[0].iin"
    twice = person(rules.Relation.MOTHER, date(1988, 3, 2), iin="880302450135")
    with pytest.raises(Invalid, match=r"repeats persons\[0\]") as err:
        rules.check_persons([twice, twice], today=TODAY)
    assert err.value.field == "persons[1].iin"


def test_a_future_birth_date_and_an_empty_document_number_are_refused() -> None:
    with pytest.raises(Invalid) as err:
        rules.check_persons([person(rules.Relation.CHILD, date(2027, 1, 1))], today=TODAY)
    assert err.value.field == "persons[0].birth_date"
    doc = rules.DocumentIn(rules.DocumentKind.PASSPORT, "  ")
    with pytest.raises(Invalid) as err:
        rules.check_persons([person(rules.Relation.MOTHER, None, documents=(doc,))], today=TODAY)
    assert err.value.field == "persons[0].documents[0].number"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Айгерім Нұрланқызы", "Aigerim Nurlankyzy"),
        ("МАКСИМОВ Пётр", "maksimov petr"),
        ("Жанна Хасенова", "Zhanna Khasenova"),
        ("Юлия Щукина", "Yuliya Shukina"),
    ],
)
def test_the_name_key_folds_case_kazakh_letters_and_transliteration(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)
