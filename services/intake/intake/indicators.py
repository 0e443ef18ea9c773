"""MON-2, first half: the families accepted for support in a period, by channel, situation and
support level, and the support-level changes the assessments recorded. Aggregates only: no
person or family is named.

**Accepted for support** ("принятых на сопровождение", seed 002, indicator 1): a family is
accepted on the day its case gets its first assessment after which support follows (INT-5: a
DLS on the person's consent, an SDP on the commission's resolution). Registering an appeal,
opening a case, a refusal, a "risk of DLS" or "none" outcome accept nobody; a later assessment
of a case already accepted does not accept it again; a case closed and a new one accepted
counts as an acceptance of its own. A family counts once per period (its case's family record,
as opened), under the channel of the appeal that opened the case (as corrected in the journal),
the situation found (DLS or SDP) and the family's level at acceptance: its members' most
intensive (INT-6; "" where the profile sets no levels).

**Level changes**: a person's level set by an assessment of the period that differs from the
level the case's previous assessment set for them; worse toward a more intensive level, better
away from it (`rules.level_direction`).

The period is `[from, to)` in the territory's local days (`kamqor.report_period`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import rules
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.report_period import resolve

READERS = ("analyst", "center-head")

# Support follows the assessment (`rules.proceeds`), in SQL over a row aliased `a`.
_PROCEEDS = "(a.outcome = 'sdp' OR (a.outcome = 'dls' AND a.consent = 'given'))"

_ACCEPTED = sa.text(
    "SELECT c.id, c.family_id, a.outcome, "
    "COALESCE((SELECT f.channel FROM journal_follow_ups f WHERE f.appeal_id = ap.id "
    "AND f.kind = 'correction' AND f.corrected_field = 'channel' "
    "ORDER BY f.year DESC, f.sequence DESC LIMIT 1), ap.channel, '') AS channel, "
    "ARRAY(SELECT l.level FROM assessment_levels l WHERE l.assessment_id = a.id "
    "ORDER BY l.id) AS levels "
    "FROM case_assessments a JOIN cases c ON c.id = a.case_id "
    "LEFT JOIN case_appeals ca ON ca.case_id = c.id AND ca.opened_case "
    "LEFT JOIN appeals ap ON ap.id = ca.appeal_id "
    f"WHERE c.territory = :territory AND a.assessed_at >= :start AND a.assessed_at < :end "
    f"AND {_PROCEEDS} "
    "AND NOT EXISTS (SELECT 1 FROM case_assessments e WHERE e.case_id = a.case_id "
    f"AND {_PROCEEDS.replace('a.', 'e.')} AND (e.assessed_at, e.id) < (a.assessed_at, a.id))"
)

_CHANGES = sa.text(
    "WITH lv AS (SELECT c.family_id, l.person_id, l.level, a.assessed_at, "
    "lag(l.level) OVER (PARTITION BY a.case_id, l.person_id "
    "ORDER BY a.assessed_at, a.id) AS before "
    "FROM assessment_levels l JOIN case_assessments a ON a.id = l.assessment_id "
    "JOIN cases c ON c.id = a.case_id "
    "WHERE c.territory = :territory AND a.assessed_at < :end) "
    "SELECT before, level, count(*), count(DISTINCT family_id) FROM lv "
    "WHERE before IS NOT NULL AND before <> level AND assessed_at >= :start "
    "GROUP BY before, level ORDER BY before, level"
)


@dataclass(frozen=True)
class LevelChange:
    before: str
    after: str
    direction: rules.Direction | None
    persons: int
    families: int


@dataclass(frozen=True)
class Indicators:
    territory: str
    start: datetime
    end: datetime
    as_of: datetime
    families_accepted: int
    # (channel, outcome, family level) -> families
    accepted: dict[tuple[str, str, str], int]
    # level -> persons accepted at it
    persons_accepted: dict[str, int]
    level_changes: list[LevelChange]


async def report(
    session: AsyncSession,
    *,
    principal: Principal,
    from_date: str,
    to_date: str,
    territory: str = "",
    now: datetime | None = None,
) -> Indicators:
    require_role(principal, *READERS)
    asked = resolve(principal, from_date=from_date, to_date=to_date, territory=territory)
    bounds = {"territory": asked.territory, "start": asked.start, "end": asked.end}
    conn = await session.connection()
    accepted_rows = (await conn.execute(_ACCEPTED, bounds)).all()
    families: dict[tuple[str, str, str], set[str]] = {}
    persons: Counter[str] = Counter()
    for _case_id, family_id, outcome, channel, levels in accepted_rows:
        key = (channel, outcome, rules.case_level(list(levels)))
        families.setdefault(key, set()).add(family_id)
        persons.update(levels)
    changes = [
        LevelChange(before, after, rules.level_direction(before, after), int(n), int(f))
        for before, after, n, f in (await conn.execute(_CHANGES, bounds)).all()
    ]
    return Indicators(
        territory=asked.territory,
        start=asked.start,
        end=asked.end,
        as_of=now or utcnow(),
        families_accepted=len({row[1] for row in accepted_rows}),
        accepted={key: len(ids) for key, ids in sorted(families.items())},
        persons_accepted=dict(sorted(persons.items())),
        level_changes=changes,
    )
