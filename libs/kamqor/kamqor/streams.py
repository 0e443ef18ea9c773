"""JetStream streams: one per producing service, declared once here for producers and consumers."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

PRODUCERS = ("intake", "plans", "registry", "shelter", "notify")
# Broker-side dedupe by Nats-Msg-Id; consumers also dedupe in their database, so the window
# only has to cover relay retries after a lost ack.
DUPLICATE_WINDOW_SECONDS = 2 * 60 * 60


def stream_name(service: str) -> str:
    return service.upper()


def subject_prefix(service: str) -> str:
    return f"kamqor.{service}"


def stream_config(service: str, *, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=stream_name(service),
        subjects=[f"{subject_prefix(service)}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=30 * 24 * 60 * 60,
    )


async def ensure_stream(js: JetStreamContext, service: str, *, replicas: int) -> None:
    """Create or update the producer's stream; safe to call from every process that needs it."""
    config = stream_config(service, replicas=replicas)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)
