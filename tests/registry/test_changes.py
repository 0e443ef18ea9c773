"""Changes in a family's data (REG-5): reported by the responsible body within 7 working days,
entered by the registry office within 3, every field's history kept. Over real gRPC with the
demo realm's Irkutsk users, on a real PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

import grpc
import pytest

from kamqor.clock import clock_at
from kamqor.registry.v1 import registry_pb2 as pb
from tests.registry.factories import review_request
from tests.registry.test_reviews import Users, family, irkutsk, registered
from tests.registry.test_service import details
from tests.support.clock import IRKUTSK

NEW_ADDRESS = "г. Иркутск, ул. Карла Маркса, д. 5, кв. 1"  # noqa: RUF001 - Cyrillic on purpose


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


def change_request(
    family_id: str, changed_on: str, *fields: pb.FieldChange
) -> pb.ReportChangeRequest:
    return pb.ReportChangeRequest(
        idempotency_key=uuid.uuid4().hex,
        family_id=family_id,
        changed_on=changed_on,
        fields=list(fields),
    )


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=IRKUTSK)


async def test_reg1_reg5_a_change_is_reported_entered_and_its_history_kept(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 3, 2), date(2026, 8, 31))
    minor = found.minors[0]
    assert minor.id
    # REG-1: the fields a change may carry are the bank's contents, the responsible body included.
    # The family moved on Wednesday 1 April; the center reports it a week later.
    with clock_at(irkutsk(date(2026, 4, 8))):
        reply = await stub.ReportChange(
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(member_id=minor.id, field="actual_address", value=NEW_ADDRESS),
                pb.FieldChange(member_id=minor.id, field="disability", value="true"),
                pb.FieldChange(field="responsible_body", value="Центр г. Ангарска"),  # noqa: RUF001
            ),
            metadata=md("caseworker.irk"),
        )
        change = reply.change
        assert change.state == "reported" and change.reporting_agency == "fc-irk-1"
        terms = {o.rule: o for o in change.obligations}
        # 7 working days from 1 April end on Friday 10 April: met on time.
        assert terms["REG-5/send"].due_at.ToDatetime(IRKUTSK) == end_of(date(2026, 4, 10))
        assert (terms["REG-5/send"].state, terms["REG-5/send"].on_time) == ("met", True)
        # The office's 3 working days from the report end on Monday 13 April.
        assert terms["REG-5/enter"].due_at.ToDatetime(IRKUTSK) == end_of(date(2026, 4, 13))
        assert terms["REG-5/enter"].state == "open"
        assert terms["REG-5/enter"].responsible_agency == "reg-irk-1"
        inbox = await stub.ListOfficeInbox(pb.ListOfficeInboxRequest(), metadata=md("registry.irk"))
        assert change.id in [c.id for c in inbox.changes]
        # Reported is not entered: the bank still has the old data.
        assert (await family(stub, md, found.id)).minors[0].actual_address == minor.actual_address
    with clock_at(irkutsk(date(2026, 4, 9))):
        entered = await stub.EnterChange(
            pb.EnterChangeRequest(change_id=change.id), metadata=md("registry.irk")
        )
        assert entered.change.state == "entered"
        enter = {o.rule: o for o in entered.change.obligations}["REG-5/enter"]
        assert (enter.state, enter.on_time) == ("met", True)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.EnterChange(
                pb.EnterChangeRequest(change_id=change.id), metadata=md("registry.irk")
            )
        assert details(err.value)[0] == "change-entered"
        inbox = await stub.ListOfficeInbox(pb.ListOfficeInboxRequest(), metadata=md("registry.irk"))
        assert change.id not in [c.id for c in inbox.changes]
    after = await family(stub, md, found.id)
    assert after.minors[0].actual_address == NEW_ADDRESS
    assert after.minors[0].disability
    assert after.responsible_body == "Центр г. Ангарска"  # noqa: RUF001
    assert [(h.member_id, h.field, h.old_value, h.new_value) for h in after.history] == [
        (minor.id, "actual_address", minor.actual_address, NEW_ADDRESS),
        (minor.id, "disability", "false", "true"),
        ("", "responsible_body", found.responsible_body, "Центр г. Ангарска"),  # noqa: RUF001
    ]
    assert {h.change_id for h in after.history} == {change.id}


async def test_reg5_a_late_report_is_recorded_late(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 3, 2), date(2026, 8, 31))
    with clock_at(irkutsk(date(2026, 4, 14))):
        reply = await stub.ReportChange(
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(
                    member_id=found.minors[0].id, field="work_or_study", value="Лицей 2"
                ),
            ),
            metadata=md("caseworker.irk"),
        )
    send = {o.rule: o for o in reply.change.obligations}["REG-5/send"]
    assert (send.state, send.on_time) == ("met", False)


async def test_reg5_bad_changes_are_refused_and_nothing_is_written(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 3, 2), date(2026, 8, 31))
    minor_id = found.minors[0].id
    day = date(2026, 4, 8)
    invalid: list[tuple[pb.ReportChangeRequest, str]] = [
        (change_request(found.id, "2026-04-01"), "fields"),
        (
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(member_id=str(uuid.uuid4()), field="relation", value="x"),
            ),
            "fields[0].member_id",
        ),
        (
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(member_id=minor_id, field="birth_date", value="2015-01-01"),
            ),
            "fields[0].field",
        ),
        (
            change_request(
                found.id, "2026-04-01", pb.FieldChange(field="actual_address", value="x")
            ),
            "fields[0].field",
        ),
        (
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(member_id=minor_id, field="disability", value="maybe"),
            ),
            "fields[0].value",
        ),
        (
            change_request(
                found.id,
                "2026-04-01",
                pb.FieldChange(member_id=minor_id, field="actual_address", value=" "),
            ),
            "fields[0].value",
        ),
        (
            change_request(
                found.id,
                "2026-04-09",
                pb.FieldChange(member_id=minor_id, field="relation", value="сын"),
            ),
            "changed_on",
        ),
    ]
    with clock_at(irkutsk(day)):
        for request, field in invalid:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ReportChange(request, metadata=md("caseworker.irk"))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert details(err.value)[1] == [field]
        # Only the body responsible for the family reports its changes (REG-5, REG-9).
        ok = change_request(
            found.id,
            "2026-04-01",
            pb.FieldChange(member_id=minor_id, field="relation", value="сын"),
        )
        for outsider in ("education.irk", "commission.irk", "registry.irk"):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ReportChange(ok, metadata=md(outsider))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, outsider
        inbox = await stub.ListOfficeInbox(pb.ListOfficeInboxRequest(), metadata=md("registry.irk"))
    assert found.id not in [c.family_id for c in inbox.changes]
    assert list((await family(stub, md, found.id)).history) == []


async def test_reg5_reg6_a_deregistered_familys_data_is_not_changed(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 3, 2), date(2026, 8, 31))
    minor_id = found.minors[0].id
    with clock_at(irkutsk(date(2026, 8, 3))):
        pending = await stub.ReportChange(
            change_request(
                found.id,
                "2026-07-30",
                pb.FieldChange(member_id=minor_id, field="work_or_study", value="Колледж"),
            ),
            metadata=md("caseworker.irk"),
        )
        review: Any = await stub.RecordReview(
            review_request(
                found.id,
                decided_on="2026-08-03",
                outcome=pb.REVIEW_OUTCOME_DEREGISTER,
                next_review_on="",
            ),
            metadata=md("commission.irk"),
        )
        decision_id = review.decision.id
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        await stub.RemoveFamily(
            pb.RemoveFamilyRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ReportChange(
                change_request(
                    found.id,
                    "2026-08-01",
                    pb.FieldChange(member_id=minor_id, field="relation", value="сын"),
                ),
                metadata=md("caseworker.irk"),
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "not-registered"
        # A change reported before the removal is void: out of the inbox, not entered after it.
        inbox = await stub.ListOfficeInbox(pb.ListOfficeInboxRequest(), metadata=md("registry.irk"))
        assert pending.change.id not in [c.id for c in inbox.changes]
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.EnterChange(
                pb.EnterChangeRequest(change_id=pending.change.id), metadata=md("registry.irk")
            )
        assert details(err.value)[0] == "not-registered"
