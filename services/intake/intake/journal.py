"""Later journal entries about an appeal (INT-2): further information, or a correction of its
summary or channel with the reason. The journal is a legal register: the corrected entry is
never rewritten; the correction is an entry of its own, numbered in the same series, naming
who, when and why, and both stay visible. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import models, rules
from intake.models import Appeal, JournalFollowUp
from kamqor import audit, db, idempotency
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import NotFound
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.territories import territory as territory_of


def in_force(appeal: Appeal, follow_ups: list[JournalFollowUp]) -> tuple[str, str]:
    """The appeal's summary and channel after its corrections."""
    return rules.in_force(
        appeal.summary,
        appeal.channel,
        [
            (f.corrected_field, f.text, f.channel)
            for f in follow_ups
            if f.kind == rules.FollowUpKind.CORRECTION
        ],
    )


async def follow_up(
    session: AsyncSession,
    *,
    principal: Principal,
    appeal_id: str,
    entry: rules.FollowUpIn,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> tuple[str, str]:
    """Write a later entry about an appeal of the caller's territory; returns (appeal id,
    follow-up id). A retry with the same key returns the first entry."""
    require_role(principal, *rules.FOLLOWERS)
    key = idempotency.check_key(idempotency_key)
    scope = f"follow_up:{principal.agency}"
    earlier = await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    if earlier is not None:
        first = await session.get(JournalFollowUp, earlier)
        if first is None:  # the key names what it wrote; a missing row is a broken journal
            raise NotFound("follow-up not found")
        return first.appeal_id, first.id
    appeal = await session.get(Appeal, parse_id(appeal_id, field="appeal_id"))
    if appeal is None:
        raise NotFound("appeal not found")
    require_territory(principal, appeal.territory, entity="appeal")
    summary, channel = in_force(
        appeal, (await models.follow_ups_of(session, [appeal.id]))[appeal.id]
    )
    checked = rules.check_follow_up(entry, summary=summary, channel=channel)
    now = now or utcnow()
    year = now.astimezone(get_profile(territory_of(appeal.territory).profile).zone).year
    row = JournalFollowUp(
        id=new_id(),
        appeal_id=appeal.id,
        journal_number="",
        center_id=appeal.center_id,
        year=year,
        sequence=0,
        kind=checked.kind,
        text=checked.text,
        corrected_field=checked.corrected_field or "",
        channel=checked.channel or "",
        reason=checked.reason,
        recorded_at=now,
        recorded_by=principal.subject,
    )
    audit.record(
        session,
        principal=principal,
        action=checked.kind,
        entity=f"appeal/{appeal.id}",
        purpose="INT-2",
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=row.id)
    # The number is taken last, under the counter's row lock, as an appeal's (INT-2: one
    # series without gaps); the caller's unit of work commits next, ending the lock.
    row.sequence = await models.next_sequence(session, center_id=appeal.center_id, year=year)
    row.journal_number = rules.journal_number(appeal.center_id, year, row.sequence)
    db.stage(session, row)
    await db.flush_staged(session)
    return appeal.id, row.id
