"""Re-planning: open obligations computed on a provisional calendar, computed again on new data.

A deadline that reaches a year with no published decree is computed on a calendar derived from
the law and records a `+provisional:` calendar version (`kamqor.calendar.data`). When the year's
decree is added to the calendar data (a data file, shipped with a release), every service calls
`replan_provisional` at start-up: each open obligation whose calendar version no longer matches
what its term gives now gets the new due time, and the change is recorded with both due times
and versions. Met and cancelled obligations keep what they were judged by.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.calendar.terms import TermKind, local_date
from kamqor.db import UTCDateTime
from kamqor.ids import new_id
from kamqor.obligations import Obligation, ObligationState
from kamqor.profiles import Deadline, get_profile

log = logging.getLogger(__name__)

PROVISIONAL_MARK = "+provisional:"


class ObligationReplan(SQLModel, table=True):
    """One change of an obligation's due time after the calendar data changed."""

    __tablename__ = "obligation_replans"

    id: str = Field(primary_key=True)
    obligation_id: str = Field(max_length=64, index=True)
    rule: str = Field(max_length=50)
    at: datetime = Field(sa_type=UTCDateTime)
    old_due_at: datetime = Field(sa_type=UTCDateTime)
    new_due_at: datetime = Field(sa_type=UTCDateTime)
    old_calendar_version: str = Field(max_length=120)
    new_calendar_version: str = Field(max_length=120)


@dataclass(frozen=True)
class Replanned:
    """An obligation whose due time moved, for the owning service's own copies of it."""

    obligation: Obligation
    old_due_at: datetime


def recompute(row: Obligation, *, now: datetime) -> Deadline:
    """The obligation's term counted again from when it arose, on the calendar data in force
    `now` (or when it arose, if later), which knows the decrees published since."""
    version = get_profile(row.profile).at(row.arose_at)
    data_on = local_date(max(now, row.arose_at), version.zone)
    if row.term_kind and row.term_amount is not None:
        kind: TermKind = row.term_kind  # type: ignore[assignment]
        amount = row.term_amount
    else:
        term = version.term(row.rule)
        kind, amount = term.kind, term.amount
    return version.deadline(row.rule, kind, amount, row.arose_at, data_on=data_on)


def _next_check(row: Obligation) -> datetime | None:
    """Where the sweep stands for this row: the stages already emitted are not emitted again."""
    if row.overdue_sent_at is not None:
        return None
    if row.approaching_sent_at is not None:
        return row.due_at
    return min(row.approaching_at, row.due_at)


async def replan_provisional(session: AsyncSession, *, now: datetime) -> list[Replanned]:
    """Compute again every open obligation that rests on a provisional calendar; record and
    return those whose due time or calendar version changed. Never commits."""
    rows = (
        await session.exec(
            select(Obligation)
            .where(Obligation.state == ObligationState.OPEN)
            .where(col(Obligation.calendar_version).contains(PROVISIONAL_MARK))
            .with_for_update(skip_locked=True)
        )
    ).all()
    changed: list[Replanned] = []
    for row in rows:
        deadline = recompute(row, now=now)
        if deadline.calendar_version == row.calendar_version and deadline.due_at == row.due_at:
            continue
        old_due_at = row.due_at
        session.add(
            ObligationReplan(
                id=new_id(),
                obligation_id=row.id,
                rule=row.rule,
                at=now,
                old_due_at=old_due_at,
                new_due_at=deadline.due_at,
                old_calendar_version=row.calendar_version,
                new_calendar_version=deadline.calendar_version,
            )
        )
        profile = get_profile(row.profile)
        row.due_at = deadline.due_at
        row.calendar_version = deadline.calendar_version
        row.approaching_at = profile.approaching_at(row.rule, row.arose_at, deadline.due_at)
        row.next_check_at = _next_check(row)
        session.add(row)
        changed.append(Replanned(obligation=row, old_due_at=old_due_at))
    if changed:
        log.info("re-planned %d obligations on new calendar data", len(changed))
    return changed


async def replans_of(session: AsyncSession, obligation_id: str) -> list[ObligationReplan]:
    """The recorded changes of one obligation's due time, oldest first."""
    query = (
        select(ObligationReplan)
        .where(ObligationReplan.obligation_id == obligation_id)
        .order_by(col(ObligationReplan.at))
    )
    return list((await session.exec(query)).all())
