"""Quarterly monitoring report rules (MON-1): pure functions, no I/O.

A report belongs to one center and one quarter that has ended. Its content is the indicator
snapshot of the quarter (MON-2..MON-6, assembled by the gateway from the services that own each
figure) and the author's conclusion, shortcomings and proposals. Versions are never changed: a
revision is a new version, and the center head's sign-off freezes the version it signs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kamqor.errors import Conflict, Forbidden, Invalid

RULE = "MON-1"
# Who writes a report (the center's analyst or its head), who reads it, who signs it off.
AUTHORS = ("analyst", "center-head")
READERS = ("analyst", "center-head", "auditor")
SIGNERS = ("center-head",)

MAX_CONCLUSION = 20_000
MAX_ITEMS = 50
MAX_ITEM = 2_000
# The snapshot holds aggregates only (no person is named); a quarter's figures of one territory
# are a few hundred rows, so 1 MiB leaves room without letting a client store anything at all.
MAX_SNAPSHOT = 1_048_576
MAX_FIGURES = 5_000
MAX_NAME = 200

# ASCII digits (`\d` takes any Unicode digit); the years a report may be of, the last one's
# fourth quarter still followed by a representable date.
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
FIRST_YEAR, LAST_YEAR = 2000, 2999


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, value: str, *, field: str = "quarter") -> Quarter:
        found = _QUARTER.fullmatch(value.strip())
        if found is None:
            raise Invalid(field, "must be a quarter as YYYY-Qn, e.g. 2026-Q4")
        year = int(found.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise Invalid(field, f"must be a quarter of {FIRST_YEAR} to {LAST_YEAR}")
        return cls(year, int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def day_after(self) -> date:
        """The first day of the next quarter: the report's period is [first_day, day_after)."""
        return self.next().first_day

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def last_ended(today: date) -> Quarter:
    """The latest quarter that has ended by `today` (a local date of the territory)."""
    return Quarter.of(today).previous()


def check_ended(quarter: Quarter, *, today: date) -> None:
    """The report sums a quarter up: one still running has no results yet."""
    if quarter.day_after > today:
        raise Invalid("quarter", f"{quarter} has not ended yet")


def obligation_subject(center_id: str, quarter: Quarter | str) -> str:
    """The MON-1 obligation's subject, one per center and quarter (the sweeper's idempotency)."""
    return f"monitoring/{center_id}/{quarter}"


def check_center(requested: str, *, territory_center: str) -> str:
    """The territory's center (the only one a territory has today), named or by default."""
    center = requested.strip() or territory_center
    if center != territory_center:
        raise Invalid("center_id", "must be the center of your territory")
    return center


def check_writer(*, agency: str, is_head: bool, center_id: str) -> None:
    """A center head writes only their own center's report; an analyst any of the territory's."""
    if is_head and agency != center_id:
        raise Forbidden("only the center's own head or an analyst writes its report")


@dataclass(frozen=True)
class Content:
    conclusion: str
    shortcomings: list[str]
    proposals: list[str]


def _items(values: Sequence[str], field: str) -> list[str]:
    if len(values) > MAX_ITEMS:
        raise Invalid(field, f"at most {MAX_ITEMS} items")
    kept = []
    for i, value in enumerate(values):
        text = value.strip()
        if not text:
            raise Invalid(f"{field}[{i}]", "must not be empty")
        if len(text) > MAX_ITEM:
            raise Invalid(f"{field}[{i}]", f"at most {MAX_ITEM} characters")
        kept.append(text)
    return kept


def check_content(
    conclusion: str, shortcomings: Sequence[str], proposals: Sequence[str]
) -> Content:
    """The conclusion is required (it is what MON-1 asks for); shortcomings and proposals may be
    empty lists, but no item of them is blank."""
    text = conclusion.strip()
    if not text:
        raise Invalid("conclusion", "must not be empty")
    if len(text) > MAX_CONCLUSION:
        raise Invalid("conclusion", f"at most {MAX_CONCLUSION} characters")
    return Content(
        conclusion=text,
        shortcomings=_items(shortcomings, "shortcomings"),
        proposals=_items(proposals, "proposals"),
    )


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME:
        raise Invalid(field, f"must be a text of 1 to {MAX_NAME} characters")
    return value


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(field, "must be a finite number or null")
    return float(value)


def parse_snapshot(raw: str) -> dict[str, Any]:
    """The indicator snapshot as stored: a JSON object whose `sections` map a rule (MON-2 ...
    MON-6) to an object with a `title` and its `figures` (each a `series`, a `label` and a
    numeric `value`, null when not defined); any other keys are kept as the source gave them.
    The figures are what the charts, the CSV and the PDF show, so they are checked here."""
    if len(raw.encode()) > MAX_SNAPSHOT:
        raise Invalid("snapshot_json", f"at most {MAX_SNAPSHOT} bytes")
    try:
        snapshot = json.loads(raw)
    except ValueError:
        raise Invalid("snapshot_json", "must be a JSON object") from None
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("sections"), dict):
        raise Invalid("snapshot_json", "must be a JSON object with `sections`")
    count = 0
    for key, section in snapshot["sections"].items():
        where = f"snapshot_json.sections.{key}"
        _name(key, where)
        if not isinstance(section, dict) or not isinstance(section.get("figures"), list):
            raise Invalid(where, "must be an object with `figures`")
        _name(section.get("title"), f"{where}.title")
        for i, figure in enumerate(section["figures"]):
            at = f"{where}.figures[{i}]"
            if not isinstance(figure, dict):
                raise Invalid(at, "must be an object")
            _name(figure.get("series"), f"{at}.series")
            _name(figure.get("label"), f"{at}.label")
            _number(figure.get("value"), f"{at}.value")
        count += len(section["figures"])
    if count > MAX_FIGURES:
        raise Invalid("snapshot_json", f"at most {MAX_FIGURES} figures")
    return snapshot


@dataclass(frozen=True)
class FigureRow:
    section: str
    title: str
    series: str
    label: str
    value: float | None


def _value(figure: dict[str, Any]) -> float | None:
    value = figure.get("value")
    return None if value is None else float(value)


def figure_rows(snapshot: dict[str, Any]) -> list[FigureRow]:
    """Every figure of the snapshot, section by section in rule order."""
    sections: dict[str, Any] = snapshot.get("sections") or {}
    return [
        FigureRow(key, str(section["title"]), str(f["series"]), str(f["label"]), _value(f))
        for key, section in sorted(sections.items())
        for f in section["figures"]
    ]


def check_base(base_version: int, *, latest: int) -> None:
    """A revision made from an older version would silently drop the one in between."""
    if base_version and base_version != latest:
        raise Conflict(
            f"the report has version {latest} now; revise that one",
            code="monitoring-report-version-stale",
        )


def check_signable(
    *, version: int, latest: int, signed_by: str, author: str, signer: str, agency: str, center: str
) -> None:
    """The center's own head signs the latest version (what they read), once, and not one they
    wrote themselves (four eyes)."""
    if agency != center:
        raise Forbidden("only the head of the report's center signs it off")
    if version != latest:
        raise Conflict(
            f"version {version} is not the latest ({latest}); sign the latest",
            code="monitoring-report-version-stale",
        )
    if signed_by:
        raise Conflict("this version is already signed off", code="monitoring-report-signed")
    if signer == author:
        raise Forbidden("the author of a version cannot sign it off (four eyes)")
