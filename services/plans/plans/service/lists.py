"""The list of plans: a center's (the case worker's own with `mine`), with what is due next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import union_all
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from kamqor import paging
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.ids import parse_id
from kamqor.obligations import Obligation, ObligationState
from kamqor.protoconv import page_size as check_page_size
from plans import rules
from plans.models import Measure, Plan

ORDER = "newest"


def next_due_query(plan_ids: list[str]) -> Select[Any, Any]:
    """The earliest open obligation of each plan or of its measures: (plan id, obligation id)."""
    o = Obligation
    own: Select[Any, Any, Any] = select(
        func.substr(col(o.subject), 6).label("plan_id"), col(o.id).label("id"), col(o.due_at)
    ).where(o.state == ObligationState.OPEN, col(o.subject).in_([f"plan/{i}" for i in plan_ids]))
    via: Select[Any, Any, Any] = (
        select(col(Measure.plan_id).label("plan_id"), col(o.id).label("id"), col(o.due_at))
        .join(Measure, col(o.subject) == func.concat("measure/", col(Measure.id)))
        .where(o.state == ObligationState.OPEN, col(Measure.plan_id).in_(plan_ids))
    )
    due = union_all(own, via).subquery()
    return (
        select(due.c.plan_id, due.c.id)
        .distinct(due.c.plan_id)
        .order_by(due.c.plan_id, due.c.due_at)
    )


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    measures: int
    open_measures: int
    next_due: Obligation | None


async def list_plans(
    session: AsyncSession,
    *,
    principal: Principal,
    state: rules.PlanState | None,
    case_id: str,
    mine: bool,
    page_size: int,
    page_token: str,
) -> tuple[list[PlanRow], str]:
    """The plans of the caller's center, newest first (a commission member: of the territory).
    Rows carry no personal data (ids, states, counts, terms), so the list is not audited; each
    plan read in full is (REG-9)."""
    require_role(principal, *rules.PLAN_READERS)
    limit = check_page_size(page_size)
    query = select(Plan).where(Plan.territory == principal.territory)
    if not principal.has_any("commission-member"):
        query = query.where(Plan.center_id == principal.agency)
    if state is not None:
        query = query.where(Plan.state == state)
    if case_id:
        query = query.where(Plan.case_id == parse_id(case_id, field="case_id"))
    if mine:
        query = query.where(Plan.created_by == principal.subject)
    cursor = paging.decode(page_token, order=ORDER, key_type=str)
    if cursor is not None:
        query = query.where(col(Plan.id) < cursor.id)
    rows = list((await session.exec(query.order_by(col(Plan.id).desc()).limit(limit + 1))).all())
    token = paging.next_token(rows, limit, ORDER, lambda p: p.id)
    rows = rows[:limit]
    ids = [p.id for p in rows]
    counts: dict[str, tuple[int, int]] = {}
    due: dict[str, Obligation] = {}
    if ids:
        finished = list(rules.FINISHED_MEASURE_STATES)
        count_query = (
            select(
                Measure.plan_id,
                func.count(),
                func.count().filter(col(Measure.state).not_in(finished)),
            )
            .where(col(Measure.plan_id).in_(ids))
            .group_by(Measure.plan_id)
        )
        counts = {pid: (n, left) for pid, n, left in (await session.exec(count_query)).all()}
        pairs = (await session.exec(next_due_query(ids))).all()
        if pairs:
            found = await session.exec(
                select(Obligation).where(col(Obligation.id).in_([o for _, o in pairs]))
            )
            by_id = {o.id: o for o in found.all()}
            due = {pid: by_id[oid] for pid, oid in pairs}
    return [PlanRow(p, *counts.get(p.id, (0, 0)), next_due=due.get(p.id)) for p in rows], token
