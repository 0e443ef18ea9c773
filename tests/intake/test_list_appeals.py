"""ListAppeals through a real gRPC channel on a real PostgreSQL: the journal filtered by channel,
threat to life and local registration days, in each order, page by page without a gap or a
repeat (ties broken by id); tokens of another order and reversed day ranges are refused."""

from __future__ import annotations

from datetime import date, datetime
from unittest.mock import patch

import grpc
import pytest

from intake import service
from kamqor.clock import clock_at
from kamqor.intake.v1 import intake_pb2 as pb
from tests.shelter.test_service import details
from tests.support.clock import ASTANA
from tests.support.factories import appeal_request
from tests.support.services import bearer

# Days no other journal test registers on, so the filters below see only this module's entries.
DAY_BEFORE, FIRST, MIDDLE, LAST = (date(2026, 3, d) for d in (9, 10, 11, 12))


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("intake.ast", "intake.ala", "caseworker.ast")}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ASTANA)


@pytest.fixture(scope="module")
async def journal(stub, tokens) -> dict[str, pb.Appeal]:  # type: ignore[no-untyped-def]
    """Entries of Astana on 9-12 March 2026 (local time) and one of Almaty on 11 March."""
    entries = {
        # 23:30 on the 9th: outside a range that starts on the 10th.
        "late_before": (local(DAY_BEFORE, 23, 30), pb.CHANNEL_PHONE, False),
        # 00:10 on the 10th locally is still the 9th in UTC: inside.
        "first_phone": (local(FIRST, 0, 10), pb.CHANNEL_PHONE, False),
        "first_online": (local(FIRST, 9), pb.CHANNEL_ONLINE, True),
        # Two entries at one instant: the id breaks the tie.
        "tie_a": (local(MIDDLE, 11), pb.CHANNEL_PHONE, True),
        "tie_b": (local(MIDDLE, 11), pb.CHANNEL_PHONE, False),
        "middle_hotline": (local(MIDDLE, 15), pb.CHANNEL_HOTLINE_111, False),
        # 23:50 on the 12th locally is 18:50 UTC: inside a range that ends on the 12th.
        "last_phone": (local(LAST, 23, 50), pb.CHANNEL_PHONE, False),
    }
    found: dict[str, pb.Appeal] = {}
    for name, (at, channel, threat) in entries.items():
        # The domain clock runs on from where it is set: stopped here, so the tie is exact.
        with clock_at(at), patch.object(service, "utcnow", lambda at=at: at):
            reply = await stub.RegisterAppeal(
                appeal_request(channel=channel, threat_to_life=threat),
                metadata=bearer(tokens["intake.ast"]),
            )
        found[name] = reply.appeal
    assert found["tie_a"].registered_at == found["tie_b"].registered_at
    with clock_at(local(MIDDLE, 12)):
        other = await stub.RegisterAppeal(
            appeal_request(channel=pb.CHANNEL_PHONE), metadata=bearer(tokens["intake.ala"])
        )
    found["almaty"] = other.appeal
    return found


async def every_page(stub, token: str, **kw) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every id the filtered journal lists, one entry per page, and how many pages it took."""
    ids: list[str] = []
    page_token, pages = "", 0
    while True:
        reply = await stub.ListAppeals(
            pb.ListAppealsRequest(page_size=1, page_token=page_token, **kw),
            metadata=bearer(token),
        )
        pages += 1
        ids += [a.id for a in reply.appeals]
        page_token = reply.next_page_token
        if not page_token:
            return ids, pages


RANGE = {"registered_from": FIRST.isoformat(), "registered_to": LAST.isoformat()}


async def test_channel_filter_applies_across_pages_newest_first(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    ids, pages = await every_page(stub, tokens["caseworker.ast"], channel=pb.CHANNEL_PHONE, **RANGE)
    tie = sorted([journal["tie_a"].id, journal["tie_b"].id], reverse=True)
    assert ids == [journal["last_phone"].id, *tie, journal["first_phone"].id]
    assert pages == 4  # the last page knows it is the last: no empty page after it


async def test_oldest_first_is_the_same_entries_reversed(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    newest, _ = await every_page(stub, tokens["intake.ast"], **RANGE)
    oldest, _ = await every_page(
        stub, tokens["intake.ast"], order=pb.APPEAL_ORDER_OLDEST_FIRST, **RANGE
    )
    assert oldest == list(reversed(newest))
    expected = {k for k in journal if k not in ("late_before", "almaty")}
    assert set(newest) == {journal[k].id for k in expected}  # local days, not UTC days


async def test_threat_to_life_filter(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    threat, _ = await every_page(stub, tokens["intake.ast"], threat_to_life=True, **RANGE)
    assert threat == [journal["tie_a"].id, journal["first_online"].id]
    calm, _ = await every_page(
        stub,
        tokens["intake.ast"],
        threat_to_life=False,
        channel=pb.CHANNEL_PHONE,
        registered_from=MIDDLE.isoformat(),
        registered_to=MIDDLE.isoformat(),
    )
    assert calm == [journal["tie_b"].id]


async def test_journal_number_order(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    ids, _ = await every_page(
        stub, tokens["intake.ast"], order=pb.APPEAL_ORDER_JOURNAL_NUMBER, **RANGE
    )
    by_id = {a.id: a.journal_number for a in journal.values()}
    numbers = [by_id[i] for i in ids]
    assert numbers == sorted(numbers) and len(numbers) == 6


async def test_another_territory_is_never_listed(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    ids, _ = await every_page(stub, tokens["intake.ala"], **RANGE)
    assert ids == [journal["almaty"].id]


@pytest.mark.parametrize(
    ("request_kw", "field"),
    [
        ({"registered_from": "2026-03-12", "registered_to": "2026-03-10"}, "registered_to"),
        ({"registered_from": "12.03.2026"}, "registered_from"),
        ({"page_token": "not-a-token"}, "page_token"),
        ({"order": 99}, "order"),
    ],
)
async def test_bad_filters_name_the_field(stub, tokens, request_kw, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListAppeals(
            pb.ListAppealsRequest(**request_kw), metadata=bearer(tokens["intake.ast"])
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", [field])


async def test_a_token_of_another_order_is_refused(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    newest = await stub.ListAppeals(
        pb.ListAppealsRequest(page_size=1, **RANGE), metadata=bearer(tokens["intake.ast"])
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListAppeals(
            pb.ListAppealsRequest(
                page_size=1,
                page_token=newest.next_page_token,
                order=pb.APPEAL_ORDER_JOURNAL_NUMBER,
                **RANGE,
            ),
            metadata=bearer(tokens["intake.ast"]),
        )
    assert details(err.value) == ("invalid", ["page_token"])


async def test_an_inserted_entry_does_not_shift_the_next_page(stub, tokens, journal) -> None:  # type: ignore[no-untyped-def]
    first = await stub.ListAppeals(
        pb.ListAppealsRequest(page_size=2, **RANGE), metadata=bearer(tokens["intake.ast"])
    )
    # Last in the module: the entry it adds is in the range the tests above list.
    # A newer entry arrives between two page reads: the next page starts where the first ended.
    with clock_at(local(LAST, 23, 55)):
        await stub.RegisterAppeal(appeal_request(), metadata=bearer(tokens["intake.ast"]))
    second = await stub.ListAppeals(
        pb.ListAppealsRequest(page_size=2, page_token=first.next_page_token, **RANGE),
        metadata=bearer(tokens["intake.ast"]),
    )
    assert [a.id for a in first.appeals] == [journal["last_phone"].id, journal["middle_hotline"].id]
    assert [a.id for a in second.appeals] == sorted(
        [journal["tie_a"].id, journal["tie_b"].id], reverse=True
    )
