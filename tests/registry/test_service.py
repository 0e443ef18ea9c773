"""Data bank use cases on a real PostgreSQL, NATS and Keycloak.

Through the gRPC channel: what the demo realm's Kazakhstan users can do (the data bank does not
exist there), and the Irkutsk round trip with the realm's ru-irk users
(`test_irkutsk_round_trip_over_grpc`). The rest of the Irkutsk life cycle runs the use cases on
the same running service's database with ru-irk principals built in `factories`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlmodel import col, select

from kamqor.audit import AuditRecord
from kamqor.clock import clock_at
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.grpcserver import STATUS_DETAILS_KEY
from kamqor.outbox import OutboxEvent
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc
from kamqor.runtime import ServiceApp
from registry import service
from registry.models import Family
from registry.rules import DecisionState, FamilyState, Hearing, Vote
from tests.registry.factories import (
    ANALYST,
    AUDITOR,
    CASEWORKER,
    COMMISSION,
    OFFICE,
    SCHOOL,
    deregistration,
    minor,
    mother,
    registration,
    registration_request,
    today,
)
from tests.support.clock import IRKUTSK
from tests.support.services import bearer

Stub = registry_pb2_grpc.RegistryServiceStub


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("commission.ast", "caseworker.ast", "analyst.ast")}


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


class Bank:
    """The use cases on the running service's own database, one unit of work per call."""

    def __init__(self, app: ServiceApp) -> None:
        assert app.wiring is not None
        self.uow = app.wiring.uow

    async def __call__(self, use_case: Any, **kw: Any) -> Any:
        async with self.uow() as session:
            return await use_case(session, **kw)

    async def registered(self, **kw: Any) -> service.FamilyView:
        view = await self(
            service.record_registration_decision, principal=COMMISSION, **registration(**kw)
        )
        decision_id = view.decisions[0].decision.id
        await self(service.receive_decision, principal=OFFICE, decision_id=decision_id)
        entered: service.FamilyView = await self(
            service.enter_family, principal=OFFICE, decision_id=decision_id
        )
        return entered

    async def search(self, principal: Any = CASEWORKER, **kw: Any) -> list[str]:
        values: dict[str, Any] = {
            "name": "",
            "birth_date": None,
            "purpose": "check before a home visit",
            "page_size": 0,
            "page_token": "",
        }
        values.update(kw)
        hits, _ = await self(service.search_families, principal=principal, **values)
        return [h.family.id for h in hits]


@pytest.fixture(scope="module")
def bank(registry_app: ServiceApp) -> Bank:
    return Bank(registry_app)


# --- over gRPC, with the realm's (Kazakhstan) users -------------------------------------------


async def test_reg_rules_exist_only_where_the_profile_has_them(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RecordRegistrationDecision(
            registration_request(), metadata=bearer(tokens["commission.ast"])
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "no-registry-rule"
    assert "REG-3" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SearchFamilies(
            pb.SearchFamiliesRequest(name="Иванов", purpose="check"),
            metadata=bearer(tokens["caseworker.ast"]),
        )
    assert details(err.value)[0] == "no-registry-rule"


async def test_reg2_only_commission_members_record_decisions(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RecordRegistrationDecision(
            registration_request(), metadata=bearer(tokens["caseworker.ast"])
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_reg9_analysts_have_no_need_to_search_the_bank(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SearchFamilies(
            pb.SearchFamiliesRequest(name="Иванов", purpose="curiosity"),
            metadata=bearer(tokens["analyst.ast"]),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_bad_dates_name_the_field(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    for kw, field in (
        ({"decided_on": "yesterday"}, "decided_on"),
        ({"review_on": ""}, "review_on"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RecordRegistrationDecision(
                registration_request(**kw), metadata=bearer(tokens["commission.ast"])
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value)[1] == [field]


async def test_unauthenticated_calls_are_refused(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetFamily(pb.GetFamilyRequest(family_id="x", purpose="x"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_irkutsk_round_trip_over_grpc(stub, keycloak) -> None:  # type: ignore[no-untyped-def]
    users = {
        "commission": "commission.irk",
        "office": "registry.irk",
        "caseworker": "caseworker.irk",
    }
    tok = {k: keycloak.token(u) for k, u in users.items()}
    resp = await stub.RecordRegistrationDecision(
        registration_request(), metadata=bearer(tok["commission"])
    )
    decision_id = resp.decision.id
    await stub.ReceiveDecision(
        pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=bearer(tok["office"])
    )
    entered = await stub.EnterFamily(
        pb.EnterFamilyRequest(decision_id=decision_id), metadata=bearer(tok["office"])
    )
    assert entered.family.state == pb.FAMILY_STATE_REGISTERED
    found = await stub.SearchFamilies(
        pb.SearchFamiliesRequest(name="иванов пётр", purpose="home visit"),
        metadata=bearer(tok["caseworker"]),
    )
    assert entered.family.id in [f.id for f in found.families]


# --- Irkutsk, through the use cases -------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_at", "send_due", "review_due"),
    [
        # Tuesday 30 December 2025: 31 December is off (transferred from Sunday 5 January 2025),
        # 1-8 January are the New Year holidays, Friday 9 January 2026 is off (transferred from
        # Saturday 3 January): the 7 working days are 12-16 and 19-20 January.
        (datetime(2025, 12, 30, 10, 0, tzinfo=IRKUTSK), date(2026, 1, 20), date(2026, 6, 30)),
        # Wednesday 30 December 2026: Thursday 31 December is off (transferred from Sunday
        # 4 January 2026), 1-8 January 2027 the holidays, 9-10 a weekend: 11-15 and 18-19 January.
        (datetime(2026, 12, 30, 10, 0, tzinfo=IRKUTSK), date(2027, 1, 19), date(2027, 6, 30)),
    ],
)
async def test_reg2_reg3_reg4_a_registration_decision_opens_its_terms(  # type: ignore[no-untyped-def]
    bank, decided_at, send_due, review_due
) -> None:
    """REG-4/send: 7 working days across the New Year holidays and Russia's transferred days off;
    REG-3: the review no later than 6 months after the registration."""
    with clock_at(decided_at):
        view = await bank(
            service.record_registration_decision, principal=COMMISSION, **registration()
        )
    family, decision = view.family, view.decisions[0]
    assert family.state == FamilyState.PENDING
    assert decision.decision.state == DecisionState.RECORDED
    assert (decision.decision.members_present, decision.decision.votes_for) == (7, 5)
    arose_at = decision.obligations[0].arose_at
    assert arose_at.astimezone(IRKUTSK).date() == decided_at.date()
    send = {o.rule: o for o in decision.obligations}["REG-4/send"]
    assert send.due_at == datetime.combine(send_due, time.max, tzinfo=IRKUTSK)
    assert send.responsible_agency == "com-irk-1"
    review = {o.rule: o for o in view.obligations}["REG-3"]
    assert review.due_at == datetime.combine(review_due, time.max, tzinfo=IRKUTSK)
    assert [m.full_name for m in view.members] == [
        "Иванов Пётр Сергеевич",
        "Иванова Мария Петровна",
    ]


async def test_reg2_without_a_majority_of_members_present_nothing_is_written(bank) -> None:  # type: ignore[no-untyped-def]
    async with bank.uow() as session:
        before = len((await session.exec(select(Family.id))).all())
    with pytest.raises(Conflict) as err:
        await bank(
            service.record_registration_decision,
            principal=COMMISSION,
            **registration(
                vote=Vote(members_present=9, votes_for=4, votes_against=1),
                minors=[minor("Незаписанный Олег")],
            ),
        )
    assert err.value.code == "no-majority"
    async with bank.uow() as session:
        assert len((await session.exec(select(Family.id))).all()) == before


async def test_reg2_the_minors_opinion_is_heard_first(bank) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as err:
        await bank(
            service.record_registration_decision,
            principal=COMMISSION,
            **registration(hearing=Hearing(True, False, True)),
        )
    assert err.value.field == "hearing.minor_opinion_heard"


async def test_reg3_review_later_than_six_months_is_refused(bank) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as err:
        await bank(
            service.record_registration_decision,
            principal=COMMISSION,
            **registration(review_on=today() + timedelta(days=200)),
        )
    assert err.value.field == "review_on"


async def test_registration_retry_with_same_key_returns_the_first(bank) -> None:  # type: ignore[no-untyped-def]
    kw = registration()
    first = await bank(service.record_registration_decision, principal=COMMISSION, **kw)
    again = await bank(service.record_registration_decision, principal=COMMISSION, **kw)
    assert first.family.id == again.family.id
    assert len(again.decisions) == 1


async def test_reg4_office_receipt_meets_send_and_entry_makes_the_family_searchable(bank) -> None:  # type: ignore[no-untyped-def]
    name = "Петров Кирилл Андреевич"
    view = await bank(
        service.record_registration_decision,
        principal=COMMISSION,
        **registration(minors=[minor(name)]),
    )
    decision_id = view.decisions[0].decision.id
    assert await bank.search(name="петров кирилл") == []  # not entered yet
    with pytest.raises(Conflict) as err:
        await bank(service.enter_family, principal=OFFICE, decision_id=decision_id)
    assert err.value.code == "not-received"
    with pytest.raises(Forbidden):
        await bank(service.receive_decision, principal=CASEWORKER, decision_id=decision_id)
    received = await bank(service.receive_decision, principal=OFFICE, decision_id=decision_id)
    rows = {o.rule: o for o in received.obligations}
    assert rows["REG-4/send"].state == "met" and rows["REG-4/send"].on_time
    assert rows["REG-4/enter"].state == "open"
    assert rows["REG-4/enter"].responsible_agency == "reg-irk-1"
    entered = await bank(service.enter_family, principal=OFFICE, decision_id=decision_id)
    assert entered.family.state == FamilyState.REGISTERED
    enter = {o.rule: o for o in entered.decisions[0].obligations}["REG-4/enter"]
    assert enter.state == "met" and enter.on_time
    assert await bank.search(name="  ПЕТРОВ   Кирилл ") == [view.family.id]
    assert view.family.id in await bank.search(birth_date=minor().birth_date)


async def test_reg9_reads_are_on_need_to_know_and_logged_with_their_purpose(bank) -> None:  # type: ignore[no-untyped-def]
    family_id = (await bank.registered()).family.id
    got = await bank(
        service.get_family, principal=CASEWORKER, family_id=family_id, purpose="home visit plan"
    )
    assert got.family.id == family_id
    with pytest.raises(Forbidden):  # a role that never reads the bank: refused before reading
        await bank(service.get_family, principal=ANALYST, family_id=family_id, purpose="x")
    with pytest.raises(NotFound):  # no need to know: the same answer as a missing family
        await bank(service.get_family, principal=SCHOOL, family_id=family_id, purpose="x")
    with pytest.raises(Invalid):
        await bank(service.get_family, principal=CASEWORKER, family_id=family_id, purpose=" ")
    async with bank.uow() as session:
        reads = (
            await session.exec(
                select(AuditRecord)
                .where(AuditRecord.entity == f"family/{family_id}")
                .where(AuditRecord.action == "read")
            )
        ).all()
    assert [(r.actor, r.purpose) for r in reads] == [(CASEWORKER.subject, "home visit plan")]


async def test_reg6_deregistered_family_drops_out_of_every_search(bank) -> None:  # type: ignore[no-untyped-def]
    name = "Сидоров Иван Ильич"
    family_id = (await bank.registered(minors=[minor(name)])).family.id
    assert await bank.search(name="сидоров") == [family_id]
    decision = await bank(
        service.record_deregistration, principal=COMMISSION, **deregistration(family_id)
    )
    assert {o.rule: o.state for o in decision.obligations} == {"REG-6/send": "open"}
    with pytest.raises(Conflict) as err:
        await bank(service.record_deregistration, principal=COMMISSION, **deregistration(family_id))
    assert err.value.code == "deregistration-pending"
    assert await bank.search(name="сидоров") == [family_id]  # still on record until removed
    decision_id = decision.decision.id
    await bank(service.receive_decision, principal=OFFICE, decision_id=decision_id)
    removed = await bank(service.remove_family, principal=OFFICE, decision_id=decision_id)
    assert {o.rule: o.state for o in removed.obligations} == {
        "REG-6/send": "met",
        "REG-6/enter": "met",
    }
    for reader in (CASEWORKER, COMMISSION, OFFICE):
        assert await bank.search(reader, name="сидоров") == []
        with pytest.raises(NotFound):
            await bank(service.get_family, principal=reader, family_id=family_id, purpose="x")
    archived = await bank(
        service.get_family, principal=AUDITOR, family_id=family_id, purpose="REG-6 archive audit"
    )
    assert archived.family.state == FamilyState.DEREGISTERED
    review = {o.rule: o for o in archived.obligations}["REG-3"]
    assert review.state == "met"


async def test_events_carry_ids_and_counts_never_personal_data(bank) -> None:  # type: ignore[no-untyped-def]
    name = "Уникальнова Алиса"
    family_id = (await bank.registered(minors=[minor(name)], relatives=[mother()])).family.id
    async with bank.uow() as session:
        events = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).like("kamqor.registry.%"))
            )
        ).all()
    subjects = {e.subject for e in events}
    assert {
        "kamqor.registry.decision.recorded",
        "kamqor.registry.decision.received",
        "kamqor.registry.family.registered",
    } <= subjects
    assert any(family_id.encode() in e.body for e in events)
    for e in events:
        assert name.encode() not in e.body
        assert "Иванова".encode() not in e.body


async def test_name_search_forgives_typos_scripts_and_kazakh_letters(bank) -> None:  # type: ignore[no-untyped-def]
    """Trigram search (migration 0005): `маскимов` finds Максимов, Latin finds Cyrillic, Kazakh
    letters written plainly find them; the closest name ranks first; birth date narrows."""
    exact = (await bank.registered(minors=[minor("Максимов Тимур Русланович")])).family.id
    near = (await bank.registered(minors=[minor("Максимовская Дана Русланова")])).family.id
    kazakh = (await bank.registered(minors=[minor("Нұрғалиева Әсел Ерланқызы")])).family.id

    typo = await bank.search(name="маскимов")
    assert exact in typo
    assert (await bank.search(name="МАСКИМОВ тимур"))[0] == exact
    assert (await bank.search(name="Maksimov Timur"))[0] == exact
    assert (await bank.search(name="Maximov Timur"))[0] == exact
    assert near in await bank.search(name="максимовская")
    assert await bank.search(name="нургалиева асель") == [kazakh]
    assert await bank.search(name="Nurgalieva Asel") == [kazakh]
    born = minor().birth_date
    assert exact in await bank.search(name="максимов", birth_date=born)
    assert await bank.search(name="максимов", birth_date=born - timedelta(days=1)) == []
    assert await bank.search(name="совершенно другой") == []


async def test_a_search_page_is_one_audit_row_naming_every_family(bank) -> None:  # type: ignore[no-untyped-def]
    first = (await bank.registered(minors=[minor("Страницын Олег")])).family.id
    second = (await bank.registered(minors=[minor("Страницына Ольга")])).family.id
    found = await bank.search(name="страницын", purpose="page audit check")
    assert {first, second} <= set(found)
    async with bank.uow() as session:
        rows = (
            await session.exec(select(AuditRecord).where(AuditRecord.purpose == "page audit check"))
        ).all()
    assert len(rows) == 1
    assert rows[0].entity == "family/*"
    assert set(rows[0].entities) == {f"family/{f}" for f in found}
