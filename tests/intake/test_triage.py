"""Triage through a real gRPC channel on a real PostgreSQL, NATS and Keycloak (INT-3, INT-4,
INT-7): each action meets the term the Kazakhstan profile sets for it, on time or late as the
pinned clock says; redirections leave an event for notify's NTF-5 notice."""

from __future__ import annotations

from datetime import datetime, timedelta

import grpc
import pytest
from sqlmodel import select

from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.intake_pb2 import AppealRedirected, MobileGroupEngaged
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.outbox import OutboxEvent
from kamqor.protoconv import dt
from tests.intake.test_service import end_of
from tests.shelter.test_service import details
from tests.support.clock import ASTANA
from tests.support.factories import appeal_request
from tests.support.services import bearer

# Wednesday 30 December 2026, 17:00 in Astana: INT-3/primary is due at the end of Wednesday
# 6 January 2027, INT-3/threat and INT-3/redirect of Thursday 31 December, INT-7 of Tuesday
# 5 January (tests/intake/test_service.py says why).
REGISTERED = datetime(2026, 12, 30, 17, 0, tzinfo=ASTANA)
DECEMBER_10 = datetime(2026, 12, 10, 12, 0, tzinfo=ASTANA)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("hotline.ast", "intake.ast", "intake.ala", "caseworker.ast", "head.ast")
    return {u: keycloak.token(u) for u in users}


async def register(stub, *, threat: bool, violence: bool, token: str) -> pb.Appeal:  # type: ignore[no-untyped-def]
    with clock_at(REGISTERED):
        reply = await stub.RegisterAppeal(
            appeal_request(threat_to_life=threat, domestic_violence=violence),
            metadata=bearer(token),
        )
    return reply.appeal  # type: ignore[no-any-return]


async def triage(stub, token: str, at: datetime, **kw) -> pb.Appeal:  # type: ignore[no-untyped-def]
    with clock_at(at):
        reply = await stub.RecordTriage(pb.RecordTriageRequest(**kw), metadata=bearer(token))
    return reply.appeal  # type: ignore[no-any-return]


def duty(appeal: pb.Appeal, rule: str):  # type: ignore[no-untyped-def]
    (found,) = [o for o in appeal.obligations if o.rule == rule]
    return found


async def redirections(intake_app, appeal_id: str) -> list[AppealRedirected]:  # type: ignore[no-untyped-def]
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(
                    OutboxEvent.event_type == AppealRedirected.DESCRIPTOR.full_name
                )
            )
        ).all()
    out = []
    for row in rows:
        event = AppealRedirected()
        assert Envelope.FromString(row.body).data.Unpack(event)
        if event.appeal_id == appeal_id:
            out.append(event)
    return out


async def test_int3_primary_assessment_in_time_meets_the_term_on_time(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(stub, threat=False, violence=False, token=tokens["hotline.ast"])
    assert duty(appeal, "INT-3/primary").state == "open"
    assessed = await triage(
        stub,
        tokens["caseworker.ast"],
        datetime(2027, 1, 5, 11, 0, tzinfo=ASTANA),
        appeal_id=appeal.id,
        kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
        in_dls=True,
        note="Rent arrears; a needs assessment follows",
    )
    met = duty(assessed, "INT-3/primary")
    assert (met.state, met.on_time) == ("met", True)
    # The pinned clock ticks on from its instant.
    assert timedelta(0) <= dt(met.met_at) - datetime(2027, 1, 5, 11, 0, tzinfo=ASTANA)
    assert dt(met.met_at) - datetime(2027, 1, 5, 11, 0, tzinfo=ASTANA) < timedelta(minutes=1)
    (action,) = assessed.triage
    assert action.kind == pb.TRIAGE_KIND_PRIMARY_ASSESSMENT and action.in_dls
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["head.ast"],
            datetime(2027, 1, 5, 12, 0, tzinfo=ASTANA),
            appeal_id=appeal.id,
            kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
            in_dls=False,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "triage-done"


async def test_int3_primary_assessment_after_the_term_is_met_late(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(stub, threat=False, violence=False, token=tokens["intake.ast"])
    assessed = await triage(
        stub,
        tokens["intake.ast"],
        datetime(2027, 1, 7, 9, 0, tzinfo=ASTANA),  # Orthodox Christmas, after the 6th
        appeal_id=appeal.id,
        kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
        in_dls=False,
    )
    met = duty(assessed, "INT-3/primary")
    assert (met.state, met.on_time) == ("met", False)
    assert dt(met.due_at) == end_of(datetime(2027, 1, 6).date())


MEMBERS = [
    pb.MobileGroupMember(agency_type="education", agency="edu-ast", representative="A. Teacher"),
    pb.MobileGroupMember(agency_type="health", agency="health-ast", representative="B. Doctor"),
    pb.MobileGroupMember(agency_type="police", agency="police-ast", representative="C. Officer"),
    pb.MobileGroupMember(
        agency_type="social_protection", agency="social-ast", representative="D. Coordinator"
    ),
]


async def engaged(intake_app, appeal_id: str) -> list[MobileGroupEngaged]:  # type: ignore[no-untyped-def]
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(
                    OutboxEvent.event_type == MobileGroupEngaged.DESCRIPTOR.full_name
                )
            )
        ).all()
    out = []
    for row in rows:
        event = MobileGroupEngaged()
        assert Envelope.FromString(row.body).data.Unpack(event)
        if event.appeal_id == appeal_id:
            out.append(event)
    return out


@pytest.fixture(scope="module")
async def group_2026(stub, tokens) -> pb.MobileGroup:  # type: ignore[no-untyped-def]
    """Astana's mobile group of 2026, approved by the center head in December 2025."""
    request = pb.ApproveMobileGroupRequest(
        year=2026, approved_on="2025-12-20", order_number="No. 45-ө", members=MEMBERS
    )
    with clock_at(datetime(2025, 12, 20, 10, 0, tzinfo=ASTANA)):
        reply = await stub.ApproveMobileGroup(request, metadata=bearer(tokens["head.ast"]))
    return reply.group  # type: ignore[no-any-return]


async def test_int4_a_mobile_group_is_approved_for_a_calendar_year_with_its_agencies(  # type: ignore[no-untyped-def]
    stub, tokens, group_2026
) -> None:
    assert (group_2026.year, group_2026.territory) == (2026, "kz-ast")
    assert [m.agency_type for m in group_2026.members] == [
        "education",
        "health",
        "police",
        "social_protection",
    ]
    got = await stub.GetMobileGroup(
        pb.GetMobileGroupRequest(year=2026), metadata=bearer(tokens["caseworker.ast"])
    )
    assert got.group.id == group_2026.id
    again = pb.ApproveMobileGroupRequest(
        year=2026, approved_on="2026-01-10", order_number="No. 2", members=MEMBERS
    )
    with pytest.raises(grpc.aio.AioRpcError) as err, clock_at(DECEMBER_10):
        await stub.ApproveMobileGroup(again, metadata=bearer(tokens["head.ast"]))
    assert details(err.value)[0] == "group-approved"
    for request, field in (
        (
            pb.ApproveMobileGroupRequest(
                year=2027, approved_on="2026-12-01", order_number="No. 9", members=MEMBERS[:2]
            ),
            "members",
        ),
        (
            pb.ApproveMobileGroupRequest(
                year=2029, approved_on="2026-12-01", order_number="No. 9", members=MEMBERS
            ),
            "year",
        ),
        (
            pb.ApproveMobileGroupRequest(
                year=2027,
                approved_on="2026-12-01",
                order_number="No. 9",
                members=[*MEMBERS, pb.MobileGroupMember(agency_type="army", agency="x")],
            ),
            "members[4].agency_type",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err, clock_at(DECEMBER_10):
            await stub.ApproveMobileGroup(request, metadata=bearer(tokens["head.ast"]))
        assert details(err.value) == ("invalid", [field])
    future = pb.ApproveMobileGroupRequest(
        year=2027, approved_on="2026-12-11", order_number="No. 9", members=MEMBERS
    )
    with pytest.raises(grpc.aio.AioRpcError) as err, clock_at(DECEMBER_10):
        await stub.ApproveMobileGroup(future, metadata=bearer(tokens["head.ast"]))
    assert details(err.value) == ("invalid", ["approved_on"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ApproveMobileGroup(again, metadata=bearer(tokens["caseworker.ast"]))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_int4_a_threat_is_assessed_with_immediate_measures_int3_in_one_day(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app, group_2026
) -> None:
    """The primary assessment of a threat engages the year's mobile group (INT-4) and meets
    INT-3/threat; in 2027, with no group approved yet, it cannot."""
    appeal = await register(stub, threat=True, violence=False, token=tokens["hotline.ast"])
    at = datetime(2026, 12, 30, 19, 0, tzinfo=ASTANA)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["caseworker.ast"],
            at,
            appeal_id=appeal.id,
            kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
            in_dls=True,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", ["immediate_measures"])
    assessed = await triage(
        stub,
        tokens["caseworker.ast"],
        at,
        appeal_id=appeal.id,
        kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
        in_dls=True,
        immediate_measures="Mother and children moved to the crisis shelter tonight",
    )
    met = duty(assessed, "INT-3/threat")
    assert (met.state, met.on_time) == ("met", True)
    assert assessed.triage[0].immediate_measures.startswith("Mother and children")
    assert assessed.triage[0].mobile_group_id == group_2026.id
    (event,) = await engaged(intake_app, appeal.id)
    assert list(event.agencies) == ["edu-ast", "health-ast", "police-ast", "social-ast"]

    late = await register(stub, threat=True, violence=False, token=tokens["hotline.ast"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["caseworker.ast"],
            datetime(2027, 1, 4, 9, 0, tzinfo=ASTANA),
            appeal_id=late.id,
            kind=pb.TRIAGE_KIND_PRIMARY_ASSESSMENT,
            in_dls=True,
            immediate_measures="Police patrol sent",
        )
    assert details(err.value)[0] == "no-mobile-group"
    assert await engaged(intake_app, late.id) == []


async def test_int7_identification_redirect_meets_its_term_and_leaves_a_notice_event(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    appeal = await register(stub, threat=False, violence=True, token=tokens["hotline.ast"])
    request = pb.RecordTriageRequest(
        idempotency_key="int7-once",
        appeal_id=appeal.id,
        kind=pb.TRIAGE_KIND_IDENTIFICATION_REDIRECT,
        organisation="crisis-center-ast",
    )
    at = datetime(2027, 1, 4, 10, 0, tzinfo=ASTANA)
    with clock_at(at):
        first = await stub.RecordTriage(request, metadata=bearer(tokens["intake.ast"]))
        again = await stub.RecordTriage(request, metadata=bearer(tokens["intake.ast"]))
    assert len(first.appeal.triage) == len(again.appeal.triage) == 1
    met = duty(first.appeal, "INT-7")
    assert (met.state, met.on_time) == ("met", True)
    assert duty(first.appeal, "INT-3/primary").state == "open"
    (event,) = await redirections(intake_app, appeal.id)
    assert (event.rule, event.organisation) == ("INT-7", "crisis-center-ast")
    assert event.journal_number == appeal.journal_number

    plain = await register(stub, threat=False, violence=False, token=tokens["hotline.ast"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["intake.ast"],
            at,
            appeal_id=plain.id,
            kind=pb.TRIAGE_KIND_IDENTIFICATION_REDIRECT,
            organisation="crisis-center-ast",
        )
    assert details(err.value) == ("invalid", ["kind"])


async def test_int3_redirection_to_the_competent_organisation_counts_from_registration(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    """The need to redirect shows at triage; the term still runs from the registration: one
    working day, to the end of Thursday 31 December 2026. Redirected on 4 January: late."""
    appeal = await register(stub, threat=False, violence=False, token=tokens["hotline.ast"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["intake.ast"],
            REGISTERED,
            appeal_id=appeal.id,
            kind=pb.TRIAGE_KIND_REDIRECT,
        )
    assert details(err.value) == ("invalid", ["organisation"])
    redirected = await triage(
        stub,
        tokens["intake.ast"],
        datetime(2027, 1, 4, 10, 0, tzinfo=ASTANA),
        appeal_id=appeal.id,
        kind=pb.TRIAGE_KIND_REDIRECT,
        organisation="akimat-ast-housing",
        note="Housing: rent arrears",
    )
    met = duty(redirected, "INT-3/redirect")
    assert dt(met.due_at) == end_of(datetime(2026, 12, 31).date())
    assert (met.state, met.on_time) == ("met", False)
    (event,) = await redirections(intake_app, appeal.id)
    assert (event.rule, event.organisation) == ("INT-3/redirect", "akimat-ast-housing")


async def test_triage_is_refused_on_a_closed_case_elsewhere_and_to_the_hotline(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    appeal = await register(stub, threat=False, violence=False, token=tokens["intake.ast"])
    consult = {"appeal_id": appeal.id, "kind": pb.TRIAGE_KIND_CONSULTATION, "note": "Advice"}
    for user, code in (
        ("hotline.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("intake.ala", grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await triage(stub, tokens[user], REGISTERED, **consult)
        assert err.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(
            stub,
            tokens["intake.ast"],
            REGISTERED,
            appeal_id=appeal.id,
            kind=pb.TRIAGE_KIND_UNSPECIFIED,
        )
    assert details(err.value) == ("invalid", ["kind"])
    with clock_at(REGISTERED):
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=appeal.case_id, reason="Family moved away"),
            metadata=bearer(tokens["head.ast"]),
        )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await triage(stub, tokens["intake.ast"], REGISTERED, **consult)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "case-closed"
