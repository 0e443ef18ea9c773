"""Mobile groups (INT-4): a territory's group, its members' agencies and a composition approved
for a calendar year; a threat to life or health engages the group of the year. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import models, rules
from intake.models import Appeal, MobileGroup, MobileGroupMember
from kamqor import audit, outbox
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, NotFound
from kamqor.events.v1.intake_pb2 import MobileGroupEngaged
from kamqor.ids import new_id
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of

SOURCE = "kamqor.intake"


@dataclass(frozen=True)
class GroupView:
    group: MobileGroup
    members: list[MobileGroupMember]


async def approve(
    session: AsyncSession,
    *,
    principal: Principal,
    year: int,
    approved_on: date,
    order_number: str,
    members: list[rules.GroupMemberIn],
    now: datetime | None = None,
) -> GroupView:
    """Approve the caller's territory's mobile group for `year`; once per year."""
    require_role(principal, *rules.GROUP_APPROVERS)
    now = now or utcnow()
    rules.check_mobile_group(
        year=year,
        approved_on=approved_on,
        order_number=order_number,
        members=members,
        today=now.astimezone(get_profile(territory_of(principal.territory).profile).zone).date(),
    )
    if await models.mobile_group(session, principal.territory, year) is not None:
        raise Conflict(f"the mobile group of {year} is approved already", code="group-approved")
    group = MobileGroup(
        id=new_id(),
        territory=principal.territory,
        year=year,
        approved_on=approved_on,
        order_number=order_number.strip(),
        approved_by=principal.subject,
        created_at=now,
    )
    rows = [
        MobileGroupMember(
            id=new_id(),
            group_id=group.id,
            position=i,
            agency_type=m.agency_type,
            agency=m.agency.strip(),
            representative=m.representative.strip(),
        )
        for i, m in enumerate(members)
    ]
    session.add(group)
    try:
        await session.flush()  # a concurrent approval of the same year fails on the key
    except IntegrityError:
        raise Conflict(
            f"the mobile group of {year} is approved already", code="group-approved"
        ) from None
    session.add_all(rows)
    await session.flush()
    audit.record(
        session,
        principal=principal,
        action="create",
        entity=f"mobile-group/{group.id}",
        purpose="INT-4",
    )
    return GroupView(group, rows)


async def get(session: AsyncSession, *, principal: Principal, year: int) -> GroupView:
    """The caller's territory's mobile group of `year` (its representatives' names: audited)."""
    require_role(principal, *rules.READERS, *rules.GROUP_APPROVERS)
    group = await models.mobile_group(session, principal.territory, year)
    if group is None:
        raise NotFound("no mobile group of that year")
    audit.record(
        session,
        principal=principal,
        action="read",
        entity=f"mobile-group/{group.id}",
        purpose="view",
    )
    return GroupView(group, await models.members_of_group(session, group.id))


async def engage(session: AsyncSession, *, appeal: Appeal, now: datetime) -> MobileGroup:
    """INT-4: the territory's group of the local year, alerted through the outbox; a territory
    without an approved group cannot engage one, which the center head must fix first."""
    year = now.astimezone(get_profile(territory_of(appeal.territory).profile).zone).year
    group = await models.mobile_group(session, appeal.territory, year)
    if group is None:
        raise Conflict(
            f"no mobile group is approved for {year} in the territory (INT-4)",
            code="no-mobile-group",
        )
    members = await models.members_of_group(session, group.id)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.intake.mobile_group.engaged",
        entity=f"appeal/{appeal.id}",
        payload=MobileGroupEngaged(
            appeal_id=appeal.id,
            mobile_group_id=group.id,
            territory=appeal.territory,
            center_id=appeal.center_id,
            agencies=sorted({m.agency for m in members}),
            engaged_at=ts(now),
        ),
    )
    return group
