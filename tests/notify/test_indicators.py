"""Notice timeliness (MON-6) through notify's real gRPC on real PostgreSQL, NATS and Keycloak:
admissions published to the shelter's stream become police and guardianship notices (SHL-3);
the sweeper delivers some within the 24-hour term and some late, some are never delivered,
the police acknowledge some; the report counts each exactly, per recipient agency type and
rule, for the analyst of that territory only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import grpc
import httpx
import nats
import pytest
from sqlmodel import select

from kamqor.clock import clock_at
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.outbox import envelope
from kamqor.protoconv import ts
from kamqor.runtime import ServiceApp
from notify.channels import Channels
from notify.models import Notice
from shelter.app import create_app as create_shelter
from tests.notify.harness import running_notify, serving_gateway
from tests.shelter.test_service import details
from tests.support.services import bearer, running_service

USERS = ("analyst.ast", "analyst.ala", "police.ast", "guardianship.ast")
# 10:00 in Astana (UTC+5); the period below is the local 17th to the 19th inclusive.
T0 = datetime(2026, 11, 17, 10, 0, tzinfo=timezone(timedelta(hours=5)))
PERIOD = ("2026-11-17", "2026-11-20")


@dataclass
class Stack:
    notify: ServiceApp
    stub: notify_pb2_grpc.NotifyServiceAsyncStub
    tokens: dict[str, str]
    nats_url: str


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # Registered letters only (no agency channel configured); the test drives the sweeps.
    channels = Channels.model_validate({"poll_seconds": None})
    async with (
        running_notify(postgres, nats_server, keycloak, channels=channels) as (notify, stub),
    ):
        yield Stack(
            notify=notify,
            stub=stub,
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,
        )


async def admit(stack: Stack, *, admitted_at: datetime) -> dict[str, Notice]:
    """Publish one admission with two minors as the shelter's relay does; its two notices."""
    admitted = StayAdmitted(
        stay_id=str(uuid.uuid4()),
        shelter_id="sh-ast-1",
        center_id="fc-ast-1",
        territory="kz-ast",
        admitted_at=ts(admitted_at),
        minors=2,
    )
    env = envelope(source="kamqor.shelter", entity=f"stay/{admitted.stay_id}", payload=admitted)
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(
            "kamqor.shelter.stay.admitted",
            env.SerializeToString(),
            headers={"Nats-Msg-Id": uuid.uuid4().hex},
        )
    finally:
        await nc.close()
    assert stack.notify.wiring is not None
    for _ in range(200):
        async with stack.notify.wiring.uow() as session:
            rows = (
                await session.exec(
                    select(Notice).where(Notice.subject == f"stay/{admitted.stay_id}")
                )
            ).all()
        if len(rows) == 2:
            return {n.recipient_agency_type: n for n in rows}
        await asyncio.sleep(0.1)
    raise AssertionError("the admission's two notices never came")


async def acknowledge(stack: Stack, notice: Notice) -> None:
    await stack.stub.AcknowledgeNotice(
        pb.AcknowledgeNoticeRequest(notice_id=notice.id),
        metadata=bearer(stack.tokens[f"{notice.recipient_agency_type}.ast"]),
    )


async def report(
    stack: Stack, user: str, *, period: tuple[str, str] = PERIOD, territory: str = ""
) -> pb.ReportNoticeIndicatorsResponse:
    return await stack.stub.ReportNoticeIndicators(
        pb.ReportNoticeIndicatorsRequest(
            from_date=period[0], to_date=period[1], territory=territory
        ),
        metadata=bearer(stack.tokens[user]),
    )


@pytest.fixture(scope="module")
async def gateway(stack: Stack, postgres, nats_server, keycloak) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The gateway in front of this notify and a shelter service of its own: its base URL."""
    async with (
        running_service(
            create_shelter,
            name="shelter",
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
        ) as shelter,
        serving_gateway(
            nats_server,
            keycloak,
            shelter_addr=f"127.0.0.1:{shelter.port}",
            notify_addr=f"127.0.0.1:{stack.notify.port}",
        ) as base_url,
    ):
        yield base_url


def _percentile(values: list[float], share: float) -> float:
    """PostgreSQL's percentile_cont: linear between the two nearest ranks."""
    ordered = sorted(values)
    at = share * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _hours(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds() / 3600


async def test_mon6_notice_timeliness_counts_each_notice_exactly(stack: Stack) -> None:
    assert stack.notify.sweeper is not None
    sweeper = stack.notify.sweeper
    with clock_at(T0):
        in_time = await admit(stack, admitted_at=T0)
    # Delivered two hours on: within the 24-hour term (SHL-3).
    await sweeper.sweep_once(T0 + timedelta(hours=2))
    with clock_at(T0 + timedelta(hours=5)):
        await acknowledge(stack, in_time["police"])
    with clock_at(T0 + timedelta(hours=3)):
        late = await admit(stack, admitted_at=T0 + timedelta(hours=3))
    # Delivered 30 hours after its admission: 6 hours past the term.
    await sweeper.sweep_once(T0 + timedelta(hours=33))
    with clock_at(T0 + timedelta(hours=34)):
        await acknowledge(stack, late["police"])
        # Reported 25 hours after its admission and never delivered: overdue.
        overdue = await admit(stack, admitted_at=T0 + timedelta(hours=9))
        # Admitted an hour ago, not delivered yet, not due yet.
        not_due = await admit(stack, admitted_at=T0 + timedelta(hours=33))
    with clock_at(T0 + timedelta(hours=36)):
        found = await report(stack, "analyst.ast")

    assert found.territory == "kz-ast"
    assert found.period_start.ToDatetime(tzinfo=T0.tzinfo) == T0 - timedelta(hours=10)
    assert [(r.recipient_agency_type, r.rule) for r in found.rows] == [
        ("guardianship", "SHL-3"),
        ("police", "SHL-3"),
    ]
    rows = {r.recipient_agency_type: r for r in found.rows}
    for agency, row in rows.items():
        assert (
            row.created,
            row.delivered_on_time,
            row.delivered_late,
            row.undelivered_overdue,
            row.undelivered_not_due,
        ) == (4, 1, 1, 1, 1), agency
        # Hours from each notice's creation (stored) to its delivery at the sweep's instant.
        took = [
            _hours(in_time[agency].created_at, T0 + timedelta(hours=2)),
            _hours(late[agency].created_at, T0 + timedelta(hours=33)),
        ]
        assert row.delivery_hours_median == pytest.approx(_percentile(took, 0.5), abs=0.006)
        assert row.delivery_hours_p90 == pytest.approx(_percentile(took, 0.9), abs=0.006)
        # About 2 and 30 hours: the p90 sits near the late one.
        assert 15.9 < row.delivery_hours_median < 16.1 and 27.1 < row.delivery_hours_p90 < 27.3
    assert overdue["police"].delivered_at is None and not_due["police"].delivered_at is None

    police, guardianship = rows["police"], rows["guardianship"]
    assert police.acknowledged == 2 and guardianship.acknowledged == 0
    assert not guardianship.HasField("acknowledgement_hours_median")
    assert not guardianship.HasField("acknowledgement_hours_p90")
    # Acknowledged 5 and 31 hours after creation.
    assert police.acknowledgement_hours_median == pytest.approx(18.0, abs=0.01)
    assert police.acknowledgement_hours_p90 == pytest.approx(5 + 0.9 * 26, abs=0.01)

    # A period before any notice: nothing.
    with clock_at(T0 + timedelta(hours=36)):
        empty = await report(stack, "analyst.ast", period=("2026-11-01", "2026-11-17"))
    assert list(empty.rows) == []


async def test_mon6_another_territorys_analyst_sees_none_of_them(stack: Stack) -> None:
    with clock_at(T0):
        await admit(stack, admitted_at=T0)
    with clock_at(T0 + timedelta(hours=36)):
        theirs = await report(stack, "analyst.ala")
        assert theirs.territory == "kz-ala" and list(theirs.rows) == []
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await report(stack, "analyst.ast", territory="kz-ala")
    assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The recipients themselves read their notices, not the aggregates.
    with pytest.raises(grpc.aio.AioRpcError) as police:
        await report(stack, "police.ast")
    assert police.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("period", "field"),
    [
        (("2026-11-17", "2026-11-17"), "to_date"),
        (("2026-11-17", "2027-11-19"), "to_date"),
        (("17.11.2026", "2026-11-20"), "from_date"),
        (("2026-11-17", ""), "to_date"),
    ],
)
async def test_mon6_a_bad_period_is_refused_naming_the_field(
    stack: Stack, period: tuple[str, str], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(stack, "analyst.ast", period=period)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused.value) == ("invalid", [field])


async def test_mon6_the_gateway_merges_notice_timeliness_into_the_shelter_report(
    stack: Stack, gateway: str
) -> None:
    with clock_at(T0 + timedelta(hours=36)):
        direct = await report(stack, "analyst.ast")
        async with httpx.AsyncClient(
            base_url=gateway,
            headers={"Authorization": f"Bearer {stack.tokens['analyst.ast']}"},
            timeout=20,
        ) as client:
            merged = await client.get(
                "/v1/reports/shelter", params={"from": PERIOD[0], "to": PERIOD[1]}
            )
            refused = await client.get(
                "/v1/reports/shelter", params={"from": PERIOD[0], "to": PERIOD[0]}
            )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    # The shelter's own section is there (its service has no stay in this period)...
    assert body["territory"] == "kz-ast" and body["admissions"] == 0
    # ...and notify's, row for row as notify counts them.
    assert len(direct.rows) == 2
    assert body["notices"] == [
        {
            "recipient_agency_type": r.recipient_agency_type,
            "rule": r.rule,
            "created": r.created,
            "delivered_on_time": r.delivered_on_time,
            "delivered_late": r.delivered_late,
            "undelivered_overdue": r.undelivered_overdue,
            "undelivered_not_due": r.undelivered_not_due,
            "acknowledged": r.acknowledged,
            "delivery_hours_median": r.delivery_hours_median,
            "delivery_hours_p90": r.delivery_hours_p90,
            "acknowledgement_hours_median": (
                r.acknowledgement_hours_median
                if r.HasField("acknowledgement_hours_median")
                else None
            ),
            "acknowledgement_hours_p90": (
                r.acknowledgement_hours_p90 if r.HasField("acknowledgement_hours_p90") else None
            ),
        }
        for r in direct.rows
    ]
    assert body["notices"][0]["acknowledgement_hours_median"] is None  # guardianship
    # A bad period: 422 naming the field, before any service is asked.
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["to"]
