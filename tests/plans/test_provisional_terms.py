"""Terms that reach a year with no published calendar decree, through the plans service.

A plan approved in the last days of the published data gets a term and deadlines on a
provisional calendar derived from the law, marked as such; when the decree's year is added as a
data file (no code change), the service re-plans those obligations at start-up and records each
changed due time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import select

from kamqor.calendar import data as calendar_data
from kamqor.clock import clock_at
from kamqor.obligations import Obligation
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc
from kamqor.protoconv import dt
from kamqor.replanning import ObligationReplan
from kamqor.runtime import ServiceApp
from plans.app import create_app
from tests.plans.factories import plan_request
from tests.support.services import bearer, channel_to, fresh_database, running_service

ASTANA = ZoneInfo("Asia/Almaty")
Stub = plans_pb2_grpc.PlansServiceStub


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=ASTANA)


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("caseworker.ast", "head.ast")}


@pytest.fixture
def calendar_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder of calendar files that take precedence over the packaged ones."""
    monkeypatch.setenv(calendar_data.DIR_VARIABLE, str(tmp_path))
    calendar_data.reload()
    yield tmp_path
    monkeypatch.delenv(calendar_data.DIR_VARIABLE)
    calendar_data.reload()


def publish_kz_2028(folder: Path) -> None:
    """The Kazakh data file as it will look once the Government's 2028 transfers are out: 2027
    and 2028 confirmed, and a day off moved from Saturday 8 to Wednesday 5 January 2028."""
    raw: dict[str, Any] = yaml.safe_load((calendar_data.DATA / "kz.yaml").read_text())
    raw["years"]["last"] = 2028
    raw["provisional_years"] = []
    raw["amendments"].append(
        {
            "version": "2027.1",
            "effective_from": date(2027, 9, 15),
            "source": "Government resolution on the transfer of days off in 2028",
            "days_off": {date(2028, 1, 5): "transfer from Sat 2028-01-08"},
            "working_days": {date(2028, 1, 8): "working Saturday"},
        }
    )
    (folder / "kz.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    # What a restarted process does: read the calendar files afresh.
    calendar_data.reload()


@asynccontextmanager
async def plans_on(  # type: ignore[no-untyped-def]
    database_url: str, postgres, nats_server, keycloak
) -> AsyncIterator[tuple[ServiceApp, Stub]]:
    """The plans service on `database_url` (started, so migrated and re-planned), and a stub."""
    async with (
        running_service(
            create_app,
            name="plans",
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
            database_url=database_url,
        ) as app,
        channel_to(app) as channel,
    ):
        yield app, plans_pb2_grpc.PlansServiceStub(channel)


async def approve(stub: Stub, tokens: dict[str, str]) -> pb.Plan:
    created = await stub.CreatePlan(plan_request(), metadata=bearer(tokens["caseworker.ast"]))
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=created.plan.id), metadata=bearer(tokens["caseworker.ast"])
    )
    approved = await stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=created.plan.id, decision="Center head's order 7"),
        metadata=bearer(tokens["head.ast"]),
    )
    return approved.plan


def designation(plan: pb.Plan) -> Any:
    measure = next(m for m in plan.measures if m.agency_id == "edu-ast-1")
    return next(o for o in measure.obligations if o.rule == "PLN-6")


async def rows(app: ServiceApp, model: Any, **where: str) -> list[Any]:
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list((await session.exec(query)).all())


async def test_pln1_plan_approved_on_new_years_eve_gets_a_provisional_2028_term(  # type: ignore[no-untyped-def]
    postgres, nats_server, keycloak, tokens
) -> None:
    database = fresh_database(postgres, "plans")
    with clock_at(datetime(2027, 12, 31, 15, 0, tzinfo=ASTANA)):
        async with plans_on(database, postgres, nats_server, keycloak) as (app, stub):
            plan = await approve(stub, tokens)
            [term] = await rows(app, Obligation, subject=f"plan/{plan.id}")
    # 31.12.2027 + 12 months = Sunday 31.12.2028; 1-2 January 2029 are the New Year holidays.
    assert dt(plan.term_ends_at) == end_of(date(2029, 1, 3))
    assert (term.rule, term.due_at) == ("PLN-1", end_of(date(2029, 1, 3)))
    assert term.calendar_version.endswith("+provisional:2027-2029")
    # Two working days from Friday 31.12.2027: 3-4 January 2028 are New Year moved off the weekend.
    pln6 = designation(plan)
    assert dt(pln6.due_at) == end_of(date(2028, 1, 6))
    assert pln6.calendar_version.endswith("+provisional:2027-2028")


async def test_pln6_the_decree_for_2028_replans_what_was_computed_provisionally(  # type: ignore[no-untyped-def]
    postgres, nats_server, keycloak, tokens, calendar_folder
) -> None:
    database = fresh_database(postgres, "plans")
    approved_at = datetime(2027, 12, 30, 16, 0, tzinfo=ASTANA)
    with clock_at(approved_at):
        async with plans_on(database, postgres, nats_server, keycloak) as (_, stub):
            plan = await approve(stub, tokens)
    before = designation(plan)
    # Friday 31.12.2027 is the first working day, Wednesday 5.1.2028 the second.
    assert dt(before.due_at) == end_of(date(2028, 1, 5))
    assert before.calendar_version.endswith("+provisional:2027-2028")

    publish_kz_2028(calendar_folder)
    with clock_at(datetime(2028, 1, 3, 9, 0, tzinfo=ASTANA)):
        async with plans_on(database, postgres, nats_server, keycloak) as (app, stub):
            got = await stub.GetPlan(
                pb.GetPlanRequest(plan_id=plan.id), metadata=bearer(tokens["head.ast"])
            )
            replans = await rows(app, ObligationReplan)
    after = designation(got.plan)
    assert dt(after.due_at) == end_of(date(2028, 1, 6))
    assert after.calendar_version == "kz:2027.1+holidays:" + calendar_data.HOLIDAYS_VERSION
    # Per agency's measure (education, health) its sending, open until notify delivers the
    # notice (PLN-5), and its designation (PLN-6); and the plan's PLN-1 term. The measures' own
    # deadlines (PLN-7) are days the author chose, on no calendar: nothing to re-plan.
    assert sorted(r.rule for r in replans) == ["PLN-1", "PLN-5", "PLN-5", "PLN-6", "PLN-6"]
    [moved] = [r for r in replans if r.obligation_id == before.id]
    assert (moved.old_due_at, moved.new_due_at) == (
        end_of(date(2028, 1, 5)),
        end_of(date(2028, 1, 6)),
    )
    assert moved.old_calendar_version == before.calendar_version
    restarted = datetime(2028, 1, 3, 9, 0, tzinfo=ASTANA)
    assert restarted <= moved.at < restarted + timedelta(minutes=5)
    # The plan's term (Saturday 30.12.2028 -> Wednesday 3.1.2029) rests on 2029 alone now.
    [term] = [r for r in replans if r.rule == "PLN-1"]
    assert term.new_due_at == term.old_due_at == end_of(date(2029, 1, 3))
    assert term.new_calendar_version.endswith("+provisional:2029")
    assert dt(got.plan.term_ends_at) == end_of(date(2029, 1, 3))

    # A second start on the same data changes nothing more.
    with clock_at(datetime(2028, 1, 3, 10, 0, tzinfo=ASTANA)):
        async with plans_on(database, postgres, nats_server, keycloak) as (app, _):
            assert len(await rows(app, ObligationReplan)) == len(replans)
