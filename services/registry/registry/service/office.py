"""The chain from the commission to the registry office (REG-4, REG-6): the secretary's act of
sending a decision, and the office's inbox of what waits for it, with the clocks."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.events.v1.registry_pb2 import DecisionSent
from kamqor.ids import parse_id
from kamqor.protoconv import page_size as check_page_size
from kamqor.protoconv import ts
from registry import models, rules
from registry.rules import DecisionKind, DecisionState
from registry.service._common import SOURCE, _profile_for
from registry.service._decision_steps import _require_office
from registry.service.changes import ChangeView, reported_in
from registry.service.families import DecisionView, _decision_view


async def send_decision(
    session: AsyncSession, *, principal: Principal, decision_id: str, now: datetime | None = None
) -> DecisionView:
    """The commission's secretary records sending a decision to the registry office of the
    territory: the 7-working-day term is met (on time or not) and the office is notified
    (NTF-6) through the outbox. The office's own term runs from its receipt."""
    require_role(principal, *rules.COMMISSION_ROLES)
    _profile_for(principal.territory, *rules.SEND_RULE.values())
    decision = await models.lock_decision(session, parse_id(decision_id, field="decision_id"))
    if decision is None:
        raise NotFound("decision not found")
    require_territory(principal, decision.territory, entity="decision")
    kind = DecisionKind(decision.kind)
    rules.check_sendable(kind)
    if decision.commission_id != principal.agency:
        raise NotFound("decision not found")  # another commission's decision is not its to send
    rules.check_unsent(decision.state)
    now = now or utcnow()
    on_time = True
    for row in await obligations.for_subject(
        session, f"decision/{decision.id}", rule=rules.SEND_RULE[kind]
    ):
        obligations.meet(session, row, at=now)
        on_time = bool(row.on_time)
    decision.state = DecisionState.SENT
    decision.sent_by = principal.subject
    decision.sent_at = now
    session.add(decision)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.registry.decision.sent",
        entity=f"decision/{decision.id}",
        payload=DecisionSent(
            decision_id=decision.id,
            family_id=decision.family_id,
            territory=decision.territory,
            kind=decision.kind,
            commission_id=decision.commission_id,
            sent_at=ts(now),
            on_time=on_time,
            enter_rule=rules.ENTER_RULE[kind],
        ),
    )
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"decision/{decision.id}",
        purpose=f"{rules.SEND_RULE[kind]} sent to the registry office",
    )
    await session.flush()
    return await _decision_view(session, decision)


INBOX_DEFAULT = 50
INBOX_MAX = 200


async def list_office_inbox(
    session: AsyncSession, *, principal: Principal, page_size: int, page_token: str
) -> tuple[list[DecisionView], str, list[ChangeView]]:
    """What waits for the caller's registry office (REG-4, REG-6): decisions sent and not yet
    received, received and not yet entered, each with its clocks. No personal data: the office
    reads a family with its purpose through `get_family` (REG-9). The changes reported and not
    yet entered (REG-5) come with the first page."""
    _require_office(principal)
    _profile_for(principal.territory, *rules.ENTER_RULE.values())
    limit = check_page_size(page_size, default=INBOX_DEFAULT, maximum=INBOX_MAX)
    try:
        after = parse_id(page_token, field="page_token") if page_token else ""
    except Invalid:
        raise Invalid("page_token", "is not a token this inbox returned") from None
    rows = await models.office_inbox(
        session, territory=principal.territory, after=after, limit=limit + 1
    )
    next_token = rows[limit - 1].id if len(rows) > limit else ""
    found = await obligations.for_subjects(session, [f"decision/{d.id}" for d in rows[:limit]])
    changes = [] if after else await reported_in(session, principal.territory)
    return (
        [DecisionView(d, found.get(f"decision/{d.id}", [])) for d in rows[:limit]],
        next_token,
        changes,
    )
