"""The case after triage through a real gRPC channel on a real PostgreSQL, NATS and Keycloak:
its assessment (INT-5, INT-6: consent or refusal, the Irkutsk support contract and the
commission's resolution, a support level per person with the signs from the profile's catalogue,
and the needs assessment event plans consume), the home inspection report (INT-8), and the
responsible case worker with the caseload report (INT-9, MON-4)."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import grpc
import pytest
from sqlmodel import select

from intake import rules, service
from kamqor.auth import Principal
from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.intake_pb2 import NeedsAssessed
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.outbox import OutboxEvent
from kamqor.runtime import ServiceApp
from tests.intake.test_families import child, mother, register, unique_birth
from tests.shelter.test_service import details
from tests.support.clock import ASTANA
from tests.support.services import bearer

RNG = random.Random()
# The demo realm has no intake operator in Irkutsk: the entry is registered on the service's
# database as one; the case worker then assesses it over gRPC with her own token.
IRKUTSK_OPERATOR = Principal(
    subject="intake.irk-subject",
    username="intake.irk",
    roles=frozenset({"intake-operator"}),
    agency="fc-irk-1",
    agency_type="family_center",
    territory="ru-irk",
    client_id="tests",
    token="not-a-token",
)
AT = datetime(2026, 11, 23, 10, 0, tzinfo=ASTANA)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("intake.ast", "caseworker.ast", "caseworker.irk", "head.irk", "head.ast", "intake.ala")
    return {u: keycloak.token(u) for u in users}


async def irkutsk_case(intake_app: ServiceApp) -> tuple[str, list[str]]:
    """(case id, member ids: mother, child) of a new Irkutsk family."""
    born = unique_birth(RNG)
    with clock_at(AT):
        async with intake_app.wiring.uow() as session:
            view = await service.register_appeal(
                session,
                principal=IRKUTSK_OPERATOR,
                channel=rules.Channel.IN_PERSON,
                summary="A mother asks for help: no income since her husband left",
                persons=[
                    rules.PersonIn("Петрова Анна", rules.Relation.MOTHER, born),
                    rules.PersonIn("Петров Иван", rules.Relation.CHILD, date(2019, 5, 1)),
                ],
                threat_to_life=False,
                domestic_violence=False,
                idempotency_key="",
            )
    assert view.case is not None and view.family is not None
    return view.case.case_id, [view.family.members[p.id].id for p in view.persons]


async def assess(stub, token: str, **kw: Any) -> pb.Case:  # type: ignore[no-untyped-def]
    with clock_at(AT):
        reply = await stub.AssessCase(pb.AssessCaseRequest(**kw), metadata=bearer(token))
    return reply.case  # type: ignore[no-any-return]


async def refused(stub, token: str, field: str, **kw: Any) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assess(stub, token, **kw)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", [field])


async def needs_assessed(intake_app: ServiceApp, case_id: str) -> list[NeedsAssessed]:
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(
                    OutboxEvent.event_type == NeedsAssessed.DESCRIPTOR.full_name
                )
            )
        ).all()
    out = []
    for row in rows:
        event = NeedsAssessed()
        assert Envelope.FromString(row.body).data.Unpack(event)
        if event.case_id == case_id:
            out.append(event)
    return out


async def test_int5_irkutsk_dls_proceeds_on_consent_with_a_support_contract(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    case_id, (mother_id, child_id) = await irkutsk_case(intake_app)
    worker = tokens["caseworker.irk"]
    levels = [
        pb.SupportLevel(person_id=mother_id, level="crisis", signs=["parent_child_conflict"]),
        pb.SupportLevel(person_id=child_id, level="basic", signs=["post_divorce"]),
    ]
    dls = {"case_id": case_id, "outcome": pb.OUTCOME_DLS, "levels": levels}
    await refused(stub, worker, "consent", consent=pb.CONSENT_NOT_REQUIRED, **dls)
    await refused(stub, worker, "support_contract", consent=pb.CONSENT_GIVEN, **dls)
    assert await needs_assessed(intake_app, case_id) == []

    case = await assess(
        stub, worker, consent=pb.CONSENT_GIVEN, support_contract="SC-2026/117", **dls
    )
    (assessment,) = case.assessments
    assert assessment.proceeds and assessment.support_contract == "SC-2026/117"
    assert [(lv.person_id, lv.level) for lv in assessment.levels] == [
        (mother_id, "crisis"),
        (child_id, "basic"),
    ]
    (event,) = await needs_assessed(intake_app, case_id)
    assert (event.outcome, event.assessment_id) == ("dls", assessment.id)
    assert {(lv.person_id, lv.level) for lv in event.levels} == {
        (mother_id, "crisis"),
        (child_id, "basic"),
    }


async def test_int5_a_refusal_is_recorded_and_no_support_follows(stub, tokens, intake_app) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = await irkutsk_case(intake_app)
    case = await assess(
        stub,
        tokens["caseworker.irk"],
        case_id=case_id,
        outcome=pb.OUTCOME_DLS,
        consent=pb.CONSENT_REFUSED,
        notes="The mother declines support for now",
    )
    (assessment,) = case.assessments
    assert assessment.consent == pb.CONSENT_REFUSED and not assessment.proceeds
    assert await needs_assessed(intake_app, case_id) == []


async def test_int6_an_sdp_family_in_irkutsk_is_supported_at_the_emergency_level(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    case_id, (mother_id, child_id) = await irkutsk_case(intake_app)
    head = tokens["head.irk"]
    sdp = {"case_id": case_id, "outcome": pb.OUTCOME_SDP, "consent": pb.CONSENT_NOT_REQUIRED}
    emergency = [
        pb.SupportLevel(person_id=mother_id, level="emergency", signs=["minor_parents"]),
        pb.SupportLevel(person_id=child_id, level="emergency", signs=["hostility"]),
    ]
    await refused(stub, head, "resolution", levels=emergency, **sdp)
    crisis = [
        emergency[0],
        pb.SupportLevel(person_id=child_id, level="crisis", signs=["neglect"]),
    ]
    await refused(stub, head, "levels[1].level", resolution="KDN-17", levels=crisis, **sdp)
    wrong_sign = [pb.SupportLevel(person_id=mother_id, level="emergency", signs=["neglect"])]
    await refused(stub, head, "levels[0].signs", resolution="KDN-17", levels=wrong_sign, **sdp)
    stranger = [pb.SupportLevel(person_id=case_id, level="emergency", signs=["hostility"])]
    await refused(stub, head, "levels[0].person_id", resolution="KDN-17", levels=stranger, **sdp)
    await refused(stub, head, "levels", resolution="KDN-17", **sdp)
    case = await assess(stub, head, resolution="KDN-17", levels=emergency, **sdp)
    assert case.assessments[0].proceeds
    (event,) = await needs_assessed(intake_app, case_id)
    assert event.outcome == "sdp" and {lv.level for lv in event.levels} == {"emergency"}


async def test_int5_kazakhstan_dls_on_consent_without_levels_and_closed_cases_refused(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    """Kazakhstan's profile sets no support levels (INT-6 is Irkutsk's): none are taken."""
    appeal = await register(
        stub,
        tokens["intake.ast"],
        [mother("Сарсенова Жанна", unique_birth(RNG)), child("Сарсенов Нурлан", date(2018, 1, 9))],
    )
    worker = tokens["caseworker.ast"]
    member = appeal.persons[0].person_id
    await refused(
        stub,
        worker,
        "levels",
        case_id=appeal.case_id,
        outcome=pb.OUTCOME_DLS,
        consent=pb.CONSENT_GIVEN,
        levels=[pb.SupportLevel(person_id=member, level="crisis", signs=["neglect"])],
    )
    case = await assess(
        stub, worker, case_id=appeal.case_id, outcome=pb.OUTCOME_DLS, consent=pb.CONSENT_GIVEN
    )
    assert case.assessments[0].proceeds
    assert len(await needs_assessed(intake_app, appeal.case_id)) == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assess(
            stub,
            tokens["intake.ast"],
            case_id=appeal.case_id,
            outcome=pb.OUTCOME_NONE,
            consent=pb.CONSENT_NOT_REQUIRED,
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with clock_at(AT):
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=appeal.case_id, reason="Support declined later"),
            metadata=bearer(worker),
        )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assess(
            stub,
            worker,
            case_id=appeal.case_id,
            outcome=pb.OUTCOME_NONE,
            consent=pb.CONSENT_NOT_REQUIRED,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "case-closed"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assess(
            stub,
            tokens["caseworker.irk"],
            case_id=appeal.case_id,
            outcome=pb.OUTCOME_NONE,
            consent=pb.CONSENT_NOT_REQUIRED,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def sdp_case(stub, tokens, intake_app) -> str:  # type: ignore[no-untyped-def]
    """An Irkutsk case assessed in an SDP: emergency level (INT-6)."""
    case_id, (mother_id, child_id) = await irkutsk_case(intake_app)
    await assess(
        stub,
        tokens["head.irk"],
        case_id=case_id,
        outcome=pb.OUTCOME_SDP,
        consent=pb.CONSENT_NOT_REQUIRED,
        resolution="KDN-21",
        levels=[
            pb.SupportLevel(person_id=mother_id, level="emergency", signs=["minor_parents"]),
            pb.SupportLevel(person_id=child_id, level="emergency", signs=["hostility"]),
        ],
    )
    return case_id


async def assign(stub, token: str, case_id: str, worker: str) -> pb.AssignCaseWorkerResponse:  # type: ignore[no-untyped-def]
    with clock_at(AT):
        return await stub.AssignCaseWorker(  # type: ignore[no-any-return]
            pb.AssignCaseWorkerRequest(case_id=case_id, worker=worker), metadata=bearer(token)
        )


async def test_int9_past_the_recommended_caseload_is_allowed_warned_and_counted_mon4(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    """INT-9: Irkutsk recommends at most 6 emergency families per case worker: the 7th is
    assigned with a warning recorded with who decided, and MON-4 reports 7 against 6."""
    head = tokens["head.irk"]
    worker = f"worker-{RNG.randrange(10**6)}"
    case_ids = [await sdp_case(stub, tokens, intake_app) for _ in range(7)]
    for n, case_id in enumerate(case_ids[:6], start=1):
        reply = await assign(stub, head, case_id, worker)
        assert reply.warning == "" and reply.case.worker.caseload == n
        assert reply.case.worker.recommended == 6
    seventh = await assign(stub, head, case_ids[6], worker)
    assert "past the recommended 6" in seventh.warning
    decided = seventh.case.worker
    assert (decided.worker, decided.level, decided.caseload) == (worker, "emergency", 7)
    assert decided.over_recommendation and decided.assigned_by

    report = await stub.GetCaseloadReport(pb.GetCaseloadReportRequest(), metadata=bearer(head))
    (row,) = [r for r in report.rows if r.worker == worker]
    assert (row.level, row.cases, row.recommended, row.over, row.assigned_over) == (
        "emergency",
        7,
        6,
        True,
        1,
    )

    # One responsible worker per case: a new one replaces the first; a closed case leaves.
    other = f"{worker}-b"
    moved = await assign(stub, head, case_ids[0], other)
    assert moved.case.worker.worker == other and moved.warning == ""
    with clock_at(AT):
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=case_ids[1], reason="Resolved"), metadata=bearer(head)
        )
    report = await stub.GetCaseloadReport(pb.GetCaseloadReportRequest(), metadata=bearer(head))
    counts = {r.worker: (r.cases, r.over) for r in report.rows if r.worker.startswith(worker)}
    assert counts == {worker: (5, False), other: (1, False)}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assign(stub, head, case_ids[1], other)
    assert details(err.value)[0] == "case-closed"


async def test_int9_only_the_center_head_assigns_and_kazakhstan_has_no_figures(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    appeal = await register(
        stub, tokens["intake.ast"], [mother("Tokayeva Aida", unique_birth(RNG))]
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assign(stub, tokens["caseworker.ast"], appeal.case_id, "caseworker.ast")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assign(stub, tokens["head.irk"], appeal.case_id, "caseworker.irk")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await assign(stub, tokens["head.ast"], appeal.case_id, "  ")
    assert details(err.value) == ("invalid", ["worker"])
    reply = await assign(stub, tokens["head.ast"], appeal.case_id, "caseworker.ast")
    assert reply.warning == "" and not reply.case.worker.HasField("recommended")


async def test_int8_the_home_inspection_report_goes_into_the_case_file(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """INT-8: the case worker's visit, from the case's opening day, never in the future."""
    appeal = await register(stub, tokens["intake.ast"], [mother("Aliyeva Dina", unique_birth(RNG))])
    worker = tokens["caseworker.ast"]

    async def visit(token: str, visited_on: str, findings: str) -> pb.Case:
        with clock_at(AT):
            reply = await stub.RecordHomeVisit(
                pb.RecordHomeVisitRequest(
                    case_id=appeal.case_id, visited_on=visited_on, findings=findings
                ),
                metadata=bearer(token),
            )
        return reply.case  # type: ignore[no-any-return]

    for visited_on, findings, field in (
        ("2026-11-24", "Two rooms", "visited_on"),  # tomorrow
        ("2026-11-22", "Two rooms", "visited_on"),  # before the case was opened
        ("2026-11-23", "   ", "findings"),
        ("23.11.2026", "Two rooms", "visited_on"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await visit(worker, visited_on, findings)
        assert details(err.value) == ("invalid", [field])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await visit(tokens["intake.ast"], "2026-11-23", "Two rooms")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    case = await visit(worker, "2026-11-23", "Two rooms, heated;\nfood for the week")
    (report,) = case.home_visits
    assert (report.visited_on, report.findings) == (
        "2026-11-23",
        "Two rooms, heated;\nfood for the week",
    )
    assert report.recorded_by
