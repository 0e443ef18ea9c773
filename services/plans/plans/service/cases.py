"""The intake cases plans belong to, as intake announces them (CaseOpened)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from plans.models import Plan
from plans.models.lifecycle import KnownCase


async def remember_case(session: AsyncSession, opened: Any) -> None:
    """Keep the case's family (PLN-1): a plan drafted before the event arrived learns it too,
    so its closure letter reaches the family (PLN-11). A redelivery changes nothing."""
    await session.exec(
        insert(KnownCase)
        .values(
            case_id=opened.case_id,
            family_id=opened.family_id,
            center_id=opened.center_id,
            territory=opened.territory,
        )
        .on_conflict_do_nothing(index_elements=["case_id"])
    )
    await session.exec(
        update(Plan)
        .where(col(Plan.case_id) == opened.case_id)
        .where(col(Plan.family_id) == "")
        .values(family_id=opened.family_id)
    )
