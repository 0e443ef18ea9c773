"""The terms a plan in force owes, opened at approval and moved by an extension (PLN-13)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import obligations
from kamqor.profiles import Profile
from plans.models import Plan
from plans.rules import lifecycle as life


def open_terms_on_approval(
    session: AsyncSession, *, plan: Plan, profile: Profile, now: datetime
) -> None:
    """The reviews a plan in force owes, where the profile sets their terms (PLN-13): the
    interim review 3 months after the start, the final one 2 weeks before the term's end."""
    version = profile.at(now)
    subject = f"plan/{plan.id}"
    if version.has_rule(life.INTERIM_RULE):
        obligations.open_obligation(
            session,
            rule=life.INTERIM_RULE,
            subject=subject,
            territory=plan.territory,
            arose_at=now,
            responsible_agency=plan.center_id,
            responsible_person=plan.created_by,
        )
    if version.has_rule(life.FINAL_RULE):
        open_final_review(session, plan=plan, profile=profile, now=now)


def open_final_review(
    session: AsyncSession, *, plan: Plan, profile: Profile, now: datetime
) -> None:
    # Counted back from the term's end, so the deadline is computed at the end instant.
    deadline = profile.at(now).due(life.FINAL_RULE, plan.term_ends_at)
    obligations.open_obligation(
        session,
        rule=life.FINAL_RULE,
        subject=f"plan/{plan.id}",
        territory=plan.territory,
        arose_at=now,
        responsible_agency=plan.center_id,
        responsible_person=plan.created_by,
        deadline=deadline,
    )
