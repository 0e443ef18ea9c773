"""The deadline compliance report (MON-3): rows from every service merged into one.

Counts of the same rule and agency from several services are summed and the on-time share is
computed again from the sums (kit `deadline_report.Counts`, the one definition of the share).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import at
from kamqor.deadline_report import Counts
from kamqor.deadlines.v1 import deadlines_pb2 as pb


class DeadlineCounts(BaseModel):
    """How the obligations of one group kept their term."""

    total: int = Field(description="All obligations due in the period, cancelled ones excluded.")
    met_on_time: int
    met_late: int
    open_overdue: int = Field(description="Still open and past the due time at `as_of`.")
    open_not_due: int = Field(description="Still open and not yet due at `as_of`.")
    on_time_share: float | None = Field(
        examples=[0.75],
        description="met_on_time / (met_on_time + met_late + open_overdue); "
        "null while nothing is decided.",
    )

    @staticmethod
    def fields_of(counts: Counts) -> dict[str, int | float | None]:
        return {
            "total": counts.total,
            "met_on_time": counts.met_on_time,
            "met_late": counts.met_late,
            "open_overdue": counts.open_overdue,
            "open_not_due": counts.open_not_due,
            "on_time_share": counts.on_time_share,
        }


class DeadlineRow(DeadlineCounts):
    """One rule and one responsible agency."""

    rule: str = Field(examples=["INT-3/primary"], description="Term key (DOMAIN.md Terms index).")
    responsible_agency: str = Field(examples=["fc-ast-1"])


class RuleTotal(DeadlineCounts):
    """One rule, every agency."""

    rule: str = Field(examples=["SHL-3"])


class AgencyTotal(DeadlineCounts):
    """One agency, every rule."""

    responsible_agency: str = Field(examples=["fc-ast-1"])


class DeadlineReport(BaseModel):
    """On-time share per rule and per agency over `[from, to)` in one territory (MON-3)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day of the period (inclusive).")
    to: date = Field(description="Day after the period (exclusive).")
    territory: str = Field(examples=["kz-ast"])
    as_of: datetime = Field(description="When open obligations were judged overdue or not.")
    rows: list[DeadlineRow] = Field(description="Sorted by rule, then agency.")
    by_rule: list[RuleTotal]
    by_agency: list[AgencyTotal]
    total: DeadlineCounts

    @classmethod
    def merge(
        cls, replies: Iterable[pb.ReportDeadlinesResponse], *, from_: date, to: date
    ) -> DeadlineReport:
        replies = list(replies)
        cells: dict[tuple[str, str], Counts] = defaultdict(Counts)
        for reply in replies:
            for row in reply.rows:
                cells[row.rule, row.responsible_agency] += Counts(
                    met_on_time=row.met_on_time,
                    met_late=row.met_late,
                    open_overdue=row.open_overdue,
                    open_not_due=row.open_not_due,
                )
        by_rule: dict[str, Counts] = defaultdict(Counts)
        by_agency: dict[str, Counts] = defaultdict(Counts)
        total = Counts()
        for (rule, agency), counts in cells.items():
            by_rule[rule] += counts
            by_agency[agency] += counts
            total += counts
        return cls(
            from_=from_,
            to=to,
            territory=replies[0].territory if replies else "",
            as_of=max(at(r, "as_of") for r in replies),
            rows=[
                DeadlineRow(rule=r, responsible_agency=a, **DeadlineCounts.fields_of(c))
                for (r, a), c in sorted(cells.items())
            ],
            by_rule=[
                RuleTotal(rule=r, **DeadlineCounts.fields_of(c)) for r, c in sorted(by_rule.items())
            ],
            by_agency=[
                AgencyTotal(responsible_agency=a, **DeadlineCounts.fields_of(c))
                for a, c in sorted(by_agency.items())
            ],
            total=DeadlineCounts(**DeadlineCounts.fields_of(total)),
        )
