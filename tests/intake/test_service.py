"""Intake use cases through a real gRPC channel on a real PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from intake import rules, service
from kamqor.audit import AuditRecord
from kamqor.auth import Principal
from kamqor.clock import clock_at
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.obligations import Obligation
from kamqor.protoconv import dt
from tests.shelter.test_service import details
from tests.support.clock import ASTANA
from tests.support.factories import appeal_request
from tests.support.services import bearer


def end_of(day: date) -> datetime:
    """The last instant of `day` in Astana, as terms in working days end."""
    return datetime.combine(day, time.max, tzinfo=ASTANA)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("hotline.ast", "intake.ast", "intake.ala", "caseworker.ast", "shelter.ast")
    return {u: keycloak.token(u) for u in users}


async def register(stub, token: str, **kw) -> pb.Appeal:  # type: ignore[no-untyped-def]
    resp = await stub.RegisterAppeal(appeal_request(**kw), metadata=bearer(token))
    return resp.appeal  # type: ignore[no-any-return]


async def test_int2_journal_numbers_follow_each_other_per_center_and_year(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """20:30 UTC on 31 December 2026 is 01:30 on 1 January 2027 in Astana: the journal's year is
    the center's, so the entries are numbered in 2027 although UTC is still in 2026."""
    with clock_at(datetime(2026, 12, 31, 20, 30, tzinfo=UTC)):
        first = await register(stub, tokens["intake.ast"])
        second = await register(stub, tokens["hotline.ast"])  # the hotline writes to fc-ast-1's
        other = await register(stub, tokens["intake.ala"])
    assert dt(first.registered_at).year == 2026
    center, year, seq = first.journal_number.split("/")
    assert (center, year) == ("fc-ast-1", "2027")
    assert second.journal_number == f"{center}/{year}/{int(seq) + 1:06d}"
    assert other.journal_number.startswith("fc-ala-1/2027/")
    assert second.center_id == "fc-ast-1" and second.channel == pb.CHANNEL_HOTLINE_111


async def test_int3_threat_to_life_is_assessed_in_one_working_day(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    """Registered on Tuesday 31 December 2024 at 18:00 in Astana: 1 and 2 January are New Year,
    Friday 3 January 2025 is a day off transferred from Sunday 5 January (Government resolution
    No. 436 of 2024), which is worked instead: the one working day is Sunday 5 January."""
    with clock_at(datetime(2024, 12, 31, 18, 0, tzinfo=ASTANA)):
        appeal = await register(stub, tokens["hotline.ast"], threat_to_life=True)
    duties = {o.rule: o for o in appeal.obligations}
    assert dt(duties["INT-3/threat"].due_at) == end_of(date(2025, 1, 5))
    assert duties["INT-3/threat"].profile == "kz"
    assert duties["INT-3/threat"].calendar_version.startswith("kz:")
    assert "INT-3/primary" not in duties


async def test_int3_primary_assessment_in_three_working_days_and_int7_redirection(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    """Registered on Wednesday 30 December 2026 at 17:00 in Astana. Working days after it:
    Thursday 31 December, then (1-2 January New Year; Monday 4 January off for the Saturday
    holiday; 3 January a Sunday) Tuesday 5 and Wednesday 6 January 2027, before Orthodox
    Christmas on the 7th. INT-3/primary (3) is due at the end of 6 January, INT-7 (2) of the 5th."""
    with clock_at(datetime(2026, 12, 30, 17, 0, tzinfo=ASTANA)):
        appeal = await register(
            stub, tokens["intake.ast"], threat_to_life=False, domestic_violence=True
        )
        plain = await register(
            stub, tokens["intake.ast"], threat_to_life=False, domestic_violence=False
        )
    duties = {o.rule: o for o in appeal.obligations}
    assert dt(duties["INT-3/primary"].due_at) == end_of(date(2027, 1, 6))
    assert dt(duties["INT-7"].due_at) == end_of(date(2027, 1, 5))
    assert [o.rule for o in plain.obligations] == ["INT-3/primary"]
    assert dt(plain.obligations[0].due_at) == end_of(date(2027, 1, 6))


async def test_an_appeal_where_no_triage_term_is_set_is_registered_with_none(  # type: ignore[no-untyped-def]
    intake_app,
) -> None:
    """The Terms index binds the triage terms to Kazakhstan only: an Irkutsk entry is journaled
    like any other and opens no obligation. Run on the service's database with a principal built
    here: the demo realm has no intake operator in Irkutsk."""
    operator = Principal(
        subject="intake.irk-subject",
        username="intake.irk",
        roles=frozenset({"intake-operator"}),
        agency="fc-irk-1",
        agency_type="family_center",
        territory="ru-irk",
        client_id="tests",
        token="not-a-token",
    )
    async with intake_app.wiring.uow() as session:
        view = await service.register_appeal(
            session,
            principal=operator,
            channel=rules.Channel.IN_PERSON,
            summary="A mother asks for help with rent arrears, threat of eviction",
            persons=[rules.PersonIn("Иванова Мария Петровна", rules.Relation.APPLICANT, None)],
            threat_to_life=True,
            domestic_violence=True,
            idempotency_key="",
        )
    assert view.appeal.journal_number.startswith("fc-irk-1/")
    assert view.obligations == []
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(Obligation).where(Obligation.subject == f"appeal/{view.appeal.id}")
            )
        ).all()
    assert rows == []


async def test_retry_with_same_key_returns_the_first_entry(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    request = appeal_request()
    first = await stub.RegisterAppeal(request, metadata=bearer(tokens["intake.ast"]))
    again = await stub.RegisterAppeal(request, metadata=bearer(tokens["intake.ast"]))
    assert first.appeal.id == again.appeal.id
    assert first.appeal.journal_number == again.appeal.journal_number


async def test_int2_journal_entries_are_never_edited_or_deleted(stub, tokens, intake_app) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(stub, tokens["intake.ast"])
    for statement in (
        "UPDATE appeals SET summary = 'rewritten' WHERE id = :id",
        "DELETE FROM appeal_persons WHERE appeal_id = :id",
        "DELETE FROM appeals WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="INT-2"):
            async with intake_app.wiring.uow() as session:
                conn = await session.connection()
                await conn.execute(text(statement), {"id": appeal.id})
    got = await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(tokens["intake.ast"])
    )
    assert got.appeal.summary == appeal.summary and len(got.appeal.persons) == 3


async def test_reg9_other_territory_cannot_read_and_reads_are_audited(
    stub, tokens, intake_app
) -> None:  # type: ignore[no-untyped-def]
    appeal = await register(stub, tokens["hotline.ast"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAppeal(
            pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(tokens["intake.ala"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(tokens["caseworker.ast"])
    )
    listed = await stub.ListAppeals(
        pb.ListAppealsRequest(page_size=2), metadata=bearer(tokens["caseworker.ast"])
    )
    assert len(listed.appeals) == 2 and listed.next_page_token
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(AuditRecord).where(AuditRecord.entity == f"appeal/{appeal.id}")
            )
        ).all()
    assert {(r.action, r.purpose) for r in rows} >= {("create", "INT-2"), ("read", "view")}


async def test_shelter_operator_cannot_register_appeals(stub, tokens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(stub, tokens["shelter.ast"])
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": pb.CHANNEL_UNSPECIFIED}, "channel"),
        ({"summary": "  "}, "summary"),
        ({"persons": [pb.Person(full_name="X")]}, "persons[0].relation"),
        (
            {
                "persons": [
                    pb.Person(full_name="X", relation=pb.RELATION_CHILD, birth_date="2020-13-01")
                ]
            },
            "persons[0].birth_date",
        ),
    ],
)
async def test_bad_input_names_the_field(stub, tokens, change, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RegisterAppeal(appeal_request(**change), metadata=bearer(tokens["intake.ast"]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", [field])
