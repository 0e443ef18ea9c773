"""INT-2 under concurrency, through the intake service over real gRPC on the real stack: entries
registered at the same time get numbers unique per center and year, without gaps, the year's
first entries included (they race to create the center's counter)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from kamqor.clock import clock_at
from kamqor.intake.v1 import intake_pb2 as pb
from tests.intake.test_service import register, tokens  # noqa: F401 - fixtures
from tests.support.clock import ASTANA

PER_CENTER = 10


def sequences(appeals: list[pb.Appeal], center: str, year: int) -> list[int]:
    prefix = f"{center}/{year}/"
    return sorted(
        int(a.journal_number.removeprefix(prefix)) for a in appeals if a.center_id == center
    )


async def test_int2_concurrent_entries_are_numbered_per_center_and_year_without_gaps(  # type: ignore[no-untyped-def]
    stub,
    tokens,  # noqa: F811
) -> None:
    """2 March 2033 in Astana, a year no other test registers in: two centers' operators (and
    the hotline, which writes to fc-ast-1's journal) register at once; each center's numbers
    run 1..n with none missing and none twice."""
    users = ["intake.ast", "hotline.ast", "intake.ala"] * PER_CENTER
    with clock_at(datetime(2033, 3, 2, 9, 0, tzinfo=ASTANA)):
        appeals = await asyncio.gather(*(register(stub, tokens[u]) for u in users))
    assert len({a.journal_number for a in appeals}) == len(users)
    assert sequences(appeals, "fc-ast-1", 2033) == list(range(1, 2 * PER_CENTER + 1))
    assert sequences(appeals, "fc-ala-1", 2033) == list(range(1, PER_CENTER + 1))
    # The number the response shows is the one the entry was written with.
    again = await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=appeals[0].id),
        metadata=(("authorization", f"Bearer {tokens['intake.ast']}"),),
    )
    assert again.appeal.journal_number == appeals[0].journal_number
