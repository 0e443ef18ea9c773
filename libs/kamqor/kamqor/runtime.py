"""One service process: database, broker, gRPC server, relay, consumers and sweeper, started
and stopped in order. Each service's `app.py` fills in its own pieces."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import deadline_report
from kamqor.auth import TokenVerifier
from kamqor.broker import Broker
from kamqor.clock import set_clock, utcnow
from kamqor.db import UnitOfWork, make_engine, migrate, unit_of_work
from kamqor.deadlines.v1 import deadlines_pb2_grpc
from kamqor.grpcserver import build_server, set_serving
from kamqor.inbox import Consumer, Subscription
from kamqor.profiles import load_all_profiles
from kamqor.relay import Relay
from kamqor.replanning import Replanned, replan_provisional
from kamqor.settings import ServiceSettings
from kamqor.streams import ensure_stream
from kamqor.sweeping import Sweeper
from kamqor.tasks import cancel_and_wait
from kamqor.telemetry import configure_logging, set_global, trace_engine
from kamqor.telemetry import tracer_provider as make_tracer_provider

log = logging.getLogger(__name__)


@dataclass
class Wiring:
    """What the servicers and consumers of one service need at run time."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    uow: UnitOfWork
    broker: Broker
    relay: Relay
    tracer_provider: TracerProvider

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The unit of work of one RPC; once committed, the relay is woken for its events."""
        async with self.uow() as session:
            yield session
        self.relay.wake()


@dataclass
class ServiceSpec:
    """The parts that make one service different from another."""

    name: str
    migrations_dir: Path
    service_names: Sequence[str]
    add_servicers: Callable[[grpc.aio.Server, Wiring], None]
    sweeper: Callable[[Wiring], Sweeper]
    subscriptions: Callable[[Wiring], list[Subscription]] = field(default=lambda _w: [])
    # Updates the service's own copies of due times moved by `replan_provisional` (a plan's
    # term end), in the same transaction as the obligations.
    on_replanned: Callable[[AsyncSession, list[Replanned]], Awaitable[None]] | None = None
    # String fields of the service's requests that may keep line breaks and tabs (prose such as
    # a summary); every other string field is one line (`kamqor.inputs`).
    free_text: Sequence[FieldDescriptor] = ()
    # Full method names ("/pkg.Service/Method") that authenticate the caller themselves (a
    # signature over the request) and so take no bearer token (`grpcserver.KitInterceptor`).
    signed_methods: Sequence[str] = ()


class ServiceApp:
    def __init__(
        self,
        spec: ServiceSpec,
        settings: ServiceSettings,
        *,
        tracer_provider: TracerProvider | None = None,
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.tracer_provider = tracer_provider or make_tracer_provider(
            f"kamqor-{spec.name}", otlp_endpoint=settings.otel_exporter_endpoint
        )
        self.verifier = verifier or TokenVerifier(
            issuer=settings.keycloak_issuer,
            audience=settings.keycloak_audience,
            jwks_url=settings.jwks_url,
            allowed_clients=settings.allowed_clients,
        )
        self.port: int = 0
        self.ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._server: grpc.aio.Server | None = None
        self.wiring: Wiring | None = None
        # Every service also reports its deadlines (MON-3) through the kit's servicer.
        self.service_names = [*spec.service_names, deadline_report.SERVICE_NAME]

    async def start(self) -> None:
        spec, settings = self.spec, self.settings
        # A broken profile or calendar file stops start-up here, naming file and key, rather
        # than surfacing as a wrong deadline later.
        load_all_profiles()
        engine = make_engine(settings.database_url)
        trace_engine(engine, self.tracer_provider)
        # The schema is brought up by the `migrate` step (`python -m <service> migrate`, a
        # Kubernetes Job), once per release, not at every start of every replica.
        broker = Broker(
            settings.nats_url, name=f"kamqor-{spec.name}", **settings.broker_options(spec.name)
        )
        tracer = self.tracer_provider.get_tracer(f"kamqor.{spec.name}")
        uow = unit_of_work(engine)
        await self._replan(uow)
        relay = Relay(
            uow=uow, broker=broker, tracer=tracer, poll_seconds=settings.relay_poll_seconds
        )
        wiring = Wiring(
            name=spec.name,
            settings=settings,
            engine=engine,
            uow=uow,
            broker=broker,
            relay=relay,
            tracer_provider=self.tracer_provider,
        )
        self.wiring = wiring
        server, self._health = build_server(
            verifier=self.verifier,
            tracer_provider=self.tracer_provider,
            service_names=self.service_names,
            free_text=[f.full_name for f in spec.free_text],
            signed_methods=spec.signed_methods,
        )
        spec.add_servicers(server, wiring)
        deadlines_pb2_grpc.add_DeadlinesServiceServicer_to_server(
            deadline_report.DeadlinesServicer(uow), server
        )
        self.port = server.add_insecure_port(settings.grpc_listen)
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {settings.grpc_listen}")
        await set_serving(self._health, self.service_names, False)
        await server.start()
        self._server = server
        broker.start()
        self._tasks.append(asyncio.create_task(relay.run(), name=f"{spec.name}-relay"))
        for sub in spec.subscriptions(wiring):
            consumer = Consumer(
                subscription=sub,
                broker=broker,
                uow=uow,
                tracer=tracer,
                replicas=settings.stream_replicas,
                after_commit=relay.wake,
            )
            self._tasks.append(asyncio.create_task(consumer.run(), name=sub.durable))
        self.sweeper = spec.sweeper(wiring)
        self._tasks.append(asyncio.create_task(self.sweeper.run(), name=f"{spec.name}-sweeper"))
        self._tasks.append(asyncio.create_task(self._serve_when_connected(), name="readiness"))
        log.info("%s listening for gRPC on port %s", spec.name, self.port)

    async def migrate(self) -> None:
        """The `migrate` step: bring this service's database schema to head, then return."""
        engine = make_engine(self.settings.database_url)
        try:
            await migrate(engine, self.spec.migrations_dir)
        finally:
            await engine.dispose()

    async def _replan(self, uow: UnitOfWork) -> None:
        """New calendar data (a decree's year added) re-plans what was computed provisionally."""
        async with uow() as session:
            changed = await replan_provisional(session, now=utcnow())
            if changed and self.spec.on_replanned is not None:
                await self.spec.on_replanned(session, changed)

    async def _serve_when_connected(self) -> None:
        """SERVING once the broker answers and this service's stream exists; until then the
        service still takes writes (their events wait in the outbox) but is not ready."""
        assert self.wiring is not None
        broker = self.wiring.broker
        while True:
            await broker.connected.wait()
            try:
                await ensure_stream(
                    broker.js, self.spec.name, replicas=self.settings.stream_replicas
                )
                break
            except Exception as exc:
                log.warning("%s: cannot declare its stream: %s", self.spec.name, type(exc).__name__)
                await asyncio.sleep(0.5)
        await set_serving(self._health, self.service_names, True)
        self.ready.set()

    async def stop(self, grace: float = 5.0) -> None:
        """NOT_SERVING first so load balancers stop routing, then drain calls, then the rest."""
        if self._server is not None:
            await set_serving(self._health, self.service_names, False)
            await self._server.stop(grace)
            self._server = None
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks.clear()
        self.ready.clear()
        if self.wiring is not None:
            await self.wiring.broker.close()
            await self.wiring.engine.dispose()
            self.wiring = None


def standard_sweeper(service: str) -> Callable[[Wiring], Sweeper]:
    """The kit's obligation sweep for a service that adds no deadline checks of its own."""

    def build(wiring: Wiring) -> Sweeper:
        return Sweeper(
            service=service,
            uow=wiring.uow,
            interval_seconds=wiring.settings.sweep_interval_seconds,
            after_commit=wiring.relay.wake,
        )

    return build


def run_main(app: ServiceApp, argv: Sequence[str] | None = None) -> None:
    """Body of every service's `__main__`: logging, the global tracer, serve until SIGTERM;
    `python -m <service> migrate` runs the migrations step instead and exits."""
    args = list(sys.argv[1:] if argv is None else argv)
    configure_logging(app.settings.log_level)
    if args == ["migrate"]:
        asyncio.run(app.migrate())
        log.info("%s: schema migrated", app.spec.name)
        return
    if args:
        raise SystemExit(f"usage: python -m {app.spec.name} [migrate]")
    if app.settings.clock_start is not None:
        set_clock(app.settings.clock_start)
    set_global(app.tracer_provider)
    asyncio.run(serve_forever(app))


async def serve_forever(app: ServiceApp) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully (what Kubernetes expects)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    try:
        await stop.wait()
    finally:
        await app.stop()
