"""Never lost, never doubled, and prompt after a fault (SHL-3, NTF-7), with real processes.

While 300 admissions with minors go through the gateway (real Keycloak tokens), the NATS server
is killed (-9) and restarted twice, and the shelter and notify services, each its own process
(`python -m shelter`, `python -m notify`), are killed (-9) and restarted once. Afterwards exactly
600 notices exist (police and guardianship for each admission), none doubled, each pending with
its due time or delivered; the shelter has notify's confirmation of every admission. The figures
are printed: counts, and the delay from each fault's recovery to the notices existing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.ports import free_port, port_is_open
from devstack.postgres import PostgresCluster
from devstack.proc import ManagedProcess
from gateway.access_log import UVICORN_OPTIONS
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kamqor.clock import utcnow
from notify.app import create_app as create_notify
from shelter.app import create_app as create_shelter
from tests.support.factories import years_ago
from tests.support.services import fresh_database, service_settings

ADMISSIONS = 300
NOTICES = 2 * ADMISSIONS  # police and guardianship for each admission with minors (SHL-3)
WORKERS = 6
# Seconds after the first admission; each fault's recovery is when its part answers again.
SCHEDULE: tuple[tuple[float, str], ...] = (
    (5.0, "nats"),
    (13.0, "shelter"),
    (21.0, "nats"),
    (29.0, "notify"),
)
NATS_DOWN_SECONDS = 1.5
# The goal (issue 12): p99 within 5 s of the part being back; the test fails past twice that,
# so a slow shared machine does not fail it while a regression to the old 30-60 s still does.
P99_LIMIT_SECONDS = 10.0


@dataclass
class Fault:
    part: str
    killed_at: float
    back_at: float = 0.0
    # Admissions (stay ids) committed before recovery whose notices did not exist yet.
    waiting: set[str] = field(default_factory=set)


@dataclass
class Run:
    t0: float
    admitted: dict[str, float] = field(default_factory=dict)  # stay id -> response time
    seen: dict[str, float] = field(default_factory=dict)  # stay id -> both notices exist
    faults: list[Fault] = field(default_factory=list)
    retries: int = 0


class ServiceProcess:
    """One service as its own process on a fixed port, restarted with a continuous clock."""

    def __init__(self, name: str, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self._env = env
        self._proc = ManagedProcess(
            name, [sys.executable, "-m", name], log_path=log_dir / f"{name}.log", env=env
        )

    def start(self) -> None:
        # Domain time continues where the test's is (a restart must not move it back).
        self._proc.env = {**self._env, "KAMQOR_CLOCK_START": utcnow().isoformat()}
        self._proc.start()

    async def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while not port_is_open(self.port, timeout=0.2):
            if not self._proc.running:
                raise AssertionError(f"{self.name} exited: {self._proc.log_tail(20)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not come up: {self._proc.log_tail(20)}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        self._proc.kill()

    def stop(self) -> None:
        self._proc.stop(timeout=5)


def service_env(
    name: str, database_url: str, port: int, nats_server: NatsServer, keycloak: KeycloakServer
) -> dict[str, str]:
    creds = nats_server.credentials(name)
    return {
        **os.environ,
        "KAMQOR_ENVIRONMENT": "test",
        "KAMQOR_DATABASE_URL": database_url,
        "KAMQOR_GRPC_LISTEN": f"127.0.0.1:{port}",
        "KAMQOR_NATS_URL": nats_server.url,
        "KAMQOR_NATS_USER": creds.user,
        "KAMQOR_NATS_PASSWORD": creds.password,
        "KAMQOR_KEYCLOAK_ISSUER": keycloak.issuer,
        "KAMQOR_RELAY_POLL_SECONDS": "0.2",
        "KAMQOR_SWEEP_INTERVAL_SECONDS": "3600",
        "KAMQOR_LOG_LEVEL": "WARNING",
    }


@asynccontextmanager
async def gateway(
    nats_server: NatsServer, keycloak: KeycloakServer, addrs: dict[str, Any]
) -> AsyncIterator[str]:
    port = free_port()
    settings = GatewaySettings(
        environment="test",
        nats_url=nats_server.url,
        nats_user=nats_server.credentials("gateway").user,
        nats_password=nats_server.credentials("gateway").password,
        keycloak_issuer=keycloak.issuer,
        listen_port=port,
        **addrs,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_gateway(settings),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            **{**UVICORN_OPTIONS, "log_level": "warning"},
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def post_until_done(
    client: httpx.AsyncClient, run: Run, path: str, body: dict[str, Any], expect: int = 201
) -> dict[str, Any]:
    """POST with one idempotency key until it succeeds: a dead service or broker is retried,
    and the key makes a retry of a committed admission return the same stay."""
    key = uuid.uuid4().hex
    for _ in range(600):
        try:
            reply = await client.post(path, json=body, headers={"Idempotency-Key": key})
            if reply.status_code == expect:
                return dict(reply.json())
            if reply.status_code < 500:
                raise AssertionError(f"{path}: {reply.status_code} {reply.text}")
        except httpx.TransportError:
            pass
        run.retries += 1
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path}: no success after many retries")


async def watch_notices(engine: AsyncEngine, run: Run, stop: asyncio.Event) -> None:
    """When both notices of each stay first exist, as seen from notify's database."""
    query = text("SELECT subject FROM notices GROUP BY subject HAVING count(*) >= 2")
    while not stop.is_set():
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        now = time.monotonic()
        for subject in rows:
            run.seen.setdefault(subject.removeprefix("stay/"), now)
        await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def figures(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"n={len(values)} p50={percentile(values, 0.5):.2f}s p95={percentile(values, 0.95):.2f}s "
        f"p99={percentile(values, 0.99):.2f}s max={max(values):.2f}s"
    )


async def test_ntf7_notices_survive_kills_of_broker_and_services(
    postgres: PostgresCluster,
    nats_server: NatsServer,
    keycloak: KeycloakServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = {name: fresh_database(postgres, name) for name in ("shelter", "notify")}
    for name, create in (("shelter", create_shelter), ("notify", create_notify)):
        settings = service_settings(
            name, database_url=urls[name], nats_server=nats_server, keycloak=keycloak
        )
        await create(settings).migrate()
    ports = {name: free_port() for name in ("shelter", "notify")}
    procs = {
        name: ServiceProcess(
            name,
            service_env(name, urls[name], ports[name], nats_server, keycloak),
            ports[name],
            tmp_path,
        )
        for name in ("shelter", "notify")
    }
    addrs: dict[str, Any] = {
        f"{n}_addr": f"127.0.0.1:{free_port()}" for n in ("intake", "plans", "registry")
    }
    addrs |= {f"{n}_addr": f"127.0.0.1:{p}" for n, p in ports.items()}
    notify_db = create_async_engine(urls["notify"])
    shelter_db = create_async_engine(urls["shelter"])
    tokens = {u: keycloak.token(u) for u in ("head.ast", "shelter.ast")}
    try:
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            await proc.wait_up()
        async with gateway(nats_server, keycloak, addrs) as base_url:
            await exercise(base_url, tokens, procs, nats_server, notify_db, shelter_db, capsys)
    finally:
        for proc in procs.values():
            proc.stop()
        if not nats_server.running:
            nats_server.start()
        await notify_db.dispose()
        await shelter_db.dispose()


async def exercise(
    base_url: str,
    tokens: dict[str, str],
    procs: dict[str, ServiceProcess],
    nats_server: NatsServer,
    notify_db: AsyncEngine,
    shelter_db: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = Run(t0=time.monotonic())
    head = httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {tokens['head.ast']}"}, timeout=15
    )
    operator = httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {tokens['shelter.ast']}"}, timeout=15
    )
    async with head, operator:
        shelters = [
            (
                await post_until_done(
                    head,
                    run,
                    "/v1/shelters",
                    {"name": f"kill-{i}-{uuid.uuid4().hex[:6]}", "capacity": 200},
                )
            )["id"]
            for i in range(4)
        ]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(ADMISSIONS):
            queue.put_nowait(i)

        async def admit_worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = {
                    "shelter_id": shelters[i % len(shelters)],
                    "adult": {"full_name": f"Adult {i}", "birth_date": years_ago(30)},
                    "minors": [{"full_name": f"Child {i}", "birth_date": years_ago(6)}],
                    "referral": "self_application",
                }
                stay = await post_until_done(operator, run, "/v1/stays", body)
                run.admitted[stay["id"]] = time.monotonic()
                # About 6 admissions a second in all: the faults fall in the middle of them.
                await asyncio.sleep(WORKERS / 6.0)

        stop = asyncio.Event()
        run.t0 = time.monotonic()
        watcher = asyncio.create_task(watch_notices(notify_db, run, stop))
        faults = asyncio.create_task(inflict(run, procs, nats_server))
        await asyncio.gather(*(admit_worker() for _ in range(WORKERS)))
        await faults
        deadline = time.monotonic() + 90
        while len(run.seen) < ADMISSIONS and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        stop.set()
        await watcher
    await check_and_report(run, notify_db, shelter_db, capsys)


async def inflict(run: Run, procs: dict[str, ServiceProcess], nats_server: NatsServer) -> None:
    for at, part in SCHEDULE:
        await asyncio.sleep(max(0.0, run.t0 + at - time.monotonic()))
        fault = Fault(part=part, killed_at=time.monotonic())
        if part == "nats":
            nats_server.kill()
            await asyncio.sleep(NATS_DOWN_SECONDS)
            await asyncio.to_thread(nats_server.start)
        else:
            procs[part].kill()
            procs[part].start()
            await procs[part].wait_up()
        fault.back_at = time.monotonic()
        fault.waiting = {
            s for s, t in run.admitted.items() if s not in run.seen and t < fault.back_at
        }
        run.faults.append(fault)


async def check_and_report(
    run: Run, notify_db: AsyncEngine, shelter_db: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with notify_db.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM notices"))).scalar_one()
        per_stay = dict(
            (await conn.execute(text("SELECT subject, count(*) FROM notices GROUP BY subject")))
            .tuples()
            .all()
        )
        doubled = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT subject, recipient_agency_type FROM notices "
                    "GROUP BY 1, 2 HAVING count(*) > 1) d"
                )
            )
        ).scalar_one()
        states = dict(
            (await conn.execute(text("SELECT state, count(*) FROM notices GROUP BY state")))
            .tuples()
            .all()
        )
        undated = (
            await conn.execute(text("SELECT count(*) FROM notices WHERE due_at IS NULL"))
        ).scalar_one()
    # The shelter's side: every admission confirmed by notify (the SHL-3 reconciliation).
    deadline = time.monotonic() + 30
    while True:
        async with shelter_db.connect() as conn:
            stays = (await conn.execute(text("SELECT count(*) FROM stays"))).scalar_one()
            confirmed = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM outbox o JOIN admission_notice_checks c "
                        "ON c.event_id = o.id WHERE o.subject = 'kamqor.shelter.stay.admitted' "
                        "AND c.confirmed_at IS NOT NULL"
                    )
                )
            ).scalar_one()
            resends = (
                await conn.execute(
                    text("SELECT coalesce(sum(resends), 0) FROM admission_notice_checks")
                )
            ).scalar_one()
        if confirmed >= ADMISSIONS or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)

    latency = [run.seen[s] - t for s, t in run.admitted.items() if s in run.seen]
    lines = [
        "",
        f"kill test: {len(run.admitted)} admissions through the gateway ({run.retries} retried "
        f"calls), {stays} stays, {total} notices ({states}), {doubled} doubled, "
        f"{undated} without due time; {confirmed} admissions confirmed by notify, "
        f"{resends} re-sent by the reconciler",
        f"  admission -> notices exist, all: {figures(latency)}",
    ]
    recoveries: list[float] = []
    for f in run.faults:
        delays = [run.seen[s] - f.back_at for s in f.waiting if s in run.seen]
        recoveries += delays
        lines.append(
            f"  {f.part:<7} killed at {f.killed_at - run.t0:5.1f}s, back after "
            f"{f.back_at - f.killed_at:4.2f}s; waiting then {len(f.waiting)}, "
            f"back -> notices exist: {figures(delays)}"
        )
    lines.append(f"  every fault, back -> notices exist: {figures(recoveries)}")
    with capsys.disabled():  # the figures go to CI's log, passed or not
        sys.stdout.write("\n".join(lines) + "\n")

    assert len(run.admitted) == ADMISSIONS
    assert stays == ADMISSIONS  # retried calls admitted nobody twice
    assert total == NOTICES, lines[1]
    assert doubled == 0
    assert sorted(per_stay) == sorted(f"stay/{s}" for s in run.admitted)
    assert set(per_stay.values()) == {2}
    assert undated == 0
    assert set(states) <= {"pending", "delivered", "acknowledged"}, states
    assert confirmed == ADMISSIONS
    assert recoveries, "no admission was waiting at any recovery: the faults hit nothing"
    assert percentile(recoveries, 0.99) <= P99_LIMIT_SECONDS, lines[-1]


@pytest.fixture(autouse=True)
def _nats_back_after(nats_server: NatsServer) -> Iterator[None]:
    """The session's NATS server is shared: never leave it dead for the next test."""
    yield
    if not nats_server.running:
        nats_server.start()
