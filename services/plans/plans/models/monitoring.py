"""Monitoring report tables (MON-1) and the queries on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import defer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime


class MonitoringReport(SQLModel, table=True):
    """One center's report of one quarter; its content lives in its versions."""

    __tablename__ = "monitoring_reports"
    __table_args__ = (
        UniqueConstraint("center_id", "quarter", name="uq_monitoring_reports_center_quarter"),
        Index("ix_monitoring_reports_territory_quarter", "territory", "quarter"),
    )

    id: str = Field(primary_key=True)
    center_id: str = Field(max_length=100)
    territory: str = Field(max_length=50)
    quarter: str = Field(max_length=7)
    latest_version: int
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class MonitoringReportVersion(SQLModel, table=True):
    """One version, never changed after it is written except by its sign-off."""

    __tablename__ = "monitoring_report_versions"
    __table_args__ = (
        UniqueConstraint("report_id", "version", name="uq_monitoring_report_versions"),
    )

    id: str = Field(primary_key=True)
    report_id: str = Field(foreign_key="monitoring_reports.id")
    version: int
    snapshot: dict[str, Any] = Field(sa_type=JSONB)
    conclusion: str
    shortcomings: list[str] = Field(default_factory=list, sa_type=JSONB)
    proposals: list[str] = Field(default_factory=list, sa_type=JSONB)
    # The author's username, shown on the report and compared for the four-eyes sign-off.
    author: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    signed_by: str = Field(default="", max_length=100)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class VersionLine:
    version: int
    author: str
    created_at: datetime
    signed_by: str
    signed_at: datetime | None


async def lock_report(session: AsyncSession, report_id: str) -> MonitoringReport | None:
    """Row lock: two revisions (or a revision and a sign-off) of one report are serialised."""
    query = select(MonitoringReport).where(MonitoringReport.id == report_id).with_for_update()
    return (await session.exec(query)).first()


async def report_of(session: AsyncSession, center_id: str, quarter: str) -> MonitoringReport | None:
    query = (
        select(MonitoringReport)
        .where(MonitoringReport.center_id == center_id)
        .where(MonitoringReport.quarter == quarter)
    )
    return (await session.exec(query)).first()


async def version_of(
    session: AsyncSession, report_id: str, version: int
) -> MonitoringReportVersion | None:
    query = (
        select(MonitoringReportVersion)
        .where(MonitoringReportVersion.report_id == report_id)
        .where(MonitoringReportVersion.version == version)
    )
    return (await session.exec(query)).first()


async def history_of(session: AsyncSession, report_id: str) -> list[VersionLine]:
    """Every version of a report as a line of its history, oldest first; the snapshots (up to
    1 MiB each) are not read."""
    v = MonitoringReportVersion
    query = (
        select(v)
        .options(defer(v.snapshot), defer(v.conclusion))  # type: ignore[arg-type]
        .where(v.report_id == report_id)
        .order_by(col(v.version))
    )
    return [
        VersionLine(r.version, r.author, r.created_at, r.signed_by, r.signed_at)
        for r in (await session.exec(query)).all()
    ]


async def territory_reports(
    session: AsyncSession, *, territory: str, quarter: str | None, limit: int = 200
) -> list[tuple[MonitoringReport, MonitoringReportVersion]]:
    """The territory's reports at their latest versions, newest quarter first."""
    query = (
        select(MonitoringReport, MonitoringReportVersion)
        .join(
            MonitoringReportVersion,
            (col(MonitoringReportVersion.report_id) == col(MonitoringReport.id))
            & (col(MonitoringReportVersion.version) == col(MonitoringReport.latest_version)),
        )
        .where(MonitoringReport.territory == territory)
    )
    if quarter is not None:
        query = query.where(MonitoringReport.quarter == quarter)
    query = query.order_by(col(MonitoringReport.quarter).desc(), col(MonitoringReport.center_id))
    return [(r, v) for r, v in (await session.exec(query.limit(limit))).all()]
