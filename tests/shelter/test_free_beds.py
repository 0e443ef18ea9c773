"""The shelters list's free beds (SHL-6): capacity less the occupied, the held and those out of
service, so a list never offers a bed an admission cannot take. Through the shelter service's
real gRPC on real PostgreSQL, NATS and Keycloak; the rule itself as a plain function."""

from __future__ import annotations

import uuid

from kamqor.shelter.v1 import shelter_pb2 as pb
from shelter import rules
from tests.shelter.test_service import new_shelter
from tests.support.factories import admit_request
from tests.support.services import bearer


def test_shl6_free_is_capacity_less_occupied_held_and_out_of_service() -> None:
    assert rules.Occupancy(capacity=10, occupied=3, held=2, out_of_service=1).free == 4
    assert rules.Occupancy(capacity=4).free == 4
    # Never negative, even if beds were counted against a lowered capacity.
    assert rules.Occupancy(capacity=2, occupied=2, held=1).free == 0


async def listed(stub, token: str, shelter_id: str) -> pb.Shelter:  # type: ignore[no-untyped-def]
    reply = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(token))
    return next(s for s in reply.shelters if s.id == shelter_id)


async def test_shl6_the_shelters_list_counts_holds_and_beds_out_of_service(  # type: ignore[no-untyped-def]
    stub, keycloak
) -> None:
    head, operator = keycloak.token("head.ast"), keycloak.token("shelter.ast")
    shelter_id = await new_shelter(stub, head, capacity=6)
    fresh = await listed(stub, operator, shelter_id)
    assert (fresh.capacity, fresh.free, fresh.occupied, fresh.held, fresh.out_of_service) == (
        6,
        6,
        0,
        0,
        0,
    )

    # An adult with a child (two beds), a hold of two beds, one bed out of service.
    await stub.Admit(admit_request(shelter_id, minors=1), metadata=bearer(operator))
    await stub.HoldBeds(
        pb.HoldBedsRequest(
            idempotency_key=uuid.uuid4().hex,
            shelter_id=shelter_id,
            beds=2,
            minutes=120,
            note="expected from the police",
        ),
        metadata=bearer(operator),
    )
    board = await stub.GetBedBoard(
        pb.GetBedBoardRequest(shelter_id=shelter_id), metadata=bearer(operator)
    )
    free_number = next(b.number for b in board.beds if b.state == pb.BED_STATE_FREE)
    await stub.SetBedService(
        pb.SetBedServiceRequest(
            shelter_id=shelter_id, number=free_number, out_of_service=True, reason="repairs"
        ),
        metadata=bearer(operator),
    )

    now = await listed(stub, operator, shelter_id)
    assert (now.occupied, now.held, now.out_of_service) == (2, 2, 1)
    assert now.free == 6 - 2 - 2 - 1 == 1
    # The list and the bed board agree, and the board's own counts add up to the capacity.
    board = await stub.GetBedBoard(
        pb.GetBedBoardRequest(shelter_id=shelter_id), metadata=bearer(operator)
    )
    assert board.shelter.free == board.free == 1
    assert board.free + board.occupied + board.held + board.out_of_service == 6
    # The one free bed is really free: a one-person admission takes it, then none is left.
    await stub.Admit(admit_request(shelter_id, minors=0), metadata=bearer(operator))
    assert (await listed(stub, head, shelter_id)).free == 0
