"""Wiring of the intake service."""

from __future__ import annotations

from pathlib import Path

import grpc

from intake import consumers, sweeper
from intake.servicer import FREE_TEXT, IntakeServicer
from kamqor.intake.v1 import intake_pb2, intake_pb2_grpc
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    grpc_listen: str = "127.0.0.1:50051"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/intake"


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(IntakeServicer(wiring), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name],
        add_servicers=_add_servicers,
        sweeper=sweeper.build,
        subscriptions=consumers.subscriptions,
        free_text=FREE_TEXT,
    )


def create_app(settings: ServiceSettings | None = None, **kwargs: object) -> ServiceApp:
    return ServiceApp(spec(), settings or IntakeSettings(), **kwargs)  # type: ignore[arg-type]
