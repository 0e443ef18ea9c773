"""Changes in a family's data (REG-5): the responsible body reports them within 7 working days
of the change, the registry office enters them within 3 working days of the report, and the
bank keeps every field's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from registry import models, rules
from registry.models import Family, FamilyChange, FamilyMember, FieldHistory
from registry.rules import ChangeState, DecisionKind
from registry.service._common import _profile_for
from registry.service._decision_steps import _local_start, _require_office


@dataclass(frozen=True)
class ChangeView:
    change: FamilyChange
    obligations: list[Obligation]


async def report_change(
    session: AsyncSession,
    *,
    principal: Principal,
    family_id: str,
    changed_on: date,
    fields: Sequence[rules.FieldChange],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> ChangeView:
    """The responsible body reports changed data of a family on record: its 7 working days from
    the change are met (on time or not) and the office's 3 working days to enter it start."""
    require_role(principal, *rules.CHANGE_REPORTER_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"report_change:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _view(session, earlier)
    profile = _profile_for(principal.territory, rules.CHANGE_SEND_RULE, rules.CHANGE_ENTER_RULE)
    family = await models.lock_family(session, parse_id(family_id, field="family_id"))
    if family is None:
        raise NotFound("family not found")
    require_territory(principal, family.territory, entity="family")
    if not rules.may_report_change(principal, responsible_agency_id=family.responsible_agency_id):
        # Only the responsible body knows the family's data changed (REG-5); to others the
        # family's existence is not disclosed (REG-9).
        raise NotFound("family not found")
    rules.check_changeable(family.state)
    now = now or utcnow()
    if changed_on > local_date(now, profile.zone):
        raise Invalid("changed_on", "is in the future")
    members = await models.members_of(session, family.id)
    kept = rules.check_change(fields, member_ids=[m.id for m in members])
    change = FamilyChange(
        id=new_id(),
        family_id=family.id,
        territory=family.territory,
        changed_on=changed_on,
        fields=[{"member_id": f.member_id, "field": f.field, "value": f.value} for f in kept],
        reported_by=principal.subject,
        reporting_agency=principal.agency,
        reported_at=now,
    )
    session.add(change)
    subject = f"change/{change.id}"
    reported = obligations.open_obligation(
        session,
        rule=rules.CHANGE_SEND_RULE,
        subject=subject,
        territory=family.territory,
        arose_at=_local_start(profile, changed_on),
        responsible_agency=principal.agency,
        responsible_person=principal.subject,
    )
    obligations.meet(session, reported, at=now)
    obligations.open_obligation(
        session,
        rule=rules.CHANGE_ENTER_RULE,
        subject=subject,
        territory=family.territory,
        arose_at=now,
        responsible_agency=await _keeping_office(session, family.id),
    )
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"family/{family.id}",
        purpose="REG-5 change reported",
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=change.id)
    await session.flush()
    return await _view(session, change.id)


async def enter_change(
    session: AsyncSession, *, principal: Principal, change_id: str, now: datetime | None = None
) -> ChangeView:
    """The registry office enters a reported change: each field takes its new value and the old
    one stays in the field's history (REG-5)."""
    _require_office(principal)
    change = await models.lock_change(session, parse_id(change_id, field="change_id"))
    if change is None:
        raise NotFound("change not found")
    require_territory(principal, change.territory, entity="change")
    _profile_for(change.territory, rules.CHANGE_ENTER_RULE)
    if change.state == ChangeState.VOID:
        raise Conflict(
            "the family was removed from the bank before the change was entered (REG-6)",
            code="not-registered",
        )
    if change.state != ChangeState.REPORTED:
        raise Conflict("the change is already entered (REG-5)", code="change-entered")
    family = await models.lock_family(session, change.family_id)
    assert family is not None
    rules.check_changeable(family.state)
    now = now or utcnow()
    members = {m.id: m for m in await models.members_of(session, family.id)}
    for f in change.fields:
        old = _apply(family, members.get(f["member_id"]), f["field"], f["value"])
        session.add(
            FieldHistory(
                id=new_id(),
                family_id=family.id,
                member_id=f["member_id"],
                field=f["field"],
                old_value=old,
                new_value=f["value"],
                change_id=change.id,
                entered_by=principal.subject,
                entered_at=now,
            )
        )
    session.add(family)
    session.add_all(members.values())
    for row in await obligations.for_subject(
        session, f"change/{change.id}", rule=rules.CHANGE_ENTER_RULE
    ):
        obligations.meet(session, row, at=now)
    change.state = ChangeState.ENTERED
    change.entered_by = principal.subject
    change.entered_at = now
    session.add(change)
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"family/{family.id}",
        purpose="REG-5 change entered",
    )
    await session.flush()
    return await _view(session, change.id)


def _apply(family: Family, member: FamilyMember | None, field: str, value: str) -> str:
    """Set the field, returning its old value as text."""
    if member is None:
        old = family.responsible_body
        family.responsible_body = value
        return old
    current = getattr(member, field)
    if field == "disability":
        member.disability = value == "true"
        return "true" if current else "false"
    if field == "document_issued_on":
        member.document_issued_on = date.fromisoformat(value) if value else None
        return current.isoformat() if current else ""
    setattr(member, field, value)
    if field == "full_name":
        member.search_name = rules.search_key(value)
    return str(current)


async def _keeping_office(session: AsyncSession, family_id: str) -> str:
    """The registry office that entered the family: it enters the family's changes too."""
    for d in await models.decisions_of(session, family_id):
        if d.kind == DecisionKind.REGISTRATION and d.office_id:
            return d.office_id
    raise Forbidden("the family was never entered by a registry office")  # unreachable


async def reported_in(session: AsyncSession, territory: str) -> list[ChangeView]:
    changes = await models.reported_changes(session, territory=territory, limit=200)
    found = await obligations.for_subjects(session, [f"change/{c.id}" for c in changes])
    return [ChangeView(c, found.get(f"change/{c.id}", [])) for c in changes]


async def _view(session: AsyncSession, change_id: str) -> ChangeView:
    change = await session.get(FamilyChange, change_id)
    if change is None:
        raise NotFound("change not found")
    return ChangeView(change, await obligations.for_subject(session, f"change/{change.id}"))
