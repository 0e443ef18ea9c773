"""Tracing: one provider per service, W3C trace context across gRPC and NATS.

Spans carry ids, rule keys and counts, never personal data (REG-9).
"""

from __future__ import annotations

import logging

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv.metrics import MetricInstruments
from sqlalchemy.ext.asyncio import AsyncEngine


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


def trace_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Trace one engine's statements (placeholders only, never bound values: REG-9) to the
    service's own provider.

    `SQLAlchemyInstrumentor().instrument()` is a process-wide singleton that also patches every
    later `create_engine`, so where several services share a process (the tests) all their SQL
    would land in the first one's provider; the instrumentation's per-engine tracer does not.
    """
    usage = metrics.get_meter(__name__).create_up_down_counter(
        name=MetricInstruments.DB_CLIENT_CONNECTIONS_USAGE, unit="connections"
    )
    EngineTracer(  # type: ignore[no-untyped-call]
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine.sync_engine, usage
    )
