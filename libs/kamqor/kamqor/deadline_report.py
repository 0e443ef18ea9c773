"""Deadline compliance of one service's obligations, per rule and agency (MON-3).

Every service owns its obligations, so every service answers `DeadlinesService.ReportDeadlines`
over its own `obligations` table through the servicer at the end of this module (registered by
`ServiceApp`); the gateway fans out and merges. Counting is done in SQL, one GROUP BY.

The period is `[from, to)`: obligations whose due time falls on or after 00:00 of `from` and
before 00:00 of `to`, both in the territory's time zone. Cancelled obligations are not counted.
At `as_of`, an open obligation is overdue when its due time has passed (as the sweeper judges).
The on-time share is `met_on_time / (met_on_time + met_late + open_overdue)`: of the obligations
whose outcome is decided, how many were kept; none when nothing is decided yet.

(Named `deadline_report`, not `deadlines`: `kamqor.deadlines` is the generated stubs' package.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

import grpc
from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.db import UnitOfWork
from kamqor.deadlines.v1 import deadlines_pb2 as pb
from kamqor.deadlines.v1 import deadlines_pb2_grpc
from kamqor.errors import Forbidden, Invalid
from kamqor.grpcserver import current_principal
from kamqor.obligations import Obligation, ObligationState
from kamqor.profiles import get_profile
from kamqor.protoconv import parse_date, ts
from kamqor.territories import territory as territory_of

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DeadlinesService"].full_name
# Analysts see aggregates only, which is all this is; heads and auditors follow their centers.
READERS = ("analyst", "center-head", "auditor")
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Counts:
    """How the obligations of one group kept their term."""

    met_on_time: int = 0
    met_late: int = 0
    open_overdue: int = 0
    open_not_due: int = 0

    @property
    def total(self) -> int:
        return self.met_on_time + self.met_late + self.open_overdue + self.open_not_due

    @property
    def on_time_share(self) -> float | None:
        """Kept on time among the decided (met, or open past the due time); None if none is."""
        decided = self.met_on_time + self.met_late + self.open_overdue
        return self.met_on_time / decided if decided else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            met_on_time=self.met_on_time + other.met_on_time,
            met_late=self.met_late + other.met_late,
            open_overdue=self.open_overdue + other.open_overdue,
            open_not_due=self.open_not_due + other.open_not_due,
        )


@dataclass(frozen=True)
class DeadlineRow:
    rule: str
    responsible_agency: str
    counts: Counts


@dataclass(frozen=True)
class DeadlineReport:
    territory: str
    start: datetime
    end: datetime
    as_of: datetime
    rows: list[DeadlineRow]


def period(
    from_date: date, to_date: date, *, zone: tzinfo, fields: tuple[str, str] = ("from", "to")
) -> tuple[datetime, datetime]:
    """`[from, to)` as instants at local midnight; `Invalid` naming the field that is wrong."""
    if to_date <= from_date:
        raise Invalid(fields[1], f"must be after {fields[0]}")
    if (to_date - from_date).days > MAX_PERIOD_DAYS:
        raise Invalid(fields[1], f"at most {MAX_PERIOD_DAYS} days after {fields[0]}")
    start = datetime.combine(from_date, time(), tzinfo=zone)
    end = datetime.combine(to_date, time(), tzinfo=zone)
    return start, end


def _date(value: str, field: str) -> date:
    parsed = parse_date(value, field=field)
    if parsed is None:  # parse_date already refuses a missing required date
        raise Invalid(field, "is required (YYYY-MM-DD)")
    return parsed


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def count_deadlines(
    session: AsyncSession, *, territory: str, start: datetime, end: datetime, now: datetime
) -> list[DeadlineRow]:
    """Rows per (rule, responsible agency) of the obligations due in `[start, end)`."""
    state, due_at = col(Obligation.state), col(Obligation.due_at)
    met, is_open = state == ObligationState.MET, state == ObligationState.OPEN
    on_time = col(Obligation.on_time).is_(True)
    rule, agency = col(Obligation.rule), col(Obligation.responsible_agency)
    query = (
        select(
            rule,
            agency,
            _count(met & on_time),
            _count(met & ~on_time),
            _count(is_open & (due_at <= now)),
            _count(is_open & (due_at > now)),
        )
        .where(col(Obligation.territory) == territory)
        .where(due_at >= start, due_at < end)
        .where(state != ObligationState.CANCELLED)
        .group_by(rule, agency)
        .order_by(rule, agency)
    )
    result = await (await session.connection()).execute(query)
    return [
        DeadlineRow(
            rule=r,
            responsible_agency=a,
            counts=Counts(
                met_on_time=int(m), met_late=int(late), open_overdue=int(o), open_not_due=int(n)
            ),
        )
        for r, a, m, late, o, n in result.all()
    ]


async def report_deadlines(
    session: AsyncSession,
    *,
    principal: Principal,
    from_date: str,
    to_date: str,
    territory: str = "",
    now: datetime | None = None,
    fields: tuple[str, str] = ("from", "to"),
) -> DeadlineReport:
    """On-time figures per rule and agency of the caller's territory over `[from, to)` (MON-3).

    Dates are ISO `YYYY-MM-DD`; `fields` are their names as the client spelled them.
    """
    require_role(principal, *READERS)
    first, after = _date(from_date, fields[0]), _date(to_date, fields[1])
    territory = territory or principal.territory
    if territory != principal.territory:
        raise Forbidden("reports cover the caller's own territory only")
    zone = get_profile(territory_of(territory).profile).zone
    start, end = period(first, after, zone=zone, fields=fields)
    now = now or utcnow()
    rows = await count_deadlines(session, territory=territory, start=start, end=end, now=now)
    return DeadlineReport(territory=territory, start=start, end=end, as_of=now, rows=rows)


# --- the servicer every service registers -----------------------------------------------------


def row_pb(row: DeadlineRow) -> pb.DeadlineRow:
    c = row.counts
    return pb.DeadlineRow(
        rule=row.rule,
        responsible_agency=row.responsible_agency,
        total=c.total,
        met_on_time=c.met_on_time,
        met_late=c.met_late,
        open_overdue=c.open_overdue,
        open_not_due=c.open_not_due,
        on_time_share=c.on_time_share,
    )


class DeadlinesServicer(deadlines_pb2_grpc.DeadlinesServiceServicer):
    """Proto to use case and back; read-only, so a plain unit of work (no relay to wake)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def ReportDeadlines(
        self, request: pb.ReportDeadlinesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReportDeadlinesResponse:
        async with self._uow() as session:
            report = await report_deadlines(
                session,
                principal=current_principal(),
                from_date=request.from_date,
                to_date=request.to_date,
                territory=request.territory,
                fields=("from_date", "to_date"),
            )
        return pb.ReportDeadlinesResponse(
            rows=[row_pb(r) for r in report.rows],
            territory=report.territory,
            period_start=ts(report.start),
            period_end=ts(report.end),
            as_of=ts(report.as_of),
        )
