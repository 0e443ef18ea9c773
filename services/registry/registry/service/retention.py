"""Erasure (REG-6, REG-9, issue 15): a family removed from the bank stays in the archive, for
auditors, for the retention period its territory's profile sets (`REG-6/retention`), then the
sweeper erases it: its members, decisions, changes and their history, the answers to requests
that disclosed it, the idempotency keys and the delivered events that name it. Its terms are
kept for the deadline statistics (MON-3) with the link to it cut; the access log (REG-9) keeps
its rows, which hold ids only and which the application may not change."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit
from kamqor.auth import Principal
from kamqor.profiles import get_profile
from kamqor.territories import territory as territory_of
from registry.models import Decision, Family, FamilyChange
from registry.rules import FamilyState
from registry.rules.reports import RETENTION_RULE

# Families erased per pass: a backlog is worked through a batch per sweep.
BATCH = 50
# Who the erasure is recorded as in the access log.
SWEEPER = Principal(
    subject="registry-sweeper",
    username="registry-sweeper",
    roles=frozenset(),
    agency="registry",
    agency_type="system",
    territory="",
    client_id="registry",
    token="",
)


async def erase_expired(session: AsyncSession, *, now: datetime) -> int:
    """Erase the removed families whose retention has run out by `now`; returns how many."""
    query = (
        select(Family)
        .where(Family.state == FamilyState.DEREGISTERED)
        .where(col(Family.deregistered_at).is_not(None))
        .order_by(col(Family.deregistered_at))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    erased = 0
    for family in (await session.exec(query)).all():
        profile = get_profile(territory_of(family.territory).profile)
        if not profile.has_rule(RETENTION_RULE) or family.deregistered_at is None:
            continue
        if profile.due(RETENTION_RULE, family.deregistered_at).due_at > now:
            continue
        await erase_family(session, family.id)
        erased += 1
    return erased


async def erase_family(session: AsyncSession, family_id: str) -> None:
    conn = await session.connection()
    decisions = list(
        (await session.exec(select(Decision.id).where(Decision.family_id == family_id))).all()
    )
    changes = list(
        (
            await session.exec(select(FamilyChange.id).where(FamilyChange.family_id == family_id))
        ).all()
    )
    ids = [family_id, *decisions, *changes]
    subjects = [
        f"family/{family_id}",
        *(f"decision/{d}" for d in decisions),
        *(f"change/{c}" for c in changes),
    ]
    await _forget_in_answers(conn, family_id)
    for table in ("family_field_history", "family_changes", "decisions", "family_members"):
        await conn.execute(sa.text(f"DELETE FROM {table} WHERE family_id = :f"), {"f": family_id})
    await conn.execute(sa.text("DELETE FROM families WHERE id = :f"), {"f": family_id})
    await conn.execute(
        sa.text("UPDATE obligations SET subject = 'erased' WHERE subject = ANY(:s)"),
        {"s": subjects},
    )
    await conn.execute(
        sa.text("DELETE FROM idempotency_keys WHERE result_id = ANY(:ids)"), {"ids": ids}
    )
    # Delivered events only: an event not yet published is still owed to its consumers.
    for one in ids:
        await conn.execute(
            sa.text(
                "DELETE FROM outbox WHERE sent_at IS NOT NULL "
                "AND position(convert_to(:id, 'UTF8') in body) > 0"
            ),
            {"id": one},
        )
    audit.record(
        session,
        principal=SWEEPER,
        action="erase",
        entity=f"family/{family_id}",
        purpose=f"{RETENTION_RULE}: retention period over",
    )


async def _forget_in_answers(conn: AsyncConnection, family_id: str) -> None:
    """Answers to requests keep their other families; this one leaves them. The answer lists
    families in the order of `family_ids`."""
    rows = (
        await conn.execute(
            sa.text(
                "SELECT id, answer, family_ids FROM inquiries WHERE family_ids @> "
                "jsonb_build_array(CAST(:f AS text)) FOR UPDATE"
            ),
            {"f": family_id},
        )
    ).all()
    for inquiry_id, raw_answer, raw_ids in rows:
        # Decoded by the driver's JSON codec, or text where none is installed.
        answer = json.loads(raw_answer) if isinstance(raw_answer, str) else raw_answer
        family_ids = json.loads(raw_ids) if isinstance(raw_ids, str) else raw_ids
        keep = [i for i, f in enumerate(family_ids) if f != family_id]
        answer["families"] = [answer["families"][i] for i in keep]
        answer["erased"] = int(answer.get("erased", 0)) + 1
        await conn.execute(
            sa.text(
                # The name asked about goes too: it was asked because it is this family's.
                "UPDATE inquiries SET answer = CAST(:a AS jsonb), family_ids = CAST(:ids AS jsonb),"
                " subject_full_name = '' WHERE id = :id"
            ),
            {
                "a": json.dumps(answer),
                "ids": json.dumps([family_ids[i] for i in keep]),
                "id": inquiry_id,
            },
        )
