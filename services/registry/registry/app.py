"""Wiring of the registry service."""

from __future__ import annotations

from pathlib import Path

import grpc

from kamqor.registry.v1 import registry_pb2, registry_pb2_grpc
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from registry import consumers, sweeper
from registry.servicer import FREE_TEXT, RegistryServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    grpc_listen: str = "127.0.0.1:50053"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/registry"


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    registry_pb2_grpc.add_RegistryServiceServicer_to_server(RegistryServicer(wiring), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name],
        add_servicers=_add_servicers,
        sweeper=sweeper.build,
        subscriptions=consumers.subscriptions,
        free_text=FREE_TEXT,
    )


def create_app(settings: ServiceSettings | None = None, **kwargs: object) -> ServiceApp:
    return ServiceApp(spec(), settings or RegistrySettings(), **kwargs)  # type: ignore[arg-type]
