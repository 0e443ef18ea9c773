"""Intake use cases: the journal entry comes first, then its triage obligations (INT-2, INT-3).
Never commits: the caller's unit of work does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import models, rules
from intake.models import Appeal, AppealPerson
from kamqor import audit, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import NotFound
from kamqor.events.v1.intake_pb2 import AppealRegistered
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"


@dataclass(frozen=True)
class AppealView:
    appeal: Appeal
    persons: list[AppealPerson]
    obligations: list[Obligation]


def _journal_of(principal: Principal) -> str:
    """Centers keep their own journal; the hotline's calls go to the territory's center (INT-1)."""
    if principal.agency_type == "family_center":
        return principal.agency
    return territory_of(principal.territory).center


async def register_appeal(
    session: AsyncSession,
    *,
    principal: Principal,
    channel: rules.Channel,
    summary: str,
    persons: list[rules.PersonIn],
    threat_to_life: bool,
    domestic_violence: bool,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> AppealView:
    """Register an appeal in the journal before anything else happens (INT-2) and open its
    triage obligations where the profile sets them (INT-3; INT-7 with signs of domestic
    violence)."""
    require_role(principal, *rules.REGISTRARS)
    key = idempotency.check_key(idempotency_key)
    scope = f"register_appeal:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await get_appeal(session, principal=principal, appeal_id=earlier, audit_read=False)
    now = now or utcnow()
    territory = territory_of(principal.territory)
    profile = get_profile(territory.profile)
    today = now.astimezone(profile.zone).date()
    summary = rules.check_summary(summary)
    rules.check_persons(persons, today=today)

    center_id = _journal_of(principal)
    sequence = await models.next_sequence(session, center_id=center_id, year=today.year)
    appeal = Appeal(
        id=new_id(),
        journal_number=rules.journal_number(center_id, today.year, sequence),
        center_id=center_id,
        year=today.year,
        sequence=sequence,
        territory=territory.code,
        channel=channel,
        registered_at=now,
        summary=summary,
        threat_to_life=threat_to_life,
        domestic_violence=domestic_violence,
        registered_by=principal.subject,
    )
    session.add(appeal)
    await session.flush()  # the entry exists before anything refers to it (INT-2)
    kept = [
        AppealPerson(
            id=new_id(),
            appeal_id=appeal.id,
            position=i,
            full_name=p.full_name.strip(),
            relation=p.relation,
            birth_date=p.birth_date,
        )
        for i, p in enumerate(persons)
    ]
    session.add_all(kept)
    entity = f"appeal/{appeal.id}"
    opened = [
        obligations.open_obligation(
            session,
            rule=rule,
            subject=entity,
            territory=territory.code,
            arose_at=now,
            responsible_agency=center_id,
        )
        for rule in rules.triage_rules(
            threat_to_life=threat_to_life,
            domestic_violence=domestic_violence,
            has_rule={r for r in rules.TRIAGE_KEYS if profile.at(now).has_rule(r)},
        )
    ]
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.intake.appeal.registered",
        entity=entity,
        payload=AppealRegistered(
            appeal_id=appeal.id,
            journal_number=appeal.journal_number,
            center_id=center_id,
            territory=territory.code,
            registered_at=ts(now),
            threat_to_life=threat_to_life,
            domestic_violence=domestic_violence,
            minors=rules.minors_among(persons, today=today),
        ),
    )
    audit.record(session, principal=principal, action="create", entity=entity, purpose="INT-2")
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=appeal.id)
    return AppealView(appeal=appeal, persons=kept, obligations=opened)


async def get_appeal(
    session: AsyncSession, *, principal: Principal, appeal_id: str, audit_read: bool = True
) -> AppealView:
    """One entry of the caller's territory; reading the persons is audited (REG-9)."""
    require_role(principal, *rules.READERS)
    appeal = await session.get(Appeal, parse_id(appeal_id, field="appeal_id"))
    if appeal is None:
        raise NotFound("appeal not found")
    require_territory(principal, appeal.territory, entity="appeal")
    entity = f"appeal/{appeal.id}"
    if audit_read:
        audit.record(session, principal=principal, action="read", entity=entity, purpose="view")
    persons = (await models.persons_of(session, [appeal.id]))[appeal.id]
    return AppealView(
        appeal=appeal, persons=persons, obligations=await obligations.for_subject(session, entity)
    )


async def list_appeals(
    session: AsyncSession, *, principal: Principal, page_token: str, page_size: int
) -> tuple[list[AppealView], str]:
    """The territory's journal, newest first; every listed entry's read is audited (REG-9)."""
    require_role(principal, *rules.READERS)
    before = parse_id(page_token, field="page_token") if page_token else None
    rows = await models.page(
        session, territory=principal.territory, before_id=before, limit=page_size + 1
    )
    next_token = rows[page_size - 1].id if len(rows) > page_size else ""
    rows = rows[:page_size]
    ids = [a.id for a in rows]
    persons = await models.persons_of(session, ids)
    duties = await obligations.for_subjects(session, [f"appeal/{i}" for i in ids])
    for appeal in rows:
        audit.record(
            session,
            principal=principal,
            action="read",
            entity=f"appeal/{appeal.id}",
            purpose="list",
        )
    views = [AppealView(a, persons[a.id], duties[f"appeal/{a.id}"]) for a in rows]
    return views, next_token
