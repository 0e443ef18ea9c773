"""Bad input and retries refused by the shelter service itself, for a gRPC caller that bypasses
the gateway: control characters, implausible birth dates, a reused or in-flight idempotency
key, a second shelter of one name, a message over the size limit. Nothing of it is written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import timedelta

import grpc
import pytest

from kamqor.grpcserver import MAX_REQUEST_BYTES
from kamqor.inputs import years_before
from kamqor.shelter.v1 import shelter_pb2 as pb
from tests.shelter.test_service import details, new_shelter, occupied
from tests.support.clock import today
from tests.support.factories import admit_request, resident
from tests.support.locks import row_locked, wait_for_a_held_key
from tests.support.services import bearer


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("head.ast", "head.ala", "shelter.ast")}


async def refused(call: Awaitable[object]) -> tuple[grpc.StatusCode, str, list[str]]:
    """The status code, ErrorInfo reason and BadRequest fields of a call that must fail."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return (err.value.code(), *details(err.value))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda r: setattr(r.adult, "full_name", "Ali\x00ya"), "adult.full_name"),
        (lambda r: setattr(r.minors[1], "full_name", "Arman\nK."), "minors[1].full_name"),
        (lambda r: setattr(r.adult, "full_name", "Dana\x7f"), "adult.full_name"),
        (lambda r: setattr(r.adult, "full_name", "Dana\x85K."), "adult.full_name"),
        (lambda r: setattr(r, "idempotency_key", "key\tone"), "idempotency_key"),
    ],
)
async def test_control_characters_in_an_admission_are_refused_naming_the_field(  # type: ignore[no-untyped-def]
    stub, tokens, edit, field
) -> None:
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    request = admit_request(shelter_id)
    edit(request)
    code, reason, fields = await refused(
        stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))
    )
    assert (code, reason, fields) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid", [field])
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 0


async def test_a_shelter_name_with_a_control_character_is_refused(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    request = pb.RegisterShelterRequest(name="Crisis\x00unit", capacity=5)
    code, _, fields = await refused(
        stub.RegisterShelter(request, metadata=bearer(tokens["head.ast"]))
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["name"])
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tokens["head.ast"]))
    assert all("\x00" not in s.name for s in listed.shelters)


async def test_discharge_reason_is_free_text_with_line_breaks_but_no_other_control(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    stay = (await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)).stay
    bad = pb.DischargeRequest(stay_id=stay.id, reason="moved\x00out")
    code, _, fields = await refused(stub.Discharge(bad, metadata=operator))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["reason"])
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 1
    reason = "Moved to relatives.\r\nAddress:\tgiven to the police."
    done = await stub.Discharge(
        pb.DischargeRequest(stay_id=stay.id, reason=reason), metadata=operator
    )
    assert done.stay.discharge_reason == reason


async def test_birth_dates_over_120_years_back_or_in_the_future_are_refused(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    local_today = today()
    too_old = admit_request(shelter_id, minors=0)
    too_old.adult.birth_date = (years_before(local_today, 120) - timedelta(days=1)).isoformat()
    code, _, fields = await refused(stub.Admit(too_old, metadata=operator))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["adult.birth_date"])
    unborn = admit_request(shelter_id, minors=1)
    unborn.minors[0].birth_date = (local_today + timedelta(days=1)).isoformat()
    code, _, fields = await refused(stub.Admit(unborn, metadata=operator))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["minors[0].birth_date"])
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 0

    oldest = admit_request(shelter_id, minors=0)
    oldest.adult.birth_date = years_before(local_today, 120).isoformat()
    newborn = resident("Newborn", age=0)
    newborn.birth_date = local_today.isoformat()
    oldest.minors.append(newborn)
    await stub.Admit(oldest, metadata=operator)
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 2


async def test_same_idempotency_key_with_another_request_is_refused(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    first = admit_request(shelter_id)
    stay = (await stub.Admit(first, metadata=operator)).stay
    changed = admit_request(shelter_id, idempotency_key=first.idempotency_key)
    changed.adult.full_name = "Someone Else"
    code, reason, fields = await refused(stub.Admit(changed, metadata=operator))
    assert (code, reason, fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "idempotency-key-reused",
        ["idempotency_key"],
    )
    # The first request again: the first stay, nothing written twice.
    assert (await stub.Admit(first, metadata=operator)).stay.id == stay.id
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 3


async def test_a_twin_still_in_flight_is_refused_and_then_gets_the_first_stay(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    request = admit_request(shelter_id)
    assert shelter_app.wiring is not None
    # Another admission holds the shelter's row: the first call waits in flight, with its key.
    async with row_locked(shelter_app.wiring.engine, "shelters", shelter_id) as blocker:
        first = asyncio.ensure_future(stub.Admit(request, metadata=operator))
        await wait_for_a_held_key(blocker)
        code, reason, _ = await refused(stub.Admit(request, metadata=operator))
        assert (code, reason) == (grpc.StatusCode.ABORTED, "idempotency-key-in-flight")
    stay = (await first).stay
    assert (await stub.Admit(request, metadata=operator)).stay.id == stay.id
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 3


async def test_a_shelter_name_is_declared_once_per_center(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    name = f"Crisis Unit {uuid.uuid4().hex[:6]}"
    head = bearer(tokens["head.ast"])
    request = pb.RegisterShelterRequest(idempotency_key=uuid.uuid4().hex, name=name, capacity=5)
    created = (await stub.RegisterShelter(request, metadata=head)).shelter
    # A retry with the same key is the same shelter, not a conflict.
    assert (await stub.RegisterShelter(request, metadata=head)).shelter.id == created.id
    for spelling in (name, f"  {name.upper()} ", name.replace(" ", "\u00a0 ")):
        again = pb.RegisterShelterRequest(name=spelling, capacity=7)
        code, reason, _ = await refused(stub.RegisterShelter(again, metadata=head))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "shelter-name-taken")
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=head)
    assert [s.id for s in listed.shelters if s.name.casefold() == name.casefold()] == [created.id]
    # Another center may use the name.
    other = pb.RegisterShelterRequest(name=name, capacity=3)
    await stub.RegisterShelter(other, metadata=bearer(tokens["head.ala"]))


async def test_a_request_over_the_size_limit_is_refused_unread(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    name = f"Big {uuid.uuid4().hex[:6]}"
    request = pb.RegisterShelterRequest(name=name + "x" * MAX_REQUEST_BYTES, capacity=5)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RegisterShelter(request, metadata=bearer(tokens["head.ast"]))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tokens["head.ast"]))
    assert not [s for s in listed.shelters if s.name.startswith(name)]
