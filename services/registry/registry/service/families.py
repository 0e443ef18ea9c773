"""Data bank families: reading one, searching them, and the views the use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, obligations
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.errors import Forbidden, Invalid, NotFound
from kamqor.ids import parse_id
from kamqor.obligations import Obligation
from kamqor.protoconv import page_size as check_page_size
from registry import models, rules
from registry.models import Decision, Family, FamilyMember, FieldHistory
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
    history: list[FieldHistory]


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
        # Out of the caller's need to know (REG-9): answered exactly as a missing family, so a
        # reader of the territory without need to know cannot learn that the family exists.
        raise NotFound("family not found")
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
    if name_key:
        # Ranked by similarity (typos, either script, Kazakh letters: migration 0005); the page
        # token is the rank the next page starts at.
        offset = _rank_token(page_token)
        families = await models.search_by_name(
            session,
            territory=principal.territory,
            name=name_key,
            birth_date=birth_date,
            offset=offset,
            limit=limit + 1,
        )
        next_token = f"{RANK_TOKEN}{offset + limit}" if len(families) > limit else ""
    else:
        after = parse_id(page_token, field="page_token") if page_token else ""
        families = await models.search(
            session,
            territory=principal.territory,
            name_key=name_key,
            birth_date=birth_date,
            after=after,
            limit=limit + 1,
        )
        next_token = families[limit - 1].id if len(families) > limit else ""
    families = families[:limit]
    members = await models.members_of_many(session, [f.id for f in families])
    audit.record_many(  # one row naming every family found (REG-9)
        session,
        principal=principal,
        action="read",
        entities=[f"family/{f.id}" for f in families],
        purpose=purpose,
    )
    return [FamilySummary(family=f, members=members[f.id]) for f in families], next_token


RANK_TOKEN = "rank-"


def _rank_token(token: str) -> int:
    if not token:
        return 0
    digits = token.removeprefix(RANK_TOKEN)
    if not token.startswith(RANK_TOKEN) or not digits.isdigit() or len(digits) > 9:
        raise Invalid("page_token", "is not a token this search returned")
    return int(digits)


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
        history=await models.history_of(session, family.id),
    )
