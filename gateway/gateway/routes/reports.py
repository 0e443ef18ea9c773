"""/v1/reports: monitoring reports (MON-*). Deadline compliance (MON-3) asks every service
for its own obligations, concurrently, and merges the rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import GrpcClients
from gateway.openapi import responses
from gateway.schemas.common import IsoDate, Line
from gateway.schemas.reports import DeadlineReport
from gateway.settings import SERVICES
from kamqor.deadline_report import READERS, period
from kamqor.deadlines.v1 import deadlines_pb2 as pb
from kamqor.deadlines.v1 import deadlines_pb2_grpc
from kamqor.errors import Invalid

NAME = "reports"

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1/reports",
    tags=["reports"],
    responses=responses(401, 403, 503),
)


def check_period(from_: date, to: date) -> None:
    """The kit's period rules (`to` after `from`, at most 366 days), as a 422 naming the field."""
    try:
        period(from_, to, zone=UTC)
    except Invalid as exc:
        raise RequestValidationError(
            [{"loc": ("query", exc.field), "msg": exc.reason, "type": "value_error"}]
        ) from None


@router.get(
    "/deadlines",
    operation_id="getDeadlineReport",
    summary="On-time share per rule and per agency (MON-3)",
    dependencies=[require_roles(*READERS)],
    responses=responses(422)
    | {
        422: {
            "description": "Invalid input, `to` not after `from` or over 366 days after it "
            "included; `errors` names each field"
        }
    },
)
async def report_deadlines(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    from_: Annotated[
        IsoDate, Query(alias="from", description="First day, YYYY-MM-DD (inclusive).")
    ],
    to: Annotated[
        IsoDate,
        Query(
            description="Day after the period, YYYY-MM-DD (exclusive): after `from` and at most "
            "366 days later, or a 422 naming `to`."
        ),
    ],
    territory: Annotated[
        Line | None,
        Query(max_length=50, description="The caller's own territory (the default)."),
    ] = None,
) -> DeadlineReport:
    """Obligations whose due time falls in `[from, to)` (local midnights of the territory), per
    rule and responsible agency, summed over the five services; with totals per rule and per
    agency. Aggregates only: no person or case is named."""
    check_period(from_, to)
    request = pb.ReportDeadlinesRequest(
        from_date=from_.isoformat(), to_date=to.isoformat(), territory=territory or ""
    )
    options = clients.options(principal)
    replies = await asyncio.gather(
        *(
            deadlines_pb2_grpc.DeadlinesServiceStub(clients.channel(name)).ReportDeadlines(
                request, **options
            )
            for name in SERVICES
        )
    )
    return DeadlineReport.merge(replies, from_=from_, to=to)
