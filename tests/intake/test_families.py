"""People and families through a real gRPC channel on a real PostgreSQL, NATS and Keycloak: an
appeal joins the family already known by an IIN/SNILS, is offered the likely same families
(similar names, transliteration and Kazakh letters folded, the same birth date), and two records
of one family are merged and separated again, audited."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest
from sqlalchemy import text
from sqlmodel import select

from kamqor.audit import AuditRecord
from kamqor.clock import clock_at
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.names import name_key
from tests.intake.test_people_rules import iin_of
from tests.shelter.test_service import details
from tests.support.factories import appeal_request
from tests.support.services import bearer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("hotline.ast", "intake.ast", "intake.ala", "head.ast", "caseworker.ast")
    return {u: keycloak.token(u) for u in users}


def unique_birth(rng: random.Random) -> date:
    """A birth date of its own, so that no other test's family is a likely match."""
    return date(1950, 1, 1).fromordinal(date(1950, 1, 1).toordinal() + rng.randrange(20000))


def fresh_iin(rng: random.Random, born: date) -> str:
    while (iin := iin_of(born, rng.randrange(2), f"{rng.randrange(10000):04d}")) is None:
        pass
    return iin


RNG = random.Random()


def mother(name: str, born: date, **kw: Any) -> pb.Person:
    return pb.Person(full_name=name, relation=pb.RELATION_MOTHER, birth_date=born.isoformat(), **kw)


def child(name: str, born: date, **kw: Any) -> pb.Person:
    return pb.Person(full_name=name, relation=pb.RELATION_CHILD, birth_date=born.isoformat(), **kw)


async def register(stub, token: str, persons: list[pb.Person], **kw) -> pb.Appeal:  # type: ignore[no-untyped-def]
    with clock_at(NOW):
        resp = await stub.RegisterAppeal(
            appeal_request(persons=persons, **kw), metadata=bearer(token)
        )
    return resp.appeal  # type: ignore[no-any-return]


async def test_int2_an_appeal_joins_the_family_known_by_an_iin(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """The second appeal spells the mother's name otherwise and adds a passport: same family,
    same member, who now has the passport too; a third person becomes a new member."""
    born = unique_birth(RNG)
    iin = fresh_iin(RNG, born)
    first = await register(stub, tokens["intake.ast"], [mother("Сейткали Айгерім", born, iin=iin)])
    assert first.matched_by == pb.MATCHED_BY_NEW and first.family_id
    assert first.persons[0].iin == iin and first.persons[0].person_id
    passport = pb.IdentityDocument(kind=pb.DOCUMENT_KIND_ID_CARD, number="045123987")
    second = await register(
        stub,
        tokens["hotline.ast"],
        [
            mother("Seitkali Aigerim", born, iin=iin, documents=[passport]),
            child("Seitkali Arman", date(2019, 4, 2)),
        ],
    )
    assert second.matched_by == pb.MATCHED_BY_IDENTIFIER
    assert second.family_id == first.family_id
    assert second.persons[0].person_id == first.persons[0].person_id
    assert list(second.persons[0].documents) == [passport]
    family = (
        await stub.GetFamily(
            pb.GetFamilyRequest(family_id=first.family_id),
            metadata=bearer(tokens["caseworker.ast"]),
        )
    ).family
    assert sorted(m.full_name for m in family.members) == ["Seitkali Arman", "Сейткали Айгерім"]
    assert set(family.appeal_ids) == {first.id, second.id}
    again = await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=first.id), metadata=bearer(tokens["intake.ast"])
    )
    assert again.appeal.family_id == first.family_id
    assert list(again.appeal.persons[0].documents) == [passport]


async def test_int2_an_appeal_joins_the_family_known_by_a_snils(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    born = unique_birth(RNG)
    first9 = f"{RNG.randrange(2000000, 999999999):09d}"
    total = sum(int(c) * (9 - i) for i, c in enumerate(first9))
    snils = f"{first9}{total % 101 % 100:02d}"
    dashed = f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    first = await register(
        stub, tokens["intake.ast"], [mother("Иванова Мария", born, snils=dashed)]
    )
    assert first.persons[0].snils == snils
    second = await register(
        stub, tokens["intake.ast"], [mother("Ivanova Mariya", born, snils=snils)]
    )
    assert (second.matched_by, second.family_id) == (pb.MATCHED_BY_IDENTIFIER, first.family_id)


async def test_int2_a_likely_match_is_offered_and_the_operator_attaches_to_it(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    """Without a number, a similar name (Kazakh letters, Latin spelling, a typo) and the same
    birth date make a likely match: offered, never joined by itself; the operator then names it."""
    born = unique_birth(RNG)
    known = await register(stub, tokens["intake.ast"], [mother("Нұрланова Айгерім Бекқызы", born)])
    new = await register(stub, tokens["intake.ast"], [mother("Nurlanova Aigerim Bekkyzi", born)])
    assert new.matched_by == pb.MATCHED_BY_NEW and new.family_id != known.family_id
    assert [(m.family_id, m.person_index) for m in new.likely_families] == [(known.family_id, 0)]
    match = new.likely_families[0]
    assert match.full_name == "Нұрланова Айгерім Бекқызы" and match.birth_date == born.isoformat()
    assert 0.5 <= match.score <= 1
    other_day = await register(
        stub, tokens["intake.ast"], [mother("Нұрланова Айгерім Бекқызы", date(born.year - 1, 1, 1))]
    )
    assert known.family_id not in [m.family_id for m in other_day.likely_families]
    # Joined, the same normalised name and birth date are the known member.
    joined = await register(
        stub,
        tokens["intake.ast"],
        [mother("Nurlanova Aigerim Bekkyzy", born)],
        family_id=known.family_id,
    )
    assert (joined.matched_by, joined.family_id) == (pb.MATCHED_BY_OPERATOR, known.family_id)
    assert joined.persons[0].person_id == known.persons[0].person_id
    assert not joined.likely_families
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(select(AuditRecord).where(AuditRecord.purpose == "likely match"))
        ).all()
    assert any(f"family/{known.family_id}" in (r.entities or [r.entity]) for r in rows)


async def test_the_database_name_key_is_the_python_one(intake_app) -> None:  # type: ignore[no-untyped-def]
    names = [
        "Айгерім Нұрланқызы",
        "Щукина Юлия-Мария",
        "O'Neil  Ş. Güneş",
        "Ёлкин Пётр Ильич",
        "Khasenova Zhanna",
        "Ұлдана Үмбетова",
        "  Хвостов_Ьюрий ",
    ]
    async with intake_app.wiring.uow() as session:
        conn = await session.connection()
        for name in names:
            got = (await conn.execute(text("SELECT intake_name_key(:n)"), {"n": name})).scalar()
            assert got == name_key(name), name


async def test_int2_two_records_merged_and_separated_again_audited(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    born = unique_birth(RNG)
    a = await register(stub, tokens["intake.ast"], [mother("Смагулова Дана", born)])
    b = await register(
        stub,
        tokens["hotline.ast"],
        [mother("Smagulova Dana", born), child("Smagulov Ernar", date(2018, 2, 3))],
    )
    merged = await stub.MergeFamilies(
        pb.MergeFamiliesRequest(
            kept_family_id=a.family_id, merged_family_id=b.family_id, reason="same mother, same IIN"
        ),
        metadata=bearer(tokens["intake.ast"]),
    )
    assert merged.family.id == a.family_id
    assert list(merged.family.merged_family_ids) == [b.family_id]
    assert len(merged.family.members) == 3 and set(merged.family.appeal_ids) == {a.id, b.id}
    via_merged = await stub.GetFamily(
        pb.GetFamilyRequest(family_id=b.family_id), metadata=bearer(tokens["intake.ast"])
    )
    assert via_merged.family.id == a.family_id
    appeal_b = await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=b.id), metadata=bearer(tokens["intake.ast"])
    )
    assert appeal_b.appeal.family_id == a.family_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.MergeFamilies(
            pb.MergeFamiliesRequest(
                kept_family_id=b.family_id, merged_family_id=a.family_id, reason="again"
            ),
            metadata=bearer(tokens["intake.ast"]),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    undone = await stub.UndoMerge(
        pb.UndoMergeRequest(merge_id=merged.merge.id), metadata=bearer(tokens["head.ast"])
    )
    assert undone.merge.undone_by and undone.merge.HasField("undone_at")
    for appeal, members in ((a, 1), (b, 2)):
        got = await stub.GetFamily(
            pb.GetFamilyRequest(family_id=appeal.family_id), metadata=bearer(tokens["intake.ast"])
        )
        assert got.family.id == appeal.family_id and len(got.family.members) == members
        assert list(got.family.appeal_ids) == [appeal.id] and not got.family.merged_family_ids
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UndoMerge(
            pb.UndoMergeRequest(merge_id=merged.merge.id), metadata=bearer(tokens["head.ast"])
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(select(AuditRecord).where(AuditRecord.purpose == "INT-2 merge"))
        ).all()
    actions = {r.action for r in rows if f"family-merge/{merged.merge.id}" in (r.entities or [])}
    assert actions == {"merge", "undo-merge"}


async def test_merging_is_for_intake_operators_and_heads_of_the_territory(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    born = unique_birth(RNG)
    a = await register(stub, tokens["intake.ast"], [mother("Ахметова Сауле", born)])
    b = await register(stub, tokens["intake.ast"], [mother("Akhmetova Saule", born)])
    request = pb.MergeFamiliesRequest(
        kept_family_id=a.family_id, merged_family_id=b.family_id, reason="one family"
    )
    for user, code in (
        ("caseworker.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("hotline.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("intake.ala", grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.MergeFamilies(request, metadata=bearer(tokens[user]))
        assert err.value.code() == code, user
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetFamily(
            pb.GetFamilyRequest(family_id=a.family_id), metadata=bearer(tokens["intake.ala"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(
            stub, tokens["intake.ala"], [mother("Akhmetova Saule", born)], family_id=a.family_id
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", ["family_id"])


def _bad_persons() -> list[tuple[list[pb.Person], str]]:
    born = date(1988, 3, 2)
    return [
        ([mother("M", born, iin="880302450136")], "persons[0].iin"),
        ([mother("M", date(1988, 3, 3), iin="880302450135")], "persons[0].iin"),
        ([mother("M", born, snils="112-233-445 96")], "persons[0].snils"),
        ([mother("M", date(2027, 1, 1))], "persons[0].birth_date"),
        ([mother("M", born), child("C", date(1987, 1, 1))], "persons[1].birth_date"),
        (
            [mother("M", born, documents=[pb.IdentityDocument(number="123")])],
            "persons[0].documents[0].kind",
        ),
    ]


@pytest.mark.parametrize(("persons", "field"), _bad_persons())
async def test_bad_people_are_refused_naming_the_field_and_nothing_is_written(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app, persons, field
) -> None:
    async with intake_app.wiring.uow() as session:
        conn = await session.connection()
        before = (await conn.execute(text("SELECT count(*) FROM family_persons"))).scalar()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(stub, tokens["intake.ast"], persons)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", [field])
    async with intake_app.wiring.uow() as session:
        conn = await session.connection()
        after = (await conn.execute(text("SELECT count(*) FROM family_persons"))).scalar()
    assert after == before


async def test_int1_every_source_of_a_case_is_journaled_and_an_unknown_one_refused(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    """INT-1's sources: own appeal (in person, phone, online), hotline 111, state systems,
    reports, media, mobile groups' early detection, Bashkortostan's signal card."""
    sources = [c for c in pb.Channel.values() if c != pb.CHANNEL_UNSPECIFIED]
    assert len(sources) == 9
    for channel in sources:
        appeal = await register(
            stub, tokens["intake.ast"], [mother("Source Check", unique_birth(RNG))], channel=channel
        )
        assert appeal.channel == channel and appeal.journal_number
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(stub, tokens["intake.ast"], [mother("Source Check", NOW.date())], channel=99)
    assert details(err.value) == ("invalid", ["channel"])
