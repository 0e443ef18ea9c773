"""Information requests to the data bank (REG-8, NTF-6, REG-9): a prevention body asks with a
lawful purpose of its own sphere; the registry office answers within 10 working days of
receipt with only the fields that purpose allows; the answer goes to the requester alone and
every read of it is logged. Over real gRPC with the realm's ru-irk users, clocks pinned."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import grpc
import pytest
from sqlmodel import select

from kamqor.audit import AuditRecord, touching
from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.runtime import ServiceApp
from tests.registry.chain import child, entered, irkutsk
from tests.registry.test_reviews import Users
from tests.registry.test_service import details
from tests.support.clock import IRKUTSK

NAME = "Соколов Артём Игоревич"
BORN = date(2015, 4, 3)


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


def ask(purpose: str, name: str = NAME, born: date = BORN, **kw: Any) -> pb.CreateInquiryRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "purpose": purpose,
        "reason": "individual preventive work with the minor",
        "subject_full_name": name,
        "subject_birth_date": born.isoformat(),
    }
    values.update(kw)
    return pb.CreateInquiryRequest(**values)


async def audit_rows(app: ServiceApp, entity: str) -> list[AuditRecord]:
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        return list((await session.exec(select(AuditRecord).where(touching(entity)))).all())


@pytest.fixture(scope="module")
async def family(stub, md) -> pb.Family:  # type: ignore[no-untyped-def]
    return await entered(stub, md, date(2026, 10, 5), [child(NAME, BORN, number="778899")])


async def test_reg8_police_request_answered_in_time_with_only_its_purposes_fields(  # type: ignore[no-untyped-def]
    stub, md, family, registry_app
) -> None:
    # Received on Monday 2 November 2026: 10 working days, 4 November a holiday -> 17 November.
    with clock_at(irkutsk(date(2026, 11, 2))):
        created = (
            await stub.CreateInquiry(ask("juvenile_prevention"), metadata=md("police.irk"))
        ).inquiry
    assert created.state == pb.INQUIRY_STATE_OPEN
    assert created.requester_agency == "pol-irk-1"
    (term,) = created.obligations
    assert term.rule == "REG-8"
    assert term.due_at.ToDatetime().replace(microsecond=0) == datetime(2026, 11, 17, 15, 59, 59)
    # Not even the requester's own create answer repeats the person asked about.
    assert created.subject_full_name == ""

    # The office sees it with its clock, no personal data.
    waiting = await stub.ListInquiriesToAnswer(
        pb.ListInquiriesToAnswerRequest(), metadata=md("registry.irk")
    )
    listed = {i.id: i for i in waiting.inquiries}[created.id]
    assert listed.subject_full_name == "" and not listed.HasField("answer")
    assert [o.rule for o in listed.obligations] == ["REG-8"]

    with clock_at(irkutsk(date(2026, 11, 10))):
        answered = (
            await stub.AnswerInquiry(
                pb.AnswerInquiryRequest(inquiry_id=created.id), metadata=md("registry.irk")
            )
        ).inquiry
    assert answered.state == pb.INQUIRY_STATE_ANSWERED
    assert answered.office_id == "reg-irk-1"
    assert not answered.HasField("answer")  # the answer goes to the requester only
    (met,) = answered.obligations
    assert met.state == "met" and met.on_time
    assert met.responsible_agency == "reg-irk-1"
    gone = await stub.ListInquiriesToAnswer(
        pb.ListInquiriesToAnswerRequest(), metadata=md("registry.irk")
    )
    assert created.id not in {i.id for i in gone.inquiries}

    got = (
        await stub.GetInquiry(
            pb.GetInquiryRequest(inquiry_id=created.id), metadata=md("police.irk")
        )
    ).inquiry
    assert got.subject_full_name == NAME
    answer = got.answer
    assert answer.on_record
    assert "document" in answer.fields and "work_or_study" not in answer.fields
    assert "disability" not in answer.fields
    (found,) = answer.families
    person = next(m for m in found.members if m.full_name == NAME)
    assert person.document.number == "778899"  # the police identify the minor (120-FZ art. 21)
    assert person.work_or_study == ""  # the bank has the school; this purpose does not
    assert found.grounds and found.responsible_body

    # Another body, the office itself: the request does not exist for them (REG-8).
    for other in ("education.irk", "registry.irk"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetInquiry(pb.GetInquiryRequest(inquiry_id=created.id), metadata=md(other))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND

    # Logged (REG-9): the office's read to answer and the requester's read, each with its purpose.
    rows = await audit_rows(registry_app, f"family/{family.id}")
    purposes = {(r.agency, r.purpose) for r in rows if r.action == "read"}
    assert ("reg-irk-1", "REG-8 answer: juvenile_prevention") in purposes
    assert ("pol-irk-1", "REG-8 answer read: juvenile_prevention") in purposes


async def test_reg8_education_purpose_discloses_schooling_and_no_documents(  # type: ignore[no-untyped-def]
    stub, md, family
) -> None:
    with clock_at(irkutsk(date(2026, 11, 3))):
        created = (
            await stub.CreateInquiry(ask("education_support"), metadata=md("education.irk"))
        ).inquiry
        await stub.AnswerInquiry(
            pb.AnswerInquiryRequest(inquiry_id=created.id), metadata=md("registry.irk")
        )
    answer = (
        await stub.GetInquiry(
            pb.GetInquiryRequest(inquiry_id=created.id), metadata=md("education.irk")
        )
    ).inquiry.answer
    person = next(m for m in answer.families[0].members if m.full_name == NAME)
    assert person.work_or_study == "МБОУ СОШ № 5"
    assert not person.HasField("document")
    assert person.actual_address == "" and person.birth_place == ""
    assert answer.families[0].grounds == ""  # not this purpose's


async def test_reg8_a_person_not_on_record_is_answered_so_and_late_is_late(  # type: ignore[no-untyped-def]
    stub, md
) -> None:
    with clock_at(irkutsk(date(2026, 11, 2))):
        created = (
            await stub.CreateInquiry(
                ask("child_rights_protection", name="Нет Такого Человека"),
                metadata=md("guardianship.irk"),
            )
        ).inquiry
    with clock_at(irkutsk(date(2026, 11, 18))):
        answered = (
            await stub.AnswerInquiry(
                pb.AnswerInquiryRequest(inquiry_id=created.id), metadata=md("registry.irk")
            )
        ).inquiry
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.AnswerInquiry(
                pb.AnswerInquiryRequest(inquiry_id=created.id), metadata=md("registry.irk")
            )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "inquiry-answered"
    assert answered.obligations[0].on_time is False
    got = (
        await stub.GetInquiry(
            pb.GetInquiryRequest(inquiry_id=created.id), metadata=md("guardianship.irk")
        )
    ).inquiry
    assert not got.answer.on_record and not got.answer.families


async def test_reg8_a_request_without_a_lawful_purpose_is_refused_and_nothing_written(  # type: ignore[no-untyped-def]
    stub, md
) -> None:
    async def own(user: str) -> int:
        return len(
            (await stub.ListOwnInquiries(pb.ListOwnInquiriesRequest(), metadata=md(user))).inquiries
        )

    before = await own("police.irk")
    cases = [
        ("police.irk", ask("education_support"), "purpose"),  # another body's sphere
        ("police.irk", ask("curiosity"), "purpose"),  # not on the list
        ("police.irk", ask("juvenile_prevention", subject_full_name=" "), "subject_full_name"),
        ("police.irk", ask("juvenile_prevention", reason=""), "reason"),
        ("registry.irk", ask("juvenile_prevention"), "purpose"),  # a body type with none
    ]
    with clock_at(datetime(2026, 11, 2, 10, tzinfo=IRKUTSK)):
        for user, request, field in cases:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.CreateInquiry(request, metadata=md(user))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (user, field)
            assert field in details(err.value)[1]
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.CreateInquiry(ask("juvenile_prevention"), metadata=md("commission.irk"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await own("police.irk") == before


async def test_reg8_a_retried_request_is_one_request(stub, md) -> None:  # type: ignore[no-untyped-def]
    request = ask("juvenile_prevention")
    with clock_at(irkutsk(date(2026, 11, 5))):
        first = await stub.CreateInquiry(request, metadata=md("police.irk"))
        again = await stub.CreateInquiry(request, metadata=md("police.irk"))
    assert first.inquiry.id == again.inquiry.id
    mine = await stub.ListOwnInquiries(pb.ListOwnInquiriesRequest(), metadata=md("police.irk"))
    assert [i.id for i in mine.inquiries].count(first.inquiry.id) == 1
