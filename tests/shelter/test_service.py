"""Shelter use cases through a real gRPC channel on a real PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlmodel import col, select

from kamqor.audit import AuditRecord
from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StayDischarged
from kamqor.grpcserver import STATUS_DETAILS_KEY
from kamqor.obligations import Obligation
from kamqor.outbox import OutboxEvent
from kamqor.protoconv import dt
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc
from shelter.models import Stay
from tests.support.clock import ASTANA
from tests.support.factories import admit_request, resident
from tests.support.services import bearer


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("head.ast", "shelter.ast", "shelter.ala", "intake.ast", "caseworker.ast")
    return {u: keycloak.token(u) for u in users}


async def new_shelter(stub: shelter_pb2_grpc.ShelterServiceStub, token: str, capacity: int) -> str:
    resp = await stub.RegisterShelter(
        pb.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex,
            name=f"Shelter {uuid.uuid4().hex[:6]}",
            capacity=capacity,
        ),
        metadata=bearer(token),
    )
    return resp.shelter.id


def details(err: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """(ErrorInfo reason, BadRequest fields) from the rich status the kit attaches."""
    raw = dict(err.trailing_metadata() or ()).get(STATUS_DETAILS_KEY)
    assert raw is not None, "no rich status details"
    status = status_pb2.Status.FromString(raw)  # type: ignore[arg-type]
    reason, fields = "", []
    for item in status.details:
        info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        if item.Unpack(info):
            reason = info.reason
        elif item.Unpack(bad):
            fields = [v.field for v in bad.field_violations]
    return reason, fields


@pytest.mark.parametrize(
    ("admitted", "ends"),
    [
        # The month's last day is a holiday (1 January): the cap is not moved to 5 January.
        (datetime(2026, 12, 1, 14, 0, tzinfo=ASTANA), datetime(2027, 1, 1, tzinfo=ASTANA)),
        # No 31 February: the month's last day (RF Civil Code art. 192; KZ likewise).
        (datetime(2027, 1, 31, 9, 30, tzinfo=ASTANA), datetime(2027, 2, 28, tzinfo=ASTANA)),
        # 20:00 UTC on New Year's Eve is 1 January in Astana: the local date counts.
        (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=ASTANA)),
    ],
)
async def test_shl1_stay_ends_one_calendar_month_after_admission(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app, admitted, ends
) -> None:
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    with clock_at(admitted):
        resp = await stub.Admit(admit_request(shelter_id), metadata=bearer(tokens["shelter.ast"]))
    stay = resp.stay
    last_instant = ends.replace(hour=23, minute=59, second=59, microsecond=999999)
    assert dt(stay.admitted_at) >= admitted
    assert dt(stay.latest_end_at) == last_instant
    assert len(stay.minors) == 2
    assert stay.state == pb.STAY_STATE_ACTIVE
    # The operator sees the date the rule computed: the SHL-1 obligation's due time.
    async with shelter_app.wiring.uow() as session:
        [term] = (
            await session.exec(select(Obligation).where(Obligation.subject == f"stay/{stay.id}"))
        ).all()
    assert (term.rule, term.due_at) == ("SHL-1", last_instant)
    assert "+provisional" not in term.calendar_version


async def test_shl6_placement_never_exceeds_capacity(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    await stub.Admit(admit_request(shelter_id, minors=2), metadata=bearer(tokens["shelter.ast"]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(
            admit_request(shelter_id, minors=0), metadata=bearer(tokens["shelter.ast"])
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "shelter-full"
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tokens["head.ast"]))
    mine = next(s for s in listed.shelters if s.id == shelter_id)
    assert (mine.capacity, mine.occupied) == (3, 3)


async def test_shl6_concurrent_admissions_cannot_share_the_last_bed(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=2)
    calls = [
        stub.Admit(admit_request(shelter_id, minors=1), metadata=bearer(tokens["shelter.ast"]))
        for _ in range(3)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 1, results


async def test_admission_retry_with_same_key_returns_first_stay(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    request = admit_request(shelter_id)
    first = await stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))
    again = await stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))
    assert first.stay.id == again.stay.id
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tokens["head.ast"]))
    assert next(s for s in listed.shelters if s.id == shelter_id).occupied == 3


async def test_shl3_minors_admitted_together_must_be_under_18(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    request = admit_request(shelter_id, minors=0)
    request.minors.append(resident("Grown Son", age=19))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", ["minors[0].birth_date"])


async def test_bad_birth_date_names_the_field_and_writes_nothing(stub, tokens, shelter_app) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    request = admit_request(shelter_id)
    request.adult.birth_date = "34 years ago"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(request, metadata=bearer(tokens["shelter.ast"]))
    assert details(err.value)[1] == ["adult.birth_date"]
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tokens["head.ast"]))
    assert next(s for s in listed.shelters if s.id == shelter_id).occupied == 0


async def test_intake_operator_cannot_admit(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(admit_request(shelter_id), metadata=bearer(tokens["intake.ast"]))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_no_token_and_tampered_token_are_unauthenticated(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListShelters(pb.ListSheltersRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    token = tokens["head.ast"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(tampered))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_reg9_other_territory_sees_no_stay_and_reads_are_audited(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    stay = (
        await stub.Admit(admit_request(shelter_id), metadata=bearer(tokens["shelter.ast"]))
    ).stay
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetStay(
            pb.GetStayRequest(stay_id=stay.id), metadata=bearer(tokens["shelter.ala"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    await stub.GetStay(
        pb.GetStayRequest(stay_id=stay.id), metadata=bearer(tokens["caseworker.ast"])
    )
    async with shelter_app.wiring.uow() as session:
        rows = (
            await session.exec(select(AuditRecord).where(AuditRecord.entity == f"stay/{stay.id}"))
        ).all()
    assert sorted(r.action for r in rows) == ["create", "read"]
    assert {r.agency for r in rows} == {"fc-ast-1"}


async def test_admission_event_is_published_with_its_id(stub, tokens, shelter_app) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    stay = (
        await stub.Admit(admit_request(shelter_id), metadata=bearer(tokens["shelter.ast"]))
    ).stay
    for _ in range(50):
        # This stay's row, not the newest: other tests pin the clock, so created_at (domain time)
        # does not follow the order in which the tests ran.
        async with shelter_app.wiring.uow() as session:
            rows = (
                await session.exec(
                    select(OutboxEvent).where(OutboxEvent.subject == "kamqor.shelter.stay.admitted")
                )
            ).all()
        row = next((r for r in rows if stay.id.encode() in r.body), None)
        if row is not None and row.sent_at is not None:
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.sent_at is not None
    msg = await shelter_app.wiring.broker.js.get_last_msg("SHELTER", "kamqor.shelter.stay.admitted")
    assert msg.headers is not None and msg.headers.get("Nats-Msg-Id") == row.id
    assert stay.id in msg.data.decode("latin-1")


async def occupied(stub: shelter_pb2_grpc.ShelterServiceStub, token: str, shelter_id: str) -> int:
    listed = await stub.ListShelters(pb.ListSheltersRequest(), metadata=bearer(token))
    return next(s.occupied for s in listed.shelters if s.id == shelter_id)


async def test_discharge_meets_the_stay_term_counts_bed_days_and_frees_beds(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-1, SHL-5, SHL-6: the discharge meets the stay's SHL-1 obligation on time, the stay's
    bed-days (4 days x 3 persons) go out with the discharge event, and the beds are free again."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    # Mid-morning in Astana, so the UTC and local dates agree: bed-days count whole days.
    with clock_at(datetime(2026, 11, 17, 10, 0, tzinfo=ASTANA)):
        stay = (await stub.Admit(admit_request(shelter_id, minors=2), metadata=operator)).stay
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 3
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)
    assert details(err.value)[0] == "shelter-full"

    with clock_at(datetime(2026, 11, 21, 9, 0, tzinfo=ASTANA)):
        done = await stub.Discharge(
            pb.DischargeRequest(stay_id=stay.id, reason="redirected to a special social service"),
            metadata=operator,
        )
    assert done.stay.state == pb.STAY_STATE_DISCHARGED
    discharged_at = dt(done.stay.discharged_at)
    assert discharged_at.astimezone(ASTANA).date() == date(2026, 11, 21)
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 0

    entity = f"stay/{stay.id}"
    async with shelter_app.wiring.uow() as session:
        (term,) = (await session.exec(select(Obligation).where(Obligation.subject == entity))).all()
        events = (
            await session.exec(
                select(OutboxEvent).where(OutboxEvent.subject == "kamqor.shelter.stay.discharged")
            )
        ).all()
    (event,) = [e for e in events if stay.id.encode() in e.body]
    assert (term.rule, term.state, term.on_time) == ("SHL-1", "met", True)
    assert term.met_at == discharged_at
    assert term.due_at == dt(stay.latest_end_at)
    payload = StayDischarged()
    assert Envelope.FromString(event.body).data.Unpack(payload)
    assert (payload.stay_id, payload.bed_days) == (stay.id, 12)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Discharge(
            pb.DischargeRequest(stay_id=stay.id, reason="again"), metadata=operator
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stub.Admit(admit_request(shelter_id, minors=2), metadata=operator)
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 3


async def test_shl2_admission_names_who_referred_the_person(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """SHL-2: employment and social programmes, health, police, or the person's own application."""
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Admit(
            admit_request(shelter_id, referral=pb.REFERRAL_UNSPECIFIED),
            metadata=bearer(tokens["shelter.ast"]),
        )
    assert details(err.value) == ("invalid", ["referral"])
    stay = (
        await stub.Admit(
            admit_request(shelter_id, referral=pb.REFERRAL_POLICE, referral_document="KUSP 7/26"),
            metadata=bearer(tokens["shelter.ast"]),
        )
    ).stay
    assert (stay.referral, stay.referral_document) == (pb.REFERRAL_POLICE, "KUSP 7/26")


async def test_shl2_a_referral_without_the_document_number_is_refused_and_nothing_written(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-2: a referral by the employment and social programmes authority, a health authority
    or the police is made in writing, so the admission carries the referring document's number;
    without it the admission is refused naming `referral_document`, and nothing is written: no
    stay, no bed taken, no event, and the idempotency key is still free for the corrected one."""
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=10)
    operator = bearer(tokens["shelter.ast"])
    police = admit_request(shelter_id, referral=pb.REFERRAL_POLICE)
    for request in (
        police,
        admit_request(shelter_id, referral=pb.REFERRAL_HEALTH, referral_document="   "),
        admit_request(shelter_id, referral=pb.REFERRAL_EMPLOYMENT_AND_SOCIAL_PROGRAMMES),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Admit(request, metadata=operator)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value) == ("invalid", ["referral_document"])
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 0
    async with shelter_app.wiring.uow() as session:
        stays = (await session.exec(select(Stay).where(Stay.shelter_id == shelter_id))).all()
        events = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).startswith("kamqor.shelter."))
            )
        ).all()
    assert stays == []
    assert [e.id for e in events if shelter_id.encode() in e.body] == []
    police.referral_document = "KUSP 1187/26"
    stay = (await stub.Admit(police, metadata=operator)).stay
    assert stay.referral_document == "KUSP 1187/26"
    assert await occupied(stub, tokens["head.ast"], shelter_id) == 3
