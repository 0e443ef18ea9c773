"""Wiring of the notify service."""

from __future__ import annotations

from pathlib import Path

import grpc

from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.runtime import ServiceApp, ServiceSpec, Wiring
from kamqor.settings import ServiceSettings
from notify import channels as channel_config
from notify import consumers, sweeper
from notify.channels import Channels
from notify.servicer import NotifyServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    grpc_listen: str = "127.0.0.1:50055"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/notify"
    # The recipient agencies' delivery channels (`notify.channels`); without it every notice
    # goes out as a registered letter.
    notify_channels_file: Path | None = None


SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name
# Authenticated by the agency's signature, not a bearer token (`notify.receipts`).
SIGNED_METHODS = (f"/{SERVICE_NAME}/RecordReceipt",)


def spec(channels: Channels | None = None) -> ServiceSpec:
    configured = channels or Channels()

    def add_servicers(server: grpc.aio.Server, wiring: Wiring) -> None:
        notify_pb2_grpc.add_NotifyServiceServicer_to_server(
            NotifyServicer(wiring, configured), server
        )

    return ServiceSpec(
        name=sweeper.SERVICE,
        migrations_dir=MIGRATIONS,
        service_names=[SERVICE_NAME],
        add_servicers=add_servicers,
        signed_methods=SIGNED_METHODS,
        sweeper=sweeper.build(configured),
        subscriptions=lambda wiring: consumers.subscriptions(wiring, configured),
    )


def create_app(
    settings: ServiceSettings | None = None,
    *,
    channels: Channels | None = None,
    **kwargs: object,
) -> ServiceApp:
    """`channels` overrides the file named by the settings (tests give theirs directly)."""
    settings = settings or NotifySettings()
    if channels is None and isinstance(settings, NotifySettings):
        channels = channel_config.load(settings.notify_channels_file)
    return ServiceApp(spec(channels), settings, **kwargs)  # type: ignore[arg-type]
