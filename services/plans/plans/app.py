"""Wiring of the plans service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from kamqor.db import make_engine, unit_of_work
from kamqor.plans.v1 import (
    agencies_pb2,
    agencies_pb2_grpc,
    monitoring_pb2,
    monitoring_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
)
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from plans import consumers, service, sweeper
from plans.agencies_servicer import FREE_TEXT as ROUTING_FREE_TEXT
from plans.agencies_servicer import AgenciesServicer, MeasureRoutingServicer
from plans.monitoring_servicer import FREE_TEXT as MONITORING_FREE_TEXT
from plans.monitoring_servicer import MonitoringServicer
from plans.service import agencies
from plans.service.agencies import Directory
from plans.servicer import FREE_TEXT, PlansServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
AGENCY_SERVICES = ("AgenciesService", "MeasureRoutingService")


class PlansSettings(ServiceSettings):
    service_name: str = "plans"
    grpc_listen: str = "127.0.0.1:50052"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/plans"
    # The agency directory (`plans.service.agencies`), written to the database at every start;
    # unset in development and tests: the demo directory (deploy/agencies/demo.yaml).
    plans_agencies_file: Path | None = None


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    plans_pb2_grpc.add_PlansServiceServicer_to_server(PlansServicer(wiring), server)
    monitoring_pb2_grpc.add_MonitoringServiceServicer_to_server(MonitoringServicer(wiring), server)
    agencies_pb2_grpc.add_AgenciesServiceServicer_to_server(AgenciesServicer(wiring), server)
    agencies_pb2_grpc.add_MeasureRoutingServiceServicer_to_server(
        MeasureRoutingServicer(wiring), server
    )


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[
            plans_pb2.DESCRIPTOR.services_by_name["PlansService"].full_name,
            monitoring_pb2.DESCRIPTOR.services_by_name["MonitoringService"].full_name,
            *(agencies_pb2.DESCRIPTOR.services_by_name[name].full_name for name in AGENCY_SERVICES),
        ],
        add_servicers=_add_servicers,
        sweeper=sweeper.build,
        subscriptions=consumers.subscriptions,
        free_text=(*FREE_TEXT, *MONITORING_FREE_TEXT, *ROUTING_FREE_TEXT),
        on_replanned=service.follow_replanned_terms,
    )


class PlansApp(ServiceApp):
    """The plans service, which writes the agency directory to its database before it serves."""

    def __init__(
        self,
        spec: ServiceSpec,
        settings: ServiceSettings,
        *,
        directory: Directory | None,
        **kw: Any,
    ) -> None:
        super().__init__(spec, settings, **kw)
        self.directory = directory

    async def start(self) -> None:
        if self.directory is not None:
            await sync_directory(self.settings.database_url, self.directory)
        await super().start()


def directory_of(settings: ServiceSettings) -> Directory | None:
    """The configured directory file; the demo one in development and tests; none otherwise
    (production keeps the directory its database has until a file is configured)."""
    path = getattr(settings, "plans_agencies_file", None)
    if path is None and settings.environment != "production" and agencies.DEMO_FILE.exists():
        path = agencies.DEMO_FILE
    return agencies.load(path) if path is not None else None


async def sync_directory(database_url: str, directory: Directory) -> None:
    engine = make_engine(database_url)
    try:
        async with unit_of_work(engine)() as session:
            await agencies.sync(session, directory)
    finally:
        await engine.dispose()


def create_app(
    settings: ServiceSettings | None = None,
    *,
    directory: Directory | None = None,
    **kwargs: Any,
) -> ServiceApp:
    """`directory` overrides the file named by the settings (tests give theirs directly)."""
    settings = settings or PlansSettings()
    return PlansApp(spec(), settings, directory=directory or directory_of(settings), **kwargs)
