"""The journal as a legal register and the journal's links through a real gRPC channel on a real
PostgreSQL, NATS and Keycloak (INT-2): a correction never overwrites the entry it corrects; it
is a numbered entry of its own in the same series, with who, when and why, and both stay
visible; further information follows the same way; and a page of the journal names each
appeal's family and case, filtered by either."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kamqor.clock import clock_at
from kamqor.intake.v1 import intake_pb2 as pb
from tests.intake.test_families import mother, register, unique_birth
from tests.shelter.test_service import details
from tests.support.services import bearer

RNG = random.Random()
LATER = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("hotline.ast", "intake.ast", "intake.ala", "caseworker.ast", "head.ast")
    return {u: keycloak.token(u) for u in users}


async def follow(  # type: ignore[no-untyped-def]
    stub, token: str, appeal_id: str, key: str = "", **kw
) -> pb.FollowUpAppealResponse:
    with clock_at(LATER):
        return await stub.FollowUpAppeal(  # type: ignore[no-any-return]
            pb.FollowUpAppealRequest(
                idempotency_key=key or uuid.uuid4().hex, appeal_id=appeal_id, **kw
            ),
            metadata=bearer(token),
        )


async def refused(stub, token: str, appeal_id: str, **kw) -> tuple[grpc.StatusCode, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await follow(stub, token, appeal_id, **kw)
    return caught.value.code(), details(caught.value)[1]


def sequence(journal_number: str) -> int:
    return int(journal_number.rsplit("/", 1)[1])


async def test_int2_a_correction_is_an_entry_of_its_own_and_the_original_stays(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    appeal = await register(
        stub,
        tokens["intake.ast"],
        [mother("Омарова Жанар", unique_birth(RNG))],
        channel=pb.CHANNEL_PHONE,
        summary="Neighbour calls: children alone at night",
    )
    corrected = await follow(
        stub,
        tokens["caseworker.ast"],
        appeal.id,
        kind=pb.FOLLOW_UP_KIND_CORRECTION,
        corrected_field=pb.CORRECTED_FIELD_CHANNEL,
        channel=pb.CHANNEL_HOTLINE_111,
        reason="The call came through the hotline 111",
    )
    entry = corrected.follow_up
    assert entry.kind == pb.FOLLOW_UP_KIND_CORRECTION and entry.appeal_id == appeal.id
    assert entry.reason == "The call came through the hotline 111"
    # Who and when: the clock runs on from LATER.
    assert entry.recorded_by
    assert timedelta(0) <= entry.recorded_at.ToDatetime(tzinfo=UTC) - LATER < timedelta(minutes=1)
    # Numbered in the center's journal, in the same series as the appeals, after this one.
    center, year, _ = entry.journal_number.rsplit("/", 2)
    assert (center, year) == (appeal.center_id, "2026")
    assert sequence(entry.journal_number) > sequence(appeal.journal_number)
    # The original stays as registered; the correction is in force and both are visible.
    shown = corrected.appeal
    assert (shown.channel, shown.summary) == (pb.CHANNEL_PHONE, appeal.summary)
    assert shown.channel_in_force == pb.CHANNEL_HOTLINE_111
    assert shown.summary_in_force == appeal.summary

    information = await follow(
        stub,
        tokens["hotline.ast"],
        appeal.id,
        kind=pb.FOLLOW_UP_KIND_INFORMATION,
        text="The school confirms the children missed a week",
    )
    summary = await follow(
        stub,
        tokens["head.ast"],
        appeal.id,
        kind=pb.FOLLOW_UP_KIND_CORRECTION,
        corrected_field=pb.CORRECTED_FIELD_SUMMARY,
        text="Neighbour calls: children alone for two nights",
        reason="Misheard at registration",
    )
    again = (
        await stub.GetAppeal(
            pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(tokens["intake.ast"])
        )
    ).appeal
    assert [f.id for f in again.follow_ups] == [
        entry.id,
        information.follow_up.id,
        summary.follow_up.id,
    ]
    assert again.summary == "Neighbour calls: children alone at night"
    assert again.summary_in_force == "Neighbour calls: children alone for two nights"
    numbers = [sequence(f.journal_number) for f in again.follow_ups]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3

    # The register is append-only in the database itself, whatever the code does.
    async with intake_app.wiring.uow() as session:
        conn = await session.connection()
        with pytest.raises(DBAPIError, match="never edited or deleted"):
            await conn.execute(
                text("UPDATE journal_follow_ups SET reason = 'x' WHERE id = :id"),
                {"id": entry.id},
            )


async def test_int2_a_follow_up_retried_with_its_key_is_written_once(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(stub, tokens["intake.ast"], [mother("Ким Ольга", unique_birth(RNG))])
    key = uuid.uuid4().hex
    body = {"kind": pb.FOLLOW_UP_KIND_INFORMATION, "text": "The mother called back"}
    first = await follow(stub, tokens["intake.ast"], appeal.id, key=key, **body)
    second = await follow(stub, tokens["intake.ast"], appeal.id, key=key, **body)
    assert second.follow_up.id == first.follow_up.id
    assert second.follow_up.journal_number == first.follow_up.journal_number
    assert len(second.appeal.follow_ups) == 1


async def test_int2_bad_follow_ups_are_refused_naming_the_field(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(
        stub,
        tokens["intake.ast"],
        [mother("Серикова Дина", unique_birth(RNG))],
        channel=pb.CHANNEL_IN_PERSON,
    )
    token = tokens["caseworker.ast"]
    bad = grpc.StatusCode.INVALID_ARGUMENT
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": pb.FOLLOW_UP_KIND_UNSPECIFIED, "text": "x"}, "kind"),
        ({"kind": pb.FOLLOW_UP_KIND_INFORMATION}, "text"),
        ({"kind": pb.FOLLOW_UP_KIND_INFORMATION, "text": "x", "reason": "y"}, "kind"),
        ({"kind": pb.FOLLOW_UP_KIND_CORRECTION, "reason": "y", "text": "x"}, "corrected_field"),
        (
            {
                "kind": pb.FOLLOW_UP_KIND_CORRECTION,
                "corrected_field": pb.CORRECTED_FIELD_SUMMARY,
                "text": "A better summary",
            },
            "reason",
        ),
        (
            {
                "kind": pb.FOLLOW_UP_KIND_CORRECTION,
                "corrected_field": pb.CORRECTED_FIELD_CHANNEL,
                "channel": pb.CHANNEL_IN_PERSON,
                "reason": "y",
            },
            "channel",
        ),
        (
            {
                "kind": pb.FOLLOW_UP_KIND_CORRECTION,
                "corrected_field": pb.CORRECTED_FIELD_SUMMARY,
                "text": appeal.summary,
                "reason": "y",
            },
            "text",
        ),
    ]
    for body, field in cases:
        assert await refused(stub, token, appeal.id, **body) == (bad, [field]), body
    # Nothing was written by any of them.
    shown = (
        await stub.GetAppeal(pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(token))
    ).appeal
    assert list(shown.follow_ups) == []
    # Another territory's entry does not exist for the caller; a bad id names the field.
    code, _ = await refused(
        stub, tokens["intake.ala"], appeal.id, kind=pb.FOLLOW_UP_KIND_INFORMATION, text="x"
    )
    assert code == grpc.StatusCode.NOT_FOUND
    assert await refused(
        stub, token, "not-an-id", kind=pb.FOLLOW_UP_KIND_INFORMATION, text="x"
    ) == (bad, ["appeal_id"])


async def test_int2_the_journal_names_each_appeals_family_and_case_and_filters_by_them(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    born = unique_birth(RNG)
    first = await register(stub, tokens["intake.ast"], [mother("Абенова Сауле", born)])
    joined = await register(
        stub, tokens["hotline.ast"], [mother("Абенова Сауле", born)], family_id=first.family_id
    )
    other = await register(stub, tokens["intake.ast"], [mother("Другая Семья", unique_birth(RNG))])
    assert joined.case_id == first.case_id and other.case_id != first.case_id
    token = tokens["caseworker.ast"]

    async def listed(**kw) -> list[pb.Appeal]:  # type: ignore[no-untyped-def]
        reply = await stub.ListAppeals(
            pb.ListAppealsRequest(page_size=50, **kw), metadata=bearer(token)
        )
        return list(reply.appeals)

    by_case = await listed(case_id=first.case_id)
    assert sorted(a.id for a in by_case) == sorted([first.id, joined.id])
    assert {(a.family_id, a.case_id) for a in by_case} == {(first.family_id, first.case_id)}
    assert {a.opened_case for a in by_case if a.id == first.id} == {True}
    by_family = await listed(family_id=first.family_id, order=pb.APPEAL_ORDER_JOURNAL_NUMBER)
    assert [a.id for a in by_family] == [first.id, joined.id]
    # Every page of the journal names the family and the case, filtered or not.
    everything = {a.id: a for a in await listed()}
    assert (everything[other.id].family_id, everything[other.id].case_id) == (
        other.family_id,
        other.case_id,
    )
    # A merged record's appeals are its family's: the filter follows the merge.
    with clock_at(datetime(2026, 11, 23, 12, 0, tzinfo=UTC)):
        await stub.MergeFamilies(
            pb.MergeFamiliesRequest(
                kept_family_id=first.family_id,
                merged_family_id=other.family_id,
                reason="The same mother, registered twice",
            ),
            metadata=bearer(tokens["head.ast"]),
        )
    merged = await listed(family_id=first.family_id)
    assert {a.id for a in merged} == {first.id, joined.id, other.id}
    assert {a.family_id for a in merged} == {first.family_id}
    # A family or case nobody knows has no appeals; a malformed id names its field.
    assert await listed(case_id=str(uuid.uuid4())) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await listed(case_id="nope")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(caught.value)[1] == ["case_id"]
