"""Tracing: one provider per service, W3C trace context across gRPC and NATS.

Spans carry ids, rule keys and counts, never personal data (REG-9).
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def tracer_provider(service_name: str, *, otlp_endpoint: str | None = None) -> TracerProvider:
    """A provider for one service; exports over OTLP when an endpoint is configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def set_global(provider: TracerProvider) -> None:
    """For a process that runs one service: libraries that use the global provider join it."""
    trace.set_tracer_provider(provider)
