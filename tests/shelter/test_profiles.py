"""The policy profile's `shelter` block decides, through a real gRPC channel on a real
PostgreSQL, NATS and Keycloak: the stay term (SHL-1), the notice's term, recipients and form
(SHL-3), and a profile whose centers run no crisis stays (ru-ba: a child is placed through
guardianship, seed 004) is refused with a reason naming the profile."""

from __future__ import annotations

import uuid

import grpc
import pytest
from keycloak import KeycloakAdmin
from sqlmodel import select

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.outbox import OutboxEvent
from kamqor.profiles import get_profile
from kamqor.runtime import ServiceApp
from kamqor.shelter.v1 import shelter_pb2 as pb
from tests.shelter.test_service import details
from tests.support.factories import admit_request
from tests.support.services import bearer

PASSWORD = "shelter-profiles"
# Bashkortostan (the ru-ba profile): the realm's center head, and a shelter operator made for this
# module in the real Keycloak (the demo realm has none there: its centers run no stays).
BA_USERS = {"shelter.ba": "shelter-operator"}


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    admin = KeycloakAdmin(
        server_url=keycloak.base_url + "/",
        username=keycloak.admin_username,
        password=keycloak.admin_password,
        realm_name=keycloak.realm,
        user_realm_name="master",
    )
    for name, role in BA_USERS.items():
        user_id = admin.create_user(
            {
                "username": name,
                "enabled": True,
                "email": f"{name}@profiles.invalid",
                "emailVerified": True,
                "firstName": "Profile",
                "lastName": "Check",
                "attributes": {
                    "agency": ["fc-ba-1"],
                    "agency_type": ["family_center"],
                    "territory": ["ru-ba"],
                },
                "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
            },
            exist_ok=True,
        )
        admin.assign_realm_roles(user_id, [admin.get_realm_role(role)])
    found = {name: keycloak.token(name, PASSWORD) for name in BA_USERS}
    return found | {u: keycloak.token(u) for u in ("head.ast", "shelter.ast", "head.ba")}


async def _shelter(stub, token: str, **kw: object) -> str:  # type: ignore[no-untyped-def]
    reply = await stub.RegisterShelter(
        pb.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex,
            name=f"Profiles {uuid.uuid4().hex[:6]}",
            capacity=6,
            **kw,
        ),
        metadata=bearer(token),
    )
    return str(reply.shelter.id)


async def _admitted_event(app: ServiceApp, stay_id: str) -> StayAdmitted:
    async with app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(OutboxEvent.subject == "kamqor.shelter.stay.admitted")
            )
        ).all()
    (row,) = [r for r in rows if stay_id.encode() in r.body and "." not in r.id]
    event = StayAdmitted()
    assert Envelope.FromString(row.body).data.Unpack(event)
    return event


async def test_shl3_notice_term_recipients_and_form_come_from_the_profile(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-3 under kz: the admission with minors tells notify the profile's notice rule, its
    recipients and that it is in writing, with what police and guardianship must act on
    (who, which minors with birth dates, which shelter and where, whom to call)."""
    shelter_id = await _shelter(
        stub, tokens["head.ast"], address="Astana, Abay Ave 10", contact="+7 7172 000000"
    )
    request = admit_request(shelter_id, minors=2, specialist_name="Aliya S.")
    stay = (await stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))).stay
    event = await _admitted_event(shelter_app, stay.id)
    block = get_profile("kz").shelter
    assert (event.notice_rule, list(event.notice_recipients), event.notice_in_writing) == (
        block.minors_notice_term,
        block.notify,
        block.notice_in_writing,
    )
    assert (event.notice_rule, sorted(event.notice_recipients)) == (
        "SHL-3",
        ["guardianship", "police"],
    )
    assert (event.adult_full_name, event.adult_birth_date) == (
        request.adult.full_name,
        request.adult.birth_date,
    )
    assert [(m.full_name, m.birth_date) for m in event.minor_children] == [
        (m.full_name, m.birth_date) for m in request.minors
    ]
    assert (event.shelter_address, event.specialist_name, event.specialist_contact) == (
        "Astana, Abay Ave 10",
        "Aliya S.",
        "+7 7172 000000",
    )

    # Without minors no notice is due: the event carries ids and counts only.
    alone = (
        await stub.Admit(
            admit_request(shelter_id, minors=0), metadata=bearer(tokens["shelter.ast"])
        )
    ).stay
    event = await _admitted_event(shelter_app, alone.id)
    assert (event.minors, event.notice_rule, event.adult_full_name) == (0, "", "")


async def test_shl1_ru_ba_places_a_child_through_guardianship_not_by_admission(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-1 is the kz profile's; ru-ba's centers run no crisis stays (a child is placed in a
    shelter through guardianship, seed 004): the admission is refused with a reason naming the
    profile and the way it places, and nothing is written."""
    shelter_id = await _shelter(stub, tokens["head.ba"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(admit_request(shelter_id, minors=1), metadata=bearer(tokens["shelter.ba"]))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "no-shelter-rule"
    text = err.value.details() or ""
    assert "'ru-ba'" in text and "guardianship" in text
    board = await stub.GetBedBoard(
        pb.GetBedBoardRequest(shelter_id=shelter_id), metadata=bearer(tokens["shelter.ba"])
    )
    assert (board.free, board.occupied) == (6, 0)
