"""ListStays through a real gRPC channel on a real PostgreSQL: a shelter's stays page by page,
the latest admission first, with minors and days left in the territory's local time (SHL-1);
another territory's shelter is absent; every listed stay's read is audited (REG-9)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import grpc
import pytest
from sqlmodel import select

from kamqor import audit
from kamqor.audit import AuditRecord
from kamqor.clock import clock_at, utcnow
from kamqor.profiles import get_profile
from kamqor.runtime import ServiceApp
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc
from shelter import rules
from tests.shelter.test_service import details
from tests.support.factories import admit_request, resident
from tests.support.services import bearer

ASTANA = get_profile("kz").zone


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("head.ast", "shelter.ast", "shelter.ala")}


def test_days_left_counts_local_days() -> None:
    zone = ZoneInfo("Etc/GMT-5")  # UTC+5, as Astana
    last_moment = datetime(2026, 12, 17, 18, 59, 59, tzinfo=UTC)  # 23:59:59 on the 17th locally
    assert rules.days_left(last_moment, datetime(2026, 11, 17, 5, tzinfo=UTC), zone) == 30
    # 20:00 UTC on the 16th is already the 17th in Astana: the last day, 0 left.
    assert rules.days_left(last_moment, datetime(2026, 12, 16, 20, tzinfo=UTC), zone) == 0
    assert rules.days_left(last_moment, datetime(2026, 12, 18, 5, tzinfo=UTC), zone) == -1


async def test_a_shelters_stays_page_by_page(
    stub: shelter_pb2_grpc.ShelterServiceStub, tokens: dict[str, str], shelter_app: ServiceApp
) -> None:
    registered = await stub.RegisterShelter(
        pb.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex, name=f"List {uuid.uuid4().hex[:6]}", capacity=20
        ),
        metadata=bearer(tokens["head.ast"]),
    )
    shelter_id = registered.shelter.id
    admitted = []
    for minors in (2, 0, 1):
        reply = await stub.Admit(
            admit_request(shelter_id, minors=minors), metadata=bearer(tokens["shelter.ast"])
        )
        admitted.append(reply.stay)
    await stub.Discharge(
        pb.DischargeRequest(stay_id=admitted[1].id, reason="moved to relatives"),
        metadata=bearer(tokens["shelter.ast"]),
    )

    first = await stub.ListStays(
        pb.ListStaysRequest(shelter_id=shelter_id, page_size=2),
        metadata=bearer(tokens["shelter.ast"]),
    )
    assert [s.id for s in first.stays] == [admitted[2].id, admitted[1].id]
    assert first.next_page_token
    second = await stub.ListStays(
        pb.ListStaysRequest(shelter_id=shelter_id, page_size=2, page_token=first.next_page_token),
        metadata=bearer(tokens["shelter.ast"]),
    )
    assert [s.id for s in second.stays] == [admitted[0].id]
    assert second.next_page_token == ""
    assert [len(s.minors) for s in (*first.stays, *second.stays)] == [1, 0, 2]
    # Admitted now: the last day is a calendar month ahead in Astana's local time (SHL-1).
    active = second.stays[0]
    end = active.latest_end_at.ToDatetime(tzinfo=UTC)
    assert active.days_left == rules.days_left(end, utcnow(), ASTANA)
    assert 28 <= active.days_left <= 31

    only_active = await stub.ListStays(
        pb.ListStaysRequest(shelter_id=shelter_id, state=pb.STAY_STATE_ACTIVE),
        metadata=bearer(tokens["shelter.ast"]),
    )
    assert {s.id for s in only_active.stays} == {admitted[0].id, admitted[2].id}
    discharged = await stub.ListStays(
        pb.ListStaysRequest(shelter_id=shelter_id, state=pb.STAY_STATE_DISCHARGED),
        metadata=bearer(tokens["shelter.ast"]),
    )
    assert [s.days_left for s in discharged.stays] == [0]

    assert shelter_app.wiring is not None
    async with shelter_app.wiring.transaction() as session:
        reads = (
            await session.exec(
                select(AuditRecord).where(
                    audit.touching(f"stay/{admitted[0].id}"), AuditRecord.purpose == "list"
                )
            )
        ).all()
    assert len(reads) == 2  # the second page and the active-only list
    # One row per page, naming every stay listed (REG-9 at the cost of one row).
    active_list = next(r for r in reads if len(r.entities) == 2)
    assert set(active_list.entities) == {f"stay/{admitted[0].id}", f"stay/{admitted[2].id}"}


async def test_another_territorys_shelter_is_absent(
    stub: shelter_pb2_grpc.ShelterServiceStub, tokens: dict[str, str]
) -> None:
    registered = await stub.RegisterShelter(
        pb.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex, name=f"Far {uuid.uuid4().hex[:6]}", capacity=5
        ),
        metadata=bearer(tokens["head.ast"]),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListStays(
            pb.ListStaysRequest(shelter_id=registered.shelter.id),
            metadata=bearer(tokens["shelter.ala"]),
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def every_page(stub, token: str, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    """The adults' names of every stay the list gives, one stay a page."""
    names: list[str] = []
    page_token = ""
    while True:
        reply = await stub.ListStays(
            pb.ListStaysRequest(page_size=1, page_token=page_token, **kw), metadata=bearer(token)
        )
        names += [s.adult.full_name for s in reply.stays]
        page_token = reply.next_page_token
        if not page_token:
            return names


async def test_each_order_holds_across_pages(
    stub: shelter_pb2_grpc.ShelterServiceStub, tokens: dict[str, str]
) -> None:
    """Admitted on three days: the earliest admission ends first (fewest days left); names sort
    whatever their length (a name too long for a page token is read back from its stay)."""
    registered = await stub.RegisterShelter(
        pb.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex, name=f"Order {uuid.uuid4().hex[:6]}", capacity=20
        ),
        metadata=bearer(tokens["head.ast"]),
    )
    shelter_id = registered.shelter.id
    long_name = "Б" * 150 + " Серикқызы"  # 300+ bytes of UTF-8
    admissions = [("Веста", 10), (long_name, 11), ("Айгуль", 12)]  # name, day of November 2026
    for name, day in admissions:
        with clock_at(datetime(2026, 11, day, 10, tzinfo=ASTANA)):
            await stub.Admit(
                admit_request(shelter_id, minors=0, adult=resident(name)),
                metadata=bearer(tokens["shelter.ast"]),
            )
    # A second adult of one name admitted the same day: the id breaks the name's tie.
    with clock_at(datetime(2026, 11, 12, 10, tzinfo=ASTANA)):
        await stub.Admit(
            admit_request(shelter_id, minors=0, adult=resident("Айгуль")),
            metadata=bearer(tokens["shelter.ast"]),
        )
    token = tokens["shelter.ast"]
    by_name = await every_page(stub, token, shelter_id=shelter_id, order=pb.STAY_ORDER_NAME)
    assert by_name == ["Айгуль", "Айгуль", long_name, "Веста"]
    fewest_days = await every_page(
        stub, token, shelter_id=shelter_id, order=pb.STAY_ORDER_DAYS_LEFT
    )
    assert fewest_days == ["Веста", long_name, "Айгуль", "Айгуль"]
    latest = await every_page(stub, token, shelter_id=shelter_id)
    assert latest == ["Айгуль", "Айгуль", long_name, "Веста"]

    first = await stub.ListStays(
        pb.ListStaysRequest(shelter_id=shelter_id, page_size=1, order=pb.STAY_ORDER_NAME),
        metadata=bearer(token),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListStays(
            pb.ListStaysRequest(
                shelter_id=shelter_id,
                page_size=1,
                page_token=first.next_page_token,
                order=pb.STAY_ORDER_DAYS_LEFT,
            ),
            metadata=bearer(token),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused.value) == ("invalid", ["page_token"])
