"""Quarterly monitoring reports (MON-1): what the client sends and what it reads back, and the
indicator snapshot the gateway assembles for a quarter (sections keyed by indicator)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from gateway.schemas.common import FreeText, Line, Obligation, at, input_config, when
from kamqor.plans.v1 import monitoring_pb2 as pb

# The years the service keeps (plans.rules.monitoring.Quarter: 2000 to 2999): a quarter outside
# them would be assembled into dates before the service could refuse it. ASCII digits only (`\d`
# is any Unicode digit to the validator).
QUARTER_PATTERN = r"^2[0-9]{3}-Q[1-4]$"
Quarter = Annotated[str, StringConstraints(pattern=QUARTER_PATTERN)]
# The proto's version numbers are int32: a larger one would fail to convert, not be refused.
MAX_VERSION = 2**31 - 1
Item = Annotated[FreeText, StringConstraints(min_length=1, max_length=2000)]
Conclusion = Annotated[FreeText, StringConstraints(min_length=1, max_length=20_000)]


class Figure(BaseModel):
    """One number of a section: a series (what is counted), a label (of what), its value."""

    series: str = Field(examples=["on_time_share"])
    label: str = Field(examples=["INT-3/primary"])
    value: float | None = Field(description="null where the figure is not defined.")


class Section(BaseModel):
    """The figures of one indicator, from the route that serves it (its `source`)."""

    title: str
    source: str = Field(
        examples=["getDeadlineReport"], description="The API operation they came from."
    )
    figures: list[Figure] = Field(description="What the charts, the CSV and the PDF show.")
    data: dict[str, Any] = Field(description="The source's whole answer, as that route gives it.")


class MonitoringSnapshot(BaseModel):
    """The indicators of one quarter in one territory, as assembled when the version was
    written; aggregates only, no family or person is named."""

    quarter: str = Field(examples=["2026-Q4"])
    territory: str
    from_: date = Field(alias="from", description="The quarter's first day (inclusive).")
    to: date = Field(description="The next quarter's first day (exclusive).")
    assembled_at: datetime
    sections: dict[str, Section] = Field(
        description="Keyed by indicator: `MON-2/intake`, `MON-2/plans`, `MON-3`, `MON-4`, `MON-6`."
    )
    missing: list[str] = Field(
        description="Indicators no service reports yet (e.g. `MON-5`), left out of this version."
    )

    model_config = {"populate_by_name": True}


class MonitoringReportIn(BaseModel):
    """Version 1 of a center's report of an ended quarter (MON-1); the gateway adds the
    quarter's indicators."""

    model_config = input_config(
        {
            "quarter": "2026-Q4",
            "conclusion": "The center met most terms; caseload is within the recommendation.",
            "shortcomings": ["Two primary assessments (INT-3) were late"],
            "proposals": ["A duty case worker on Mondays"],
        }
    )

    center_id: Line | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The center of the caller's territory (the default).",
    )
    quarter: Quarter = Field(description="YYYY-Qn (2000 to 2999), a quarter that has ended.")
    conclusion: Conclusion
    shortcomings: list[Item] = Field(default_factory=list, max_length=50)
    proposals: list[Item] = Field(default_factory=list, max_length=50)

    def to_proto(
        self, snapshot: MonitoringSnapshot, key: str | None
    ) -> pb.CreateMonitoringReportRequest:
        return pb.CreateMonitoringReportRequest(
            center_id=self.center_id or "",
            quarter=self.quarter,
            snapshot_json=snapshot.model_dump_json(by_alias=True),
            conclusion=self.conclusion,
            shortcomings=self.shortcomings,
            proposals=self.proposals,
            idempotency_key=key or "",
        )


class MonitoringRevisionIn(BaseModel):
    """The whole content of the new version; the indicators are assembled again."""

    model_config = input_config(
        {
            "base_version": 1,
            "conclusion": "Revised after the ministry's remarks.",
            "shortcomings": [],
            "proposals": ["Train two more case workers"],
        }
    )

    base_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="The version revised; a 409 when a newer one was written meanwhile.",
    )
    conclusion: Conclusion
    shortcomings: list[Item] = Field(default_factory=list, max_length=50)
    proposals: list[Item] = Field(default_factory=list, max_length=50)

    def to_proto(
        self, report_id: str, snapshot: MonitoringSnapshot, key: str | None
    ) -> pb.ReviseMonitoringReportRequest:
        return pb.ReviseMonitoringReportRequest(
            report_id=report_id,
            base_version=self.base_version or 0,
            snapshot_json=snapshot.model_dump_json(by_alias=True),
            conclusion=self.conclusion,
            shortcomings=self.shortcomings,
            proposals=self.proposals,
            idempotency_key=key or "",
        )


class MonitoringSignIn(BaseModel):
    """The version the head read and signs off: it must be the latest."""

    model_config = input_config({"version": 2})

    version: int = Field(ge=1, le=MAX_VERSION)


class MonitoringVersion(BaseModel):
    """One version in the report's history."""

    version: int
    author: str
    created_at: datetime
    signed_by: str | None
    signed_at: datetime | None


class MonitoringReport(BaseModel):
    """A center's quarterly monitoring report at one version (MON-1)."""

    id: str
    center_id: str = Field(examples=["fc-ast-1"])
    territory: str = Field(examples=["kz-ast"])
    quarter: str = Field(examples=["2026-Q4"])
    version: int = Field(description="The version shown.")
    latest_version: int
    signed: bool = Field(description="Whether the version shown is signed off (and frozen).")
    snapshot: dict[str, Any] | None = Field(
        description="The indicators as assembled for this version: `quarter`, `territory`, "
        "`from`, `to`, `assembled_at`, `sections` keyed by indicator (each with its `title`, "
        "`source` operation, `figures` of `series`, `label` and `value`, and the source's "
        "`data`) and `missing`; null in lists."
    )
    conclusion: str
    shortcomings: list[str]
    proposals: list[str]
    author: str
    created_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    versions: list[MonitoringVersion] = Field(
        description="Every version, oldest first; empty in lists."
    )
    obligations: list[Obligation] = Field(
        description="The quarter's MON-1 obligation (none where the profile has no such term)."
    )

    @classmethod
    def from_proto(cls, msg: pb.MonitoringReport) -> MonitoringReport:
        return cls(
            id=msg.id,
            center_id=msg.center_id,
            territory=msg.territory,
            quarter=msg.quarter,
            version=msg.version,
            latest_version=msg.latest_version,
            signed=bool(msg.signed_by),
            snapshot=json.loads(msg.snapshot_json) if msg.snapshot_json else None,
            conclusion=msg.conclusion,
            shortcomings=list(msg.shortcomings),
            proposals=list(msg.proposals),
            author=msg.author,
            created_at=at(msg, "created_at"),
            signed_by=msg.signed_by or None,
            signed_at=when(msg, "signed_at"),
            versions=[
                MonitoringVersion(
                    version=v.version,
                    author=v.author,
                    created_at=at(v, "created_at"),
                    signed_by=v.signed_by or None,
                    signed_at=when(v, "signed_at"),
                )
                for v in msg.versions
            ],
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
        )


class MonitoringReportList(BaseModel):
    """The territory's reports at their latest versions, newest quarter first."""

    items: list[MonitoringReport]
