"""gRPC status with rich details -> problem+json; request locations -> field paths."""

from __future__ import annotations

import grpc
import pytest

from gateway.problems import GENERIC_DETAIL, UNAVAILABLE_DETAIL, field_path, rpc_problem
from kamqor.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated
from kamqor.grpcserver import STATUS_DETAILS_KEY, status_for

TYPE = "https://kamqor.dev/problems/"


def rpc_error(
    code: grpc.StatusCode, details: str = "", trailing: tuple[tuple[str, bytes], ...] = ()
) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details=details
    )


def from_domain(error: DomainError) -> grpc.aio.AioRpcError:
    """The error a client sees when a service raises `error` (the kit's own mapping)."""
    code, message, trailing = status_for(error)
    return rpc_error(code, message, trailing)


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (NotFound("stay not found"), 404, "not-found"),
        (Conflict("no free bed", code="shelter-full"), 409, "shelter-full"),
        (Conflict("already discharged"), 409, "conflict"),
        (Forbidden("not your territory"), 403, "forbidden"),
        (Unauthenticated("token expired"), 401, "unauthenticated"),
    ],
)
def test_domain_errors_keep_status_reason_and_message(
    error: DomainError, status: int, reason: str
) -> None:
    body = rpc_problem(from_domain(error), "/v1/stays")
    assert (body.status, body.type, body.detail) == (status, TYPE + reason, error.message)
    assert body.instance == "/v1/stays"
    assert body.errors is None


def test_stable_title_per_type() -> None:
    body = rpc_problem(from_domain(Conflict("no free bed", code="shelter-full")), "/v1/stays")
    assert body.title == "Shelter full"


def test_invalid_argument_lists_field_violations() -> None:
    body = rpc_problem(from_domain(Invalid("minors[1].birth_date", "is in the future")), "/x")
    assert (body.status, body.type) == (422, TYPE + "invalid")
    assert [(e.field, e.message) for e in body.errors or []] == [
        ("minors[1].birth_date", "is in the future")
    ]


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (grpc.StatusCode.NOT_FOUND, 404, "not-found"),
        (grpc.StatusCode.INVALID_ARGUMENT, 422, "invalid"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "conflict"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "forbidden"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "unauthenticated"),
    ],
)
def test_plain_status_without_details_maps_by_code(
    code: grpc.StatusCode, status: int, reason: str
) -> None:
    body = rpc_problem(rpc_error(code, "plain message"), "/x")
    assert (body.status, body.type, body.detail) == (status, TYPE + reason, "plain message")


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_unavailable_service_is_503_without_transport_detail(code: grpc.StatusCode) -> None:
    body = rpc_problem(rpc_error(code, "failed to connect to all addresses; ipv4:10.0.0.7"), "/x")
    assert (body.status, body.type) == (503, TYPE + "service-unavailable")
    assert body.detail == UNAVAILABLE_DETAIL


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNIMPLEMENTED]
)
def test_server_faults_are_500_and_leak_nothing(code: grpc.StatusCode) -> None:
    leaky = rpc_error(code, 'Traceback (most recent call last): File "service.py", line 3')
    body = rpc_problem(leaky, "/x")
    assert (body.status, body.type, body.detail) == (500, TYPE + "internal", GENERIC_DETAIL)
    assert "Traceback" not in body.model_dump_json()


def test_undecodable_details_fall_back_to_the_code() -> None:
    error = rpc_error(grpc.StatusCode.NOT_FOUND, "gone", ((STATUS_DETAILS_KEY, b"\xff\x00junk"),))
    body = rpc_problem(error, "/x")
    assert (body.status, body.type) == (404, TYPE + "not-found")


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "adult", "birth_date"), "adult.birth_date"),
        (("body", "minors", 1, "full_name"), "minors[1].full_name"),
        (("body", "persons", 0, "relation"), "persons[0].relation"),
        (("path", "stay_id"), "stay_id"),
        (("query", "page_size"), "page_size"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("body",), "body"),
    ],
)
def test_field_path(loc: tuple[int | str, ...], expected: str) -> None:
    assert field_path(loc) == expected
