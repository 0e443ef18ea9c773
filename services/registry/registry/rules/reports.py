"""Quarterly reports of the data bank (REG-7, MON-5) and its retention (REG-6, REG-9). Pure.

A report counts the bank as it stood at the quarter's last local instant (the territory's
midnight that starts the next quarter), never as it stands when someone asks: a family entered
on 2 January is not on record in the fourth quarter, one removed on 2 January still was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from kamqor.auth import Principal
from kamqor.errors import Forbidden, Invalid
from registry.rules import is_registry_office

OFFICE_RULE = "REG-7/office"
MINISTRY_RULE = "REG-7/ministry"
REPORT_RULES = (OFFICE_RULE, MINISTRY_RULE)
MINISTRY_ROLES = ("analyst",)
# Who reads the reports and the MON-5 indicators besides the registry office: the ministry, the
# commission, the auditors and the centers' heads (the monitoring report's readers). Counts only.
REPORT_READER_ROLES = ("analyst", "auditor", "commission-member", "center-head")
# How long a removed family stays in the archive before it is erased (REG-6, REG-9).
RETENTION_RULE = "REG-6/retention"

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class ReportLevel(StrEnum):
    OFFICE = "office"
    MINISTRY = "ministry"


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> date:
        return (
            date(self.year + 1, 1, 1)
            if self.number == 4
            else date(self.year, 3 * self.number + 1, 1)
        )

    def start(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.first_day, time(), tzinfo=zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The first instant after the quarter, local: counts are as of just before it."""
        return datetime.combine(self.next_first_day, time(), tzinfo=zone)

    def last_day(self) -> date:
        return date.fromordinal(self.next_first_day.toordinal() - 1)


def parse_quarter(value: str, *, field: str = "quarter") -> Quarter:
    match = _QUARTER.match(value.strip())
    if match is None:
        raise Invalid(field, "must be a quarter such as 2026-Q4")
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise Invalid(field, "year out of range")
    return Quarter(year, int(match.group(2)))


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def previous(quarter: Quarter) -> Quarter:
    if quarter.number == 1:
        return Quarter(quarter.year - 1, 4)
    return Quarter(quarter.year, quarter.number - 1)


def check_ended(quarter: Quarter, *, now: datetime, zone: ZoneInfo) -> None:
    """A report is of a quarter that has ended (REG-7): its counts are final."""
    if now < quarter.end(zone):
        raise Invalid(
            "quarter",
            f"{quarter} has not ended yet: it is reported after "
            f"{quarter.last_day().isoformat()} (REG-7)",
        )


def check_ministry(principal: Principal) -> None:
    """The ministry's analysts build the summary (seed 002 p. 52): the role says it."""
    if not principal.has_any(*MINISTRY_ROLES):
        raise Forbidden("only the ministry's analysts build the summary (REG-7)")


def check_reader(principal: Principal) -> None:
    if not (principal.has_any(*REPORT_READER_ROLES) or is_registry_office(principal)):
        raise Forbidden("no need to know the data bank's reports")


def check_format(value: str) -> str:
    if value not in ("csv", "pdf"):
        raise Invalid("format", "must be csv or pdf")
    return value
