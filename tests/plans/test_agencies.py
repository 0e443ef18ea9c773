"""The agency directory through real gRPC on the real stack: loaded from its file at the plans
service's start (agencies no longer listed become inactive, never deleted), read per territory,
and used by every measure: an active agency of the plan's territory competent for the measure's
kind, whose type and contact information the measure carries (PLN-2, seed 003 4.2), and whose
people alone may be designated (PLN-6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import grpc
import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import agencies_pb2_grpc, plans_pb2_grpc
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.runtime import ServiceApp
from plans.app import create_app
from plans.models import Measure, Plan
from plans.service.agencies import DEMO_FILE, Directory, load
from tests.plans.factories import health_measure, measure_draft, plan_request
from tests.plans.test_service import by_agency, details
from tests.support.services import bearer, channel_to, fresh_database, running_service

USERS = ("caseworker.ast", "head.ast", "intake.ast", "education.ast", "health.ast", "teacher.ast")


@pytest.fixture(scope="module")
async def channel(plans_app: ServiceApp) -> AsyncIterator[grpc.aio.Channel]:
    async with channel_to(plans_app) as channel:
        yield channel


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, tuple[tuple[str, str], ...]]:  # type: ignore[no-untyped-def]
    return {u: bearer(keycloak.token(u)) for u in USERS}


def entry(agency_id: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": agency_id,
        "territory": "kz-ast",
        "type": "education",
        "name": f"Agency {agency_id}",
        "competences": ["pedagogical"],
        "contact": {"phone": "+7 7172 555 00 00", "email": f"{agency_id}@agencies.example"},
        "users": ["education.ast"],
    }
    values.update(kw)
    return values


def test_the_demo_directory_covers_every_agency_of_the_demo_realm() -> None:
    import json

    from devstack.keycloak import default_realm_file

    realm = json.loads(default_realm_file().read_text(encoding="utf-8"))
    people: dict[str, set[str]] = {}
    for user in realm["users"]:
        agency = user.get("attributes", {}).get("agency", [""])[0]
        if agency and not user["username"].startswith("service-account-"):
            people.setdefault(agency, set()).add(user["username"])
    listed = {a.id: a for a in load(DEMO_FILE).agencies}
    assert set(people) <= set(listed)
    for agency, users in people.items():
        assert users <= set(listed[agency].users), agency


@pytest.mark.parametrize(
    ("agencies", "where"),
    [
        ([entry("edu-x-1"), entry("edu-x-1")], "listed twice"),
        ([entry("edu-x-1", type="bakery")], "agencies.0.type"),
        ([entry("edu-x-1", competences=["cooking"])], "agencies.0.competences.0"),
        ([entry("edu-x-1", territory="kz-xyz")], "unknown territory"),
        ([entry("edu-x-1", contact={"email": "not an address"})], "agencies.0.contact.email"),
        ([entry("edu-x-1", fax="+7")], "agencies.0.fax"),
    ],
)
def test_a_broken_directory_stops_start_up_naming_the_entry(
    agencies: list[dict[str, Any]], where: str
) -> None:
    with pytest.raises(ValidationError) as err:
        Directory.model_validate({"agencies": agencies})
    text = str(err.value)
    assert where in text or where.replace(".", " -> ") in text, text


async def test_agencies_missing_from_the_file_become_inactive_never_deleted(  # type: ignore[no-untyped-def]
    postgres, nats_server, keycloak
) -> None:
    """Started with two agencies, then with a file that renames one and drops the other: the
    dropped one stays, inactive, readable, and no measure can be sent to it any more."""
    url = fresh_database(postgres, "plans")
    first = Directory.model_validate(
        {
            "agencies": [
                entry("edu-ast-1"),
                entry("hlt-ast-1", type="health", competences=["medical"]),
            ]
        }
    )
    second = Directory.model_validate({"agencies": [entry("edu-ast-1", name="School renamed")]})
    caseworker = bearer(keycloak.token("caseworker.ast"))
    for directory in (first, second):
        async with (
            running_service(
                partial(create_app, directory=directory),
                name="plans",
                postgres=postgres,
                nats_server=nats_server,
                keycloak=keycloak,
                database_url=url,
            ) as app,
            channel_to(app) as channel,
        ):
            stub = agencies_pb2_grpc.AgenciesServiceStub(channel)
            listed = await stub.ListAgencies(
                apb.ListAgenciesRequest(include_inactive=True), metadata=caseworker
            )
            active = await stub.ListAgencies(apb.ListAgenciesRequest(), metadata=caseworker)
            plans = plans_pb2_grpc.PlansServiceStub(channel)
            try:
                await plans.CreatePlan(
                    plan_request(measures=[health_measure()]), metadata=caseworker
                )
                refused: list[str] = []
            except grpc.aio.AioRpcError as err:
                refused = details(err)[1]
    assert [(a.id, a.name, a.active) for a in listed.agencies] == [
        ("edu-ast-1", "School renamed", True),
        ("hlt-ast-1", "Agency hlt-ast-1", False),
    ]
    assert [a.id for a in active.agencies] == ["edu-ast-1"]
    assert refused == ["measures[0].agency_id"]


async def test_the_directory_is_read_per_territory_with_filters_and_pages(  # type: ignore[no-untyped-def]
    channel, tokens
) -> None:
    stub = agencies_pb2_grpc.AgenciesServiceStub(channel)
    seen: list[apb.Agency] = []
    token = ""
    while True:
        page = await stub.ListAgencies(
            apb.ListAgenciesRequest(page_size=3, page_token=token),
            metadata=tokens["caseworker.ast"],
        )
        assert len(page.agencies) <= 3
        seen += page.agencies
        token = page.next_page_token
        if not token:
            break
    ids = [a.id for a in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {a.territory for a in seen} == {"kz-ast"}
    assert {"edu-ast-1", "hlt-ast-1", "pol-ast-1", "fc-ast-1"} <= set(ids)
    school = next(a for a in seen if a.id == "edu-ast-1")
    assert school.agency_type == "education" and school.contact.email
    assert list(school.users) == []  # the center does not see the school's people

    medical = await stub.ListAgencies(
        apb.ListAgenciesRequest(kind=pb.MEASURE_KIND_MEDICAL), metadata=tokens["caseworker.ast"]
    )
    assert [a.id for a in medical.agencies] == ["hlt-ast-1"]
    own = await stub.GetAgency(
        apb.GetAgencyRequest(agency_id="edu-ast-1"), metadata=tokens["education.ast"]
    )
    assert {"education.ast", "teacher.ast"} <= set(own.agency.users)

    for agency_id, user, code in (
        ("edu-ala-1", "caseworker.ast", grpc.StatusCode.NOT_FOUND),  # another territory's
        ("nowhere-1", "caseworker.ast", grpc.StatusCode.NOT_FOUND),
        ("edu-ast-1", "intake.ast", grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetAgency(apb.GetAgencyRequest(agency_id=agency_id), metadata=tokens[user])
        assert err.value.code() == code, agency_id


@pytest.mark.parametrize(
    ("measure", "field"),
    [
        (measure_draft(agency_id="edu-nowhere-1"), "measures[0].agency_id"),
        (measure_draft(agency_id="edu-ala-1"), "measures[0].agency_id"),  # another territory
        (health_measure(agency_id="pol-ast-1", agency_type="police"), "measures[0].agency_id"),
        (measure_draft(agency_type="health"), "measures[0].agency_type"),
        (measure_draft(agency_id="", agency_type=""), "measures[0].agency_id"),
    ],
)
async def test_pln2_a_measure_goes_only_to_a_competent_agency_of_the_territory(  # type: ignore[no-untyped-def]
    channel, tokens, plans_app, measure, field
) -> None:
    async with plans_app.wiring.uow() as session:
        before = len((await session.exec(select(col(Plan.id)))).all())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await plans_pb2_grpc.PlansServiceStub(channel).CreatePlan(
            plan_request(measures=[measure]), metadata=tokens["caseworker.ast"]
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value)[1] == [field]
    async with plans_app.wiring.uow() as session:
        assert len((await session.exec(select(col(Plan.id)))).all()) == before


async def test_pln2_the_directory_gives_the_type_and_the_contact_information(  # type: ignore[no-untyped-def]
    channel, tokens
) -> None:
    """Seed 003 4.2: each measure names the responsible organisation and how to reach it."""
    created = await plans_pb2_grpc.PlansServiceStub(channel).CreatePlan(
        plan_request(measures=[measure_draft(agency_type=""), health_measure()]),
        metadata=tokens["caseworker.ast"],
    )
    school = by_agency(created.plan, "edu-ast-1")
    assert (school.agency_type, school.agency_name) == ("education", "School No. 1, Astana")
    assert school.agency_contact.phone and school.agency_contact.address
    assert school.agency_contact.email == "edu-ast-1@agencies.example"


async def test_pln6_only_a_person_of_the_agency_is_designated(  # type: ignore[no-untyped-def]
    channel, tokens, plans_app
) -> None:
    stub = plans_pb2_grpc.PlansServiceStub(channel)
    created = await stub.CreatePlan(plan_request(), metadata=tokens["caseworker.ast"])
    await stub.SubmitPlan(
        pb.SubmitPlanRequest(plan_id=created.plan.id), metadata=tokens["caseworker.ast"]
    )
    approved = await stub.ApprovePlan(
        pb.ApprovePlanRequest(plan_id=created.plan.id, decision="Protocol 3"),
        metadata=tokens["head.ast"],
    )
    measure = by_agency(approved.plan, "edu-ast-1")
    for someone in ("health.ast", "nobody.ast"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.DesignateAssignee(
                pb.DesignateAssigneeRequest(measure_id=measure.id, assignee=someone),
                metadata=tokens["education.ast"],
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(err.value)[1] == ["assignee"]
    async with plans_app.wiring.uow() as session:
        row = await session.get(Measure, measure.id)
        assert row is not None and (row.state, row.assignee) == ("sent", "")
    done = await stub.DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=measure.id, assignee="teacher.ast"),
        metadata=tokens["education.ast"],
    )
    assert done.measure.assignee == "teacher.ast"
