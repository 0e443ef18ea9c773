"""A shelter resident's support (SHL-4) becomes measures of the case's plan.

The shelter records the support and stages an event; this use case, run by the consumer once per
event (inbox dedupe), files each item under the case's open plan, or drafts one for the case.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import outbox
from kamqor.audit import AuditRecord
from kamqor.calendar.terms import local_date
from kamqor.db import stage
from kamqor.events.v1.plans_pb2 import PlanCreated
from kamqor.events.v1.shelter_pb2 import StaySupportRecorded
from kamqor.ids import new_id
from kamqor.profiles import Profile, get_profile
from kamqor.protoconv import dt, ts
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan
from plans.service._common import SOURCE
from plans.service.sending import send_measure

# SHL-4's kinds as kinds of state support (PLN-2), with the title the measure shows.
SUPPORT_KINDS: dict[str, tuple[rules.MeasureKind, str]] = {
    "information": (rules.MeasureKind.SOCIAL, "Information for the resident (SHL-4)"),
    "legal": (rules.MeasureKind.LEGAL, "Legal help (SHL-4)"),
    "psychological": (rules.MeasureKind.PSYCHOLOGICAL, "Psychological help (SHL-4)"),
    "employment": (rules.MeasureKind.EMPLOYMENT, "Help with employment and training (SHL-4)"),
    "medical": (rules.MeasureKind.MEDICAL, "Free guaranteed medical care (SHL-4)"),
    "state_support": (rules.MeasureKind.SOCIAL, "Advice on state support (SHL-4)"),
}
# A shelter resident's family is in crisis: where the plan term follows the support level
# (INT-6), a plan drafted from the shelter starts at that level; the case worker may redraft.
SHELTER_LEVEL = rules.SupportLevel.CRISIS


async def open_plan(
    session: AsyncSession, *, case_id: str, center_id: str, territory: str
) -> Plan | None:
    """The case's latest plan of the center, locked: two support records of one case add their
    measures one after the other, in positions that do not collide."""
    query = (
        select(Plan)
        .where(Plan.case_id == case_id, Plan.center_id == center_id, Plan.territory == territory)
        .where(col(Plan.state).in_([rules.PlanState.DRAFT, rules.PlanState.APPROVED]))
        .order_by(col(Plan.created_at).desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.exec(query)).first()


def _level(profile: Profile) -> rules.SupportLevel | None:
    if not profile.plan_term.by_support_level:
        return None
    levels = {level.code for level in profile.support_levels}
    return SHELTER_LEVEL if SHELTER_LEVEL.value in levels else None


async def add_support_measures(session: AsyncSession, event: StaySupportRecorded) -> Plan:
    """File each item of a resident's support (SHL-4) as a measure of the case's open plan, or
    of a new draft for the case. In an approved plan the measures are sent to their agencies at
    once, as approval sends the others (PLN-5, PLN-6); in a draft they wait for approval."""
    now = dt(event.recorded_at)
    profile = get_profile(territory_of(event.territory).profile)
    plan = await open_plan(
        session, case_id=event.case_id, center_id=event.center_id, territory=event.territory
    )
    created = plan is None
    if plan is None:
        level = _level(profile)
        # No approver check here (PLN-4): a territory without DLS plans refuses the draft at
        # approval with its reason; refusing the event would only redeliver it forever.
        plan = Plan(
            id=new_id(),
            center_id=event.center_id,
            territory=event.territory,
            case_id=event.case_id,
            situation=rules.Situation.DLS,
            support_level=level.value if level else "",
            created_by=event.recorded_by,
            created_at=now,
            term_ends_at=rules.plan_term_end(profile, at=now, support_level=level),
        )
        session.add(plan)
        await session.flush()  # the plan exists before its measures refer to it
        first = 0
    else:
        first = len(await models.measures_of(session, plan.id))
    term_ends_on = local_date(plan.term_ends_at, profile.zone)
    approved = plan.state == rules.PlanState.APPROVED
    rows: list[Measure] = []
    for i, item in enumerate(event.items):
        kind, title = SUPPORT_KINDS[item.kind]
        # The shelter checked that the item is due within the stay; the plan term is the outer
        # bound (PLN-1), and a measure due past it is due on its last day.
        deadline = min(date.fromisoformat(item.due_on), term_ends_on)
        m = Measure(
            id=new_id(),
            plan_id=plan.id,
            position=first + i,
            territory=plan.territory,
            center_id=plan.center_id,
            agency_id=item.agency_id,
            agency_type=item.agency_type,
            kind=kind,
            title=title,
            target="",
            deadline=deadline,
        )
        rows.append(m)
    session.add_all(rows)
    if approved:
        # A measure added to an approved plan goes to its agency at once, as approval sent the
        # others (PLN-5, PLN-6, PLN-7); the measures exist before their sendings refer to them.
        await session.flush()
        in_force = profile.at(now)
        for m in rows:
            send_measure(
                session,
                plan=plan,
                measure=m,
                sender=event.recorded_by,
                now=now,
                in_force=in_force,
            )
    entity = f"plan/{plan.id}"
    if created:
        outbox.append(
            session,
            source=SOURCE,
            subject="kamqor.plans.plan.created",
            entity=entity,
            payload=PlanCreated(
                plan_id=plan.id,
                center_id=plan.center_id,
                territory=plan.territory,
                situation=plan.situation,
                measures=len(rows),
                created_at=ts(now),
            ),
        )
    stage(
        session,
        AuditRecord(
            id=new_id(),
            at=now,
            actor=event.recorded_by,
            agency=event.center_id,
            action="create" if created else "update",
            entity=entity,
            purpose="SHL-4",
        ),
    )
    return plan
