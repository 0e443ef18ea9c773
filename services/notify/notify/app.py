"""Wiring of the notify service."""

from __future__ import annotations

from pathlib import Path

import grpc

from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from notify import consumers, sweeper
from notify.servicer import NotifyServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    grpc_listen: str = "127.0.0.1:50055"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/notify"


def _add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
    notify_pb2_grpc.add_NotifyServiceServicer_to_server(NotifyServicer(wiring), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name],
        add_servicers=_add_servicers,
        sweeper=sweeper.build,
        subscriptions=consumers.subscriptions,
    )


def create_app(settings: ServiceSettings | None = None, **kwargs: object) -> ServiceApp:
    return ServiceApp(spec(), settings or NotifySettings(), **kwargs)  # type: ignore[arg-type]
