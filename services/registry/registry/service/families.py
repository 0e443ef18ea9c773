"""Data bank families: reading one, searching them, and the views the use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, obligations
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.errors import Forbidden, NotFound
from kamqor.ids import parse_id
from kamqor.obligations import Obligation
from kamqor.protoconv import page_size as check_page_size
from registry import models, rules
from registry.models import Decision, Family, FamilyMember
from registry.rules import FamilyState
from registry.service._common import _profile_for


@dataclass(frozen=True)
class DecisionView:
    decision: Decision
    obligations: list[Obligation]


@dataclass(frozen=True)
class FamilyView:
    family: Family
    members: list[FamilyMember]
    decisions: list[DecisionView]
    obligations: list[Obligation]


@dataclass(frozen=True)
class FamilySummary:
    family: Family
    members: list[FamilyMember]


async def get_family(
    session: AsyncSession,
    *,
    principal: Principal,
    family_id: str,
    purpose: str,
) -> FamilyView:
    """One family of the caller's territory, on need to know, the read logged with its purpose
    (REG-9); a removed family only from the archive, for auditors (REG-6)."""
    require_role(principal, *rules.FAMILY_READER_ROLES)
    _profile_for(principal.territory)
    purpose = rules.check_purpose(purpose)
    family = await session.get(Family, parse_id(family_id, field="family_id"))
    if family is None:
        raise NotFound("family not found")
    require_territory(principal, family.territory, entity="family")
    if not rules.may_read(
        principal, family_state=family.state, responsible_agency_id=family.responsible_agency_id
    ):
        if family.state == FamilyState.DEREGISTERED:
            raise NotFound("family not found")
        raise Forbidden("no need to know this family (REG-9)")
    audit.record(
        session, principal=principal, action="read", entity=f"family/{family.id}", purpose=purpose
    )
    return await _family_view(session, family.id)


async def search_families(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    birth_date: date | None,
    purpose: str,
    page_size: int,
    page_token: str,
) -> tuple[list[FamilySummary], str]:
    """Registered families of the caller's territory with a member matching; families not yet
    entered or removed never appear (REG-4, REG-6); each hit is logged with the purpose (REG-9).
    """
    if not rules.may_search(principal):
        raise Forbidden("no need to know the data bank (REG-9)")
    _profile_for(principal.territory)
    purpose = rules.check_purpose(purpose)
    name_key = rules.check_search(name)
    limit = check_page_size(page_size)
    after = parse_id(page_token, field="page_token") if page_token else ""
    families = await models.search(
        session,
        territory=principal.territory,
        name_key=name_key,
        birth_date=birth_date,
        after=after,
        limit=limit + 1,
    )
    more = len(families) > limit
    families = families[:limit]
    members = await models.members_of_many(session, [f.id for f in families])
    for f in families:
        audit.record(
            session, principal=principal, action="read", entity=f"family/{f.id}", purpose=purpose
        )
    return (
        [FamilySummary(family=f, members=members[f.id]) for f in families],
        families[-1].id if more else "",
    )


async def _decision_view(session: AsyncSession, decision: Decision) -> DecisionView:
    return DecisionView(
        decision=decision,
        obligations=await obligations.for_subject(session, f"decision/{decision.id}"),
    )


async def _family_view(session: AsyncSession, family_id: str) -> FamilyView:
    family = await session.get(Family, family_id)
    if family is None:
        raise NotFound("family not found")
    decisions = await models.decisions_of(session, family.id)
    found = await obligations.for_subjects(session, [f"decision/{d.id}" for d in decisions])
    return FamilyView(
        family=family,
        members=await models.members_of(session, family.id),
        decisions=[DecisionView(d, found.get(f"decision/{d.id}", [])) for d in decisions],
        obligations=await obligations.for_subject(session, f"family/{family.id}"),
    )
