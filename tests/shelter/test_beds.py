"""Beds, holds, refusals, the waiting list, decisions past the cap and bed-days, through a real
gRPC channel on a real PostgreSQL, NATS and Keycloak (SHL-1, SHL-2, SHL-5, SHL-6)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import date, datetime, timedelta

import grpc
import pytest
from sqlmodel import col, select

from kamqor.clock import clock_at
from kamqor.obligations import Obligation
from kamqor.protoconv import dt
from kamqor.shelter.v1 import shelter_pb2 as pb
from shelter.models import BedDay, Refusal, Stay
from tests.shelter.test_service import details, new_shelter
from tests.support.clock import ASTANA
from tests.support.factories import admit_request, resident
from tests.support.services import bearer


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("head.ast", "shelter.ast", "shelter.ala", "caseworker.ast", "analyst.ast")
    return {u: keycloak.token(u) for u in users}


async def refused(call: Awaitable[object]) -> tuple[grpc.StatusCode, str, list[str], str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return (err.value.code(), *details(err.value), err.value.details() or "")


async def board(stub, token: str, shelter_id: str) -> pb.GetBedBoardResponse:  # type: ignore[no-untyped-def]
    return await stub.GetBedBoard(
        pb.GetBedBoardRequest(shelter_id=shelter_id), metadata=bearer(token)
    )


async def test_shl6_twenty_concurrent_admissions_for_five_beds_place_exactly_five(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-6: never over capacity under concurrency; every one not placed is refused with its
    reason recorded, and those who asked are on the waiting list."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=7)
    # Two beds out of service: five free.
    for number in (6, 7):
        await stub.SetBedService(
            pb.SetBedServiceRequest(
                shelter_id=shelter_id, number=number, out_of_service=True, reason="leaking roof"
            ),
            metadata=operator,
        )
    requests = [
        admit_request(
            shelter_id,
            minors=0,
            when_full=pb.WHEN_FULL_WAITLIST if i % 2 else pb.WHEN_FULL_REFUSE,
            referred_to="crisis centre of the neighbouring district",
        )
        for i in range(20)
    ]
    results = await asyncio.gather(
        *(stub.Admit(r, metadata=operator) for r in requests), return_exceptions=True
    )
    placed = [r for r in results if isinstance(r, pb.AdmitResponse)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (len(placed), len(failed)) == (5, 15), results
    assert all(details(e)[0] == "shelter-full" for e in failed)
    assert all("refusal" in (e.details() or "") for e in failed)
    # Every bed is one person's, never two.
    beds = [b for p in placed for b in p.stay.bed_ids]
    assert len(set(beds)) == 5

    now = await board(stub, tokens["head.ast"], shelter_id)
    assert (now.free, now.occupied, now.held, now.out_of_service) == (0, 5, 0, 2)
    assert now.shelter.occupied == 5
    refusals = await stub.ListRefusals(
        pb.ListRefusalsRequest(shelter_id=shelter_id, page_size=200), metadata=operator
    )
    assert len(refusals.refusals) == 15
    assert {r.reason for r in refusals.refusals} == {pb.REFUSAL_REASON_SHELTER_FULL}
    assert {r.referred_to for r in refusals.refusals} == {
        "crisis centre of the neighbouring district"
    }
    waitlist = await stub.ListWaitlist(
        pb.ListWaitlistRequest(shelter_id=shelter_id), metadata=operator
    )
    queued = {r.waitlist_id for r in refusals.refusals if r.waitlist_id}
    asked = [
        req
        for req, res in zip(requests, results, strict=True)
        if isinstance(res, grpc.aio.AioRpcError) and req.when_full == pb.WHEN_FULL_WAITLIST
    ]
    assert len(queued) == len(asked)
    assert {e.id for e in waitlist.entries} == queued
    assert [e.position for e in waitlist.entries] == list(range(1, len(queued) + 1))


async def test_shl6_a_retried_full_admission_records_one_refusal(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=1)
    await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)
    request = admit_request(shelter_id, minors=1)
    for _ in range(2):
        code, reason, _fields, _text = await refused(stub.Admit(request, metadata=operator))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "shelter-full")
    async with shelter_app.wiring.uow() as session:
        rows = (await session.exec(select(Refusal).where(Refusal.shelter_id == shelter_id))).all()
    assert [(r.persons, r.reason) for r in rows] == [(2, "shelter_full")]


async def test_shl6_waiting_list_is_offered_the_next_free_beds_in_order(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    """SHL-6: queued people are offered freed beds in queue order, as a hold they are admitted
    into; the head of the queue is not passed over for a smaller family behind it."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=2)
    first = (await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)).stay
    second = (await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)).stay
    family = admit_request(shelter_id, minors=1, when_full=pb.WHEN_FULL_WAITLIST)
    family.adult.full_name = "Family Of Two"
    single = admit_request(shelter_id, minors=0, when_full=pb.WHEN_FULL_WAITLIST)
    single.adult.full_name = "Single Adult"
    for request in (family, single):
        assert (await refused(stub.Admit(request, metadata=operator)))[1] == "shelter-full"

    # One bed frees: the family at the head needs two, so nobody is offered yet.
    await stub.Discharge(
        pb.DischargeRequest(stay_id=first.id, reason="moved", redirected_to="relatives"),
        metadata=operator,
    )
    listed = await stub.ListWaitlist(
        pb.ListWaitlistRequest(shelter_id=shelter_id), metadata=operator
    )
    assert [(e.adult.full_name, e.state, e.position) for e in listed.entries] == [
        ("Family Of Two", pb.WAITLIST_STATE_WAITING, 1),
        ("Single Adult", pb.WAITLIST_STATE_WAITING, 2),
    ]
    await stub.Discharge(
        pb.DischargeRequest(stay_id=second.id, reason="moved", redirected_to="relatives"),
        metadata=operator,
    )
    listed = await stub.ListWaitlist(
        pb.ListWaitlistRequest(shelter_id=shelter_id), metadata=operator
    )
    head, behind = listed.entries
    assert (head.state, head.position, behind.position) == (pb.WAITLIST_STATE_OFFERED, 0, 1)
    now = await board(stub, tokens["shelter.ast"], shelter_id)
    assert (now.free, now.held) == (0, 2)
    assert {b.hold_id for b in now.beds} == {head.hold_id}

    # Nobody else can take the held beds; the family is admitted into them.
    assert (await refused(stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)))[
        1
    ] == "shelter-full"
    family.idempotency_key = uuid.uuid4().hex
    family.hold_id = head.hold_id
    stay = (await stub.Admit(family, metadata=operator)).stay
    assert len(stay.bed_ids) == 2
    listed = await stub.ListWaitlist(
        pb.ListWaitlistRequest(shelter_id=shelter_id, state=pb.WAITLIST_STATE_ADMITTED),
        metadata=operator,
    )
    assert [e.adult.full_name for e in listed.entries] == ["Family Of Two"]


async def test_shl6_holds_expire_by_themselves(stub, tokens, shelter_app) -> None:  # type: ignore[no-untyped-def]
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    hold = (
        await stub.HoldBeds(
            pb.HoldBedsRequest(
                idempotency_key=uuid.uuid4().hex,
                shelter_id=shelter_id,
                beds=2,
                minutes=90,
                note="police bringing a mother and a child",
            ),
            metadata=operator,
        )
    ).hold
    assert dt(hold.expires_at) - dt(hold.created_at) == timedelta(minutes=90)
    now = await board(stub, tokens["shelter.ast"], shelter_id)
    assert (now.free, now.held) == (1, 2)
    assert all(dt(b.hold_expires_at) == dt(hold.expires_at) for b in now.beds if b.hold_id)
    # A two-person admission does not fit the one bed left.
    assert (await refused(stub.Admit(admit_request(shelter_id, minors=1), metadata=operator)))[
        1
    ] == "shelter-full"

    assert shelter_app.sweeper is not None
    await shelter_app.sweeper.sweep_once(now=dt(hold.expires_at) - timedelta(seconds=1))
    assert (await board(stub, tokens["shelter.ast"], shelter_id)).held == 2
    await shelter_app.sweeper.sweep_once(now=dt(hold.expires_at) + timedelta(seconds=1))
    now = await board(stub, tokens["shelter.ast"], shelter_id)
    assert (now.free, now.held) == (3, 0)
    # The expired hold cannot be admitted into.
    code, reason, _f, _t = await refused(
        stub.Admit(admit_request(shelter_id, minors=0, hold_id=hold.id), metadata=operator)
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "hold-not-active")


async def test_bad_input_on_beds_is_refused_and_writes_nothing(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """An admission to a taken bed, a hold on an out-of-service bed: refused naming the bed,
    the board unchanged, no stay written."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    beds = (await board(stub, tokens["shelter.ast"], shelter_id)).beds
    taken = (
        await stub.Admit(
            admit_request(shelter_id, minors=0, bed_ids=[beds[0].id]), metadata=operator
        )
    ).stay
    assert list(taken.bed_ids) == [beds[0].id]
    await stub.SetBedService(
        pb.SetBedServiceRequest(
            shelter_id=shelter_id, number=beds[2].number, out_of_service=True, reason="repairs"
        ),
        metadata=operator,
    )
    before = await board(stub, tokens["shelter.ast"], shelter_id)

    code, reason, _f, text = await refused(
        stub.Admit(
            admit_request(shelter_id, minors=1, bed_ids=[beds[1].id, beds[0].id]),
            metadata=operator,
        )
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "bed-taken")
    assert "bed_ids[1]" in text
    code, reason, _f, text = await refused(
        stub.HoldBeds(
            pb.HoldBedsRequest(
                idempotency_key=uuid.uuid4().hex, shelter_id=shelter_id, bed_ids=[beds[2].id]
            ),
            metadata=operator,
        )
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "bed-taken")
    assert "out of service" in text
    # Taking an occupied bed out of service, or a bed named twice, is refused too.
    code, reason, _f, _t = await refused(
        stub.SetBedService(
            pb.SetBedServiceRequest(
                shelter_id=shelter_id, number=beds[0].number, out_of_service=True, reason="x"
            ),
            metadata=operator,
        )
    )
    assert reason == "bed-not-free"
    code, reason, fields, _t = await refused(
        stub.Admit(
            admit_request(shelter_id, minors=1, bed_ids=[beds[1].id, beds[1].id]),
            metadata=operator,
        )
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["bed_ids"])

    after = await board(stub, tokens["shelter.ast"], shelter_id)
    assert [(b.state, b.stay_id, b.hold_id) for b in after.beds] == [
        (b.state, b.stay_id, b.hold_id) for b in before.beds
    ]
    async with shelter_app.wiring.uow() as session:
        stays = (await session.exec(select(Stay).where(Stay.shelter_id == shelter_id))).all()
    assert [s.id for s in stays] == [taken.id]


async def test_shl1_a_stay_past_its_cap_needs_a_recorded_decision(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-1: without a decision's number and reason nothing changes; with them the new last
    day is the end of the decided local date, the decision is kept, the term met by it."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    with clock_at(datetime(2026, 11, 2, 10, 0, tzinfo=ASTANA)):
        stay = (await stub.Admit(admit_request(shelter_id, minors=1), metadata=operator)).stay
    assert dt(stay.latest_end_at).astimezone(ASTANA).date() == date(2026, 12, 2)

    with clock_at(datetime(2026, 11, 30, 10, 0, tzinfo=ASTANA)):
        code, _reason, fields, _t = await refused(
            stub.ExtendStay(
                pb.ExtendStayRequest(stay_id=stay.id, until="2026-12-16", reason="no housing yet"),
                metadata=operator,
            )
        )
        assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["decision_number"])
        same = (await stub.GetStay(pb.GetStayRequest(stay_id=stay.id), metadata=operator)).stay
        assert (same.latest_end_at, list(same.decisions)) == (stay.latest_end_at, [])
        code, _reason, fields, _t = await refused(
            stub.ExtendStay(
                pb.ExtendStayRequest(
                    stay_id=stay.id, until="2026-11-20", decision_number="7-ш", reason="x"
                ),
                metadata=operator,
            )
        )
        assert fields == ["until"]
        extended = (
            await stub.ExtendStay(
                pb.ExtendStayRequest(
                    stay_id=stay.id,
                    until="2026-12-16",
                    decision_number="Decision 7-ш",
                    reason="social housing is assigned from 16 December",
                ),
                metadata=operator,
            )
        ).stay
    assert dt(extended.latest_end_at) == datetime(2026, 12, 16, 23, 59, 59, 999999, tzinfo=ASTANA)
    (decision,) = extended.decisions
    assert (decision.decision_number, dt(decision.previous_end_at)) == (
        "Decision 7-ш",
        dt(stay.latest_end_at),
    )
    async with shelter_app.wiring.uow() as session:
        (term,) = (
            await session.exec(select(Obligation).where(Obligation.subject == f"stay/{stay.id}"))
        ).all()
    assert (term.rule, term.state, term.on_time) == ("SHL-1", "met", True)


async def test_shl1_discharge_records_where_the_person_was_redirected(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=2)
    stay = (await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)).stay
    done = (
        await stub.Discharge(
            pb.DischargeRequest(
                stay_id=stay.id,
                reason="long-term housing found",
                redirected_to="Special social services centre No. 2",
            ),
            metadata=operator,
        )
    ).stay
    assert (done.redirected_to, list(done.bed_ids)) == ("Special social services centre No. 2", [])
    # A person no longer resident is not discharged again; an unknown stay is not found.
    code, reason, _f, _t = await refused(
        stub.Discharge(pb.DischargeRequest(stay_id=stay.id, reason="again"), metadata=operator)
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "stay-ended")
    code, _r, _f, _t = await refused(
        stub.Discharge(
            pb.DischargeRequest(stay_id=str(uuid.uuid4()), reason="x"), metadata=operator
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND


async def test_shl2_referring_document_is_recorded(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """SHL-2: a referral by the police carries the referring document's number; an own
    application carries none."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=4)
    stay = (
        await stub.Admit(
            admit_request(
                shelter_id, referral=pb.REFERRAL_POLICE, referral_document="KUSP 1187/26"
            ),
            metadata=operator,
        )
    ).stay
    assert (stay.referral, stay.referral_document) == (pb.REFERRAL_POLICE, "KUSP 1187/26")
    code, _r, fields, _t = await refused(
        stub.Admit(admit_request(shelter_id, referral_document="KUSP 1/26"), metadata=operator)
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["referral_document"])


async def test_shl5_bed_days_stored_per_resident_and_local_date(  # type: ignore[no-untyped-def]
    stub, tokens, shelter_app
) -> None:
    """SHL-5: one row per resident and local date, open stays included (the sweeper stores
    them up to yesterday); a discharge stores the nights spent."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=5)
    # 23:30 in Astana is 18:30 UTC: the local date is the bed-day.
    with clock_at(datetime(2027, 3, 9, 23, 30, tzinfo=ASTANA)):
        ended = (await stub.Admit(admit_request(shelter_id, minors=1), metadata=operator)).stay
        still = (await stub.Admit(admit_request(shelter_id, minors=0), metadata=operator)).stay
    with clock_at(datetime(2027, 3, 12, 8, 0, tzinfo=ASTANA)):
        await stub.Discharge(
            pb.DischargeRequest(stay_id=ended.id, reason="home"), metadata=operator
        )
    assert shelter_app.sweeper is not None
    await shelter_app.sweeper.sweep_once(now=datetime(2027, 3, 13, 9, 0, tzinfo=ASTANA))

    async with shelter_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(BedDay)
                .where(col(BedDay.stay_id).in_([ended.id, still.id]))
                .order_by(col(BedDay.stay_id), col(BedDay.resident), col(BedDay.local_date))
            )
        ).all()
    days: dict[tuple[str, int], list[int]] = {}
    for row in rows:
        days.setdefault((row.stay_id, row.resident), []).append(row.local_date.day)
    assert days[(ended.id, 0)] == [9, 10, 11]
    assert days[(ended.id, 1)] == [9, 10, 11]
    assert days[(still.id, 0)] == [9, 10, 11, 12]


async def test_mon6_indicators_of_a_period(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """MON-6: occupancy per shelter and day, bed-days, stays by length, admissions with minors,
    refusals by reason, for the caller's territory; aggregates only."""
    operator = bearer(tokens["shelter.ast"])
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=3)
    with clock_at(datetime(2027, 5, 3, 11, 0, tzinfo=ASTANA)):
        family = (await stub.Admit(admit_request(shelter_id, minors=2), metadata=operator)).stay
        await refused(stub.Admit(admit_request(shelter_id, minors=0), metadata=operator))
        await stub.RecordRefusal(
            pb.RecordRefusalRequest(
                idempotency_key=uuid.uuid4().hex,
                shelter_id=shelter_id,
                adult=resident("Needs A Hospital"),
                reason=pb.REFUSAL_REASON_NEEDS_OTHER_CARE,
                referred_to="city hospital No. 1",
            ),
            metadata=operator,
        )
    with clock_at(datetime(2027, 5, 6, 11, 0, tzinfo=ASTANA)):
        await stub.Discharge(
            pb.DischargeRequest(stay_id=family.id, reason="home"), metadata=operator
        )
        report = await stub.ReportIndicators(
            pb.ReportIndicatorsRequest(from_date="2027-05-01", to_date="2027-06-01"),
            metadata=bearer(tokens["analyst.ast"]),
        )
    mine = [o for o in report.occupancy if o.shelter_id == shelter_id]
    assert [(o.date, o.occupied, o.capacity) for o in mine] == [
        ("2027-05-03", 3, 3),
        ("2027-05-04", 3, 3),
        ("2027-05-05", 3, 3),
    ]
    (beds,) = [b for b in report.bed_days if b.shelter_id == shelter_id]
    assert beds.bed_days == 9
    assert report.admissions >= 1 and report.admissions_with_minors >= 1
    assert report.minors_admitted >= 2
    by_length = {b.length: b.stays for b in report.stays_by_length}
    assert set(by_length) == {"0-7", "8-14", "15-31", "32+"}
    assert by_length["0-7"] >= 1
    reasons = {r.reason: r.refusals for r in report.refusals}
    assert reasons[pb.REFUSAL_REASON_SHELTER_FULL] >= 1
    assert reasons[pb.REFUSAL_REASON_NEEDS_OTHER_CARE] >= 1
    # A shelter operator reads no indicators; another territory is not the caller's.
    code, _r, _f, _t = await refused(
        stub.ReportIndicators(
            pb.ReportIndicatorsRequest(from_date="2027-05-01", to_date="2027-06-01"),
            metadata=operator,
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _r, fields, _t = await refused(
        stub.ReportIndicators(
            pb.ReportIndicatorsRequest(from_date="2027-06-01", to_date="2027-05-01"),
            metadata=bearer(tokens["analyst.ast"]),
        )
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["to_date"])


async def test_lists_are_scoped_to_the_territory(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    shelter_id = await new_shelter(stub, tokens["head.ast"], capacity=1)
    for call in (
        stub.GetBedBoard(
            pb.GetBedBoardRequest(shelter_id=shelter_id), metadata=bearer(tokens["shelter.ala"])
        ),
        stub.ListRefusals(
            pb.ListRefusalsRequest(shelter_id=shelter_id), metadata=bearer(tokens["shelter.ala"])
        ),
        stub.ListWaitlist(
            pb.ListWaitlistRequest(shelter_id=shelter_id), metadata=bearer(tokens["shelter.ala"])
        ),
    ):
        assert (await refused(call))[0] == grpc.StatusCode.NOT_FOUND
