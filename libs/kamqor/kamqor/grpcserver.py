"""gRPC server bootstrap: health, reflection, tracing, token verification and error mapping."""

from __future__ import annotations

import contextvars
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import IntegrityError

from kamqor.auth import AuthError, KeySetUnavailable, Principal, TokenVerifier
from kamqor.db import StaleConnection
from kamqor.errors import (
    Aborted,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from kamqor.inputs import message_text_fault

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "kamqor_principal", default=None
)
_OPEN_PREFIXES = ("/grpc.health.", "/grpc.reflection.")
STATUS_DETAILS_KEY = "grpc-status-details-bin"
# The gateway refuses HTTP bodies over MAX_REQUEST_BYTES (413); the same bound holds for a
# request message on every server and on the gateway's channels. Responses (pages of plans
# with their measures) may be larger, up to gRPC's default receive limit.
MAX_REQUEST_BYTES = 1024 * 1024
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def current_principal() -> Principal:
    """The verified caller of the RPC being served; set by the interceptor below."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("no verified principal in this call")
    return principal


_CODES: list[tuple[type[DomainError], grpc.StatusCode]] = [
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Invalid, grpc.StatusCode.INVALID_ARGUMENT),
    (Conflict, grpc.StatusCode.FAILED_PRECONDITION),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (Aborted, grpc.StatusCode.ABORTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
]


def status_for(exc: DomainError) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    """The status code, message and rich details (google.rpc.Status) for a domain error."""
    code = next((c for t, c in _CODES if isinstance(exc, t)), grpc.StatusCode.UNKNOWN)
    details: list[any_pb2.Any] = []
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=exc.code, domain="kamqor"))
    details.append(info)
    if isinstance(exc, Invalid):
        bad = any_pb2.Any()
        bad.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=exc.field, description=exc.reason
                    )
                ]
            )
        )
        details.append(bad)
    status = status_pb2.Status(code=code.value[0], message=exc.message, details=details)
    return code, exc.message, ((STATUS_DETAILS_KEY, status.SerializeToString()),)


class KitInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the bearer token, makes the principal current, refuses text with control
    characters in any string field of the request (`kamqor.inputs`), maps domain errors to
    status. `free_text` names the string fields (full names) that may keep line breaks.
    `signed_methods` (full method names) take no bearer token: they authenticate the caller
    themselves, by a signature over the request, and run with no current principal."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        free_text: Collection[str] = (),
        signed_methods: Collection[str] = (),
    ) -> None:
        self._verifier = verifier
        self._free_text = frozenset(free_text)
        self._signed = frozenset(signed_methods)

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_OPEN_PREFIXES) or handler.unary_unary is None:
            return handler
        inner: Callable[[Any, Any], Awaitable[Any]] = handler.unary_unary
        metadata = dict(handler_call_details.invocation_metadata or ())

        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            auth = str(metadata.get("authorization", ""))
            scheme, _, token = auth.partition(" ")
            try:
                principal: Principal | None = None
                if method not in self._signed:
                    if scheme.lower() != "bearer" or not token:
                        raise Unauthenticated("a bearer token is required")
                    try:
                        principal = await self._verifier.verify(token)
                    except KeySetUnavailable:
                        raise Unavailable(
                            "the identity provider's keys cannot be fetched"
                        ) from None
                    except AuthError as exc:
                        raise Unauthenticated(exc.reason) from None
                fault = message_text_fault(request, free_text=self._free_text)
                if fault is not None:
                    raise Invalid(*fault)
                reset = _principal.set(principal)
                try:
                    try:
                        return await inner(request, context)
                    except StaleConnection:
                        # A pooled connection had died (no pre-ping, kit `db`); nothing was
                        # committed: the call runs once more on a fresh connection.
                        log.info("%s: stale database connection; retrying once", method)
                        return await inner(request, context)
                finally:
                    _principal.reset(reset)
            except DomainError as exc:
                code, message, trailing = status_for(exc)
                await context.abort(code, message, trailing)
            except IntegrityError:
                # A concurrent twin (the same shelter name, say) won the race
                # on a unique key; nothing of this call was written. (A twin with the same
                # idempotency key is refused earlier, by `idempotency.claim`.)
                code, message, trailing = status_for(
                    Aborted("a concurrent change won; retry the request", code="concurrent-change")
                )
                await context.abort(code, message, trailing)
            except Exception as exc:
                if context.code() not in (None, grpc.StatusCode.OK):
                    raise  # already aborted by the handler
                # The frames only: an exception's message may quote personal data (REG-9).
                log.error(
                    "unhandled %s in %s\n%s",
                    type(exc).__name__,
                    method,
                    "".join(traceback.format_tb(exc.__traceback__)),
                )
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class HealthServicer(health.aio.HealthServicer):  # type: ignore[misc]  # untyped package
    """grpcio-health-checking's servicer, with every method health.proto has working:

    - `List` (the package's servicer answers UNIMPLEMENTED, though reflection advertises it):
      every service whose status was set, the server's own `""` included;
    - `Watch` as an async generator: the package's writes with `context.write` and returns
      None, which OpenTelemetry's server interceptor (it iterates a streaming handler) turns
      into an UNKNOWN error.
    """

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        # The package's loop, yielding: the current status, then each change.
        condition = self._server_watchers[request.service]
        self._watcher_count_by_service[request.service] += 1
        last = None
        try:
            async with condition:
                while True:
                    status = self._server_status.get(
                        request.service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
                    )
                    if status != last:
                        yield health_pb2.HealthCheckResponse(status=status)
                    last = status
                    await condition.wait()
        finally:
            self._watcher_count_by_service[request.service] -= 1
            if self._watcher_count_by_service[request.service] == 0:
                del self._server_watchers[request.service]
                del self._watcher_count_by_service[request.service]

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )


# Server reflection v1 is v1alpha under another package name, message for message and field for
# field; grpcio-reflection ships only v1alpha. So the v1 file is v1alpha's descriptor renamed
# (added to the default pool, where reflection finds it like any other), and the v1 method is
# the v1alpha servicer itself: the bytes on the wire are the same.
REFLECTION_V1_SERVICE = "grpc.reflection.v1.ServerReflection"
_REFLECTION_V1_FILE = "grpc/reflection/v1/reflection.proto"


def _add_reflection_v1_descriptor() -> None:
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(_REFLECTION_V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{proto.package}.", ".grpc.reflection.v1."
    proto.name = _REFLECTION_V1_FILE
    proto.package = "grpc.reflection.v1"
    proto.options.Clear()
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name.removeprefix(old)
    for service in proto.service:
        for method in service.method:
            method.input_type = new + method.input_type.removeprefix(old)
            method.output_type = new + method.output_type.removeprefix(old)
    pool.Add(proto)


def enable_reflection(service_names: Sequence[str], server: grpc.aio.Server) -> None:
    """Server reflection, v1 and v1alpha, listing `service_names` and both reflection services
    (health's name is the caller's to list)."""
    _add_reflection_v1_descriptor()
    servicer = reflection.aio.ReflectionServicer(
        [*service_names, REFLECTION_V1_SERVICE, reflection.SERVICE_NAME]
    )
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1 = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(REFLECTION_V1_SERVICE, {"ServerReflectionInfo": v1}),)
    )


def build_server(
    *,
    verifier: TokenVerifier,
    tracer_provider: TracerProvider,
    service_names: Sequence[str],
    free_text: Collection[str] = (),
    signed_methods: Collection[str] = (),
) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    """A server with tracing outermost, then the kit interceptor; health starts NOT_SERVING."""
    server = grpc.aio.server(
        interceptors=[
            aio_server_interceptor(tracer_provider=tracer_provider),  # type: ignore[no-untyped-call]
            KitInterceptor(verifier, free_text=free_text, signed_methods=signed_methods),
        ],
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
            ("grpc.max_send_message_length", MAX_RESPONSE_BYTES),
            # Clients reconnect every few minutes, so load spreads onto replicas added later.
            ("grpc.max_connection_age_ms", 5 * 60 * 1000),
            ("grpc.max_connection_age_grace_ms", 30 * 1000),
        ],
    )
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    enable_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name], server
    )
    return server, health_servicer


async def set_serving(
    health_servicer: health.aio.HealthServicer, service_names: Sequence[str], serving: bool
) -> None:
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in ["", *service_names]:
        await health_servicer.set(name, status)


__all__ = [
    "MAX_REQUEST_BYTES",
    "MAX_RESPONSE_BYTES",
    "REFLECTION_V1_SERVICE",
    "HealthServicer",
    "KitInterceptor",
    "build_server",
    "current_principal",
    "enable_reflection",
    "set_serving",
    "status_for",
]
