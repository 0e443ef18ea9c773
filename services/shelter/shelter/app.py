"""Wiring of the shelter service."""

from __future__ import annotations

from pathlib import Path

import grpc

from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from shelter import consumers, sweeper
from shelter.reconciler import with_reconciler
from shelter.servicer import FREE_TEXT, ShelterServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class ShelterSettings(ServiceSettings):
    service_name: str = "shelter"
    grpc_listen: str = "127.0.0.1:50054"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/shelter"


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    shelter_pb2_grpc.add_ShelterServiceServicer_to_server(ShelterServicer(wiring), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[shelter_pb2.DESCRIPTOR.services_by_name["ShelterService"].full_name],
        add_servicers=_add_servicers,
        # Beside the sweep, admissions notify has not confirmed are re-sent (SHL-3).
        sweeper=with_reconciler(sweeper.build),
        subscriptions=consumers.subscriptions,
        free_text=FREE_TEXT,
    )


def create_app(settings: ServiceSettings | None = None, **kwargs: object) -> ServiceApp:
    return ServiceApp(spec(), settings or ShelterSettings(), **kwargs)  # type: ignore[arg-type]
