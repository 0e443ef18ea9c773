"""Wiring of the plans service."""

from __future__ import annotations

from pathlib import Path

import grpc

from kamqor.plans.v1 import plans_pb2, plans_pb2_grpc
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from plans import consumers, service, sweeper
from plans.servicer import FREE_TEXT, PlansServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class PlansSettings(ServiceSettings):
    service_name: str = "plans"
    grpc_listen: str = "127.0.0.1:50052"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/plans"


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    plans_pb2_grpc.add_PlansServiceServicer_to_server(PlansServicer(wiring), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[plans_pb2.DESCRIPTOR.services_by_name["PlansService"].full_name],
        add_servicers=_add_servicers,
        sweeper=sweeper.build,
        subscriptions=consumers.subscriptions,
        free_text=FREE_TEXT,
        on_replanned=service.follow_replanned_terms,
    )


def create_app(settings: ServiceSettings | None = None, **kwargs: object) -> ServiceApp:
    return ServiceApp(spec(), settings or PlansSettings(), **kwargs)  # type: ignore[arg-type]
