"""Quarterly monitoring reports (MON-1): write one, revise it into new versions, sign one off,
read and export them; and the MON-1 obligation of each center and ended quarter.

The indicator snapshot comes from the gateway, which asked each service for its own figures with
the caller's token; this service keeps it as given (checked for shape), with the author's words.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, ListFlowable, Spacer, Table, TableStyle
from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, pdf
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import Profile, get_profile
from kamqor.territories import all_territories
from kamqor.territories import territory as territory_of
from plans.models import monitoring as models
from plans.models.monitoring import MonitoringReport, MonitoringReportVersion, VersionLine
from plans.rules import monitoring as rules
from plans.rules.monitoring import Quarter


@dataclass(frozen=True)
class ReportView:
    report: MonitoringReport
    version: MonitoringReportVersion
    history: list[VersionLine]
    obligations: list[Obligation]


class ExportFormat(StrEnum):
    PDF = "pdf"
    CSV = "csv"


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def _entity(report_id: str) -> str:
    return f"monitoring-report/{report_id}"


def _profile(territory: str) -> Profile:
    return get_profile(territory_of(territory).profile)


async def _lock_subject(session: AsyncSession, subject: str) -> None:
    """Serialise the sweeper replicas and a sign-off opening the same obligation."""
    key = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:8], "big", signed=True)
    await session.scalar(select(func.pg_advisory_xact_lock(key)))


async def _open_once(
    session: AsyncSession, *, territory: str, center_id: str, quarter: Quarter
) -> tuple[list[Obligation], bool]:
    """The MON-1 obligation of a center's ended quarter, and whether this call opened it."""
    profile = _profile(territory)
    ends_at = _quarter_end(quarter, profile)
    # No term binds a quarter that ended before the territory's first profile version: its
    # report may still be written (the archive of earlier years), owing nothing.
    if not profile.has_rule(rules.RULE) or ends_at < profile.versions[0].starts_at:
        return [], False
    subject = rules.obligation_subject(center_id, quarter)
    await _lock_subject(session, subject)
    found = await obligations.for_subject(session, subject, rule=rules.RULE)
    if found:
        return found, False
    row = obligations.open_obligation(
        session,
        rule=rules.RULE,
        subject=subject,
        territory=territory,
        arose_at=ends_at,
        responsible_agency=center_id,
    )
    return [row], True


def _quarter_end(quarter: Quarter, profile: Profile) -> datetime:
    """The quarter's last instant: `quarter_day` counts from an instant inside the quarter."""
    return datetime.combine(quarter.day_after - timedelta(days=1), time.max, profile.zone)


async def ensure_obligation(
    session: AsyncSession, *, territory: str, center_id: str, quarter: Quarter
) -> list[Obligation]:
    """The MON-1 obligation of a center's ended quarter, opened once (idempotent by subject),
    due per the profile's `quarter_day`; none where the profile has no MON-1 term (ru-ba)."""
    found, _ = await _open_once(session, territory=territory, center_id=center_id, quarter=quarter)
    return found


async def open_quarterly_obligations(
    session: AsyncSession, *, now: datetime, seen: set[str] | None = None
) -> int:
    """The sweeper's part: when a quarter has ended, each center whose profile has MON-1 owes
    its report. Opened while the report is not yet due; a quarter whose due day passed before
    anyone opened it (a new installation, a long outage) is not back-filled, and gets its
    obligation when its report is written or signed. `seen` remembers the subjects already
    handled by this process, so a sweep costs no query once they are."""
    opened = 0
    for t in all_territories():
        profile = get_profile(t.profile)
        if not profile.has_rule(rules.RULE):
            continue
        quarter = rules.last_ended(local_date(now, profile.zone))
        subject = rules.obligation_subject(t.center, quarter)
        if seen is not None and subject in seen:
            continue
        if now <= profile.due(rules.RULE, _quarter_end(quarter, profile)).due_at:
            _, new = await _open_once(
                session, territory=t.code, center_id=t.center, quarter=quarter
            )
            opened += new
        if seen is not None:
            seen.add(subject)
    return opened


async def _view(
    session: AsyncSession, report: MonitoringReport, version: MonitoringReportVersion
) -> ReportView:
    history = await models.history_of(session, report.id)
    found = await obligations.for_subject(
        session, rules.obligation_subject(report.center_id, report.quarter), rule=rules.RULE
    )
    return ReportView(report, version, history, found)


async def _report(session: AsyncSession, principal: Principal, report_id: str) -> MonitoringReport:
    report = await session.get(MonitoringReport, parse_id(report_id, field="report_id"))
    if report is None:
        raise NotFound("monitoring report not found")
    require_territory(principal, report.territory, entity="monitoring report")
    return report


async def _version(
    session: AsyncSession, report: MonitoringReport, version: int
) -> MonitoringReportVersion:
    if version < 0:
        raise Invalid("version", "must be 1 or more")
    row = await models.version_of(session, report.id, version or report.latest_version)
    if row is None:
        raise NotFound("no such version of the monitoring report")
    return row


def _new_version(
    report: MonitoringReport,
    number: int,
    snapshot: dict[str, object],
    content: rules.Content,
    *,
    principal: Principal,
    now: datetime,
) -> MonitoringReportVersion:
    return MonitoringReportVersion(
        id=new_id(),
        report_id=report.id,
        version=number,
        snapshot=snapshot,
        conclusion=content.conclusion,
        shortcomings=content.shortcomings,
        proposals=content.proposals,
        author=principal.username,
        created_at=now,
    )


async def _earlier(session: AsyncSession, principal: Principal, version_id: str) -> ReportView:
    """The result of a retried request: the version it wrote."""
    row = await session.get(MonitoringReportVersion, version_id)
    assert row is not None, "an idempotency record names a version that does not exist"
    return await _view(session, await _report(session, principal, row.report_id), row)


async def create_monitoring_report(
    session: AsyncSession,
    *,
    principal: Principal,
    center_id: str,
    quarter: str,
    snapshot_json: str,
    conclusion: str,
    shortcomings: Sequence[str],
    proposals: Sequence[str],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> ReportView:
    """Version 1 of a center's report of an ended quarter (MON-1), by its analyst or head."""
    require_role(principal, *rules.AUTHORS)
    key = idempotency.check_key(idempotency_key)
    scope = f"create_monitoring_report:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _earlier(session, principal, earlier)
    now = now or utcnow()
    place = territory_of(principal.territory)
    center = rules.check_center(center_id, territory_center=place.center)
    rules.check_writer(
        agency=principal.agency, is_head=principal.has_any(*rules.SIGNERS), center_id=center
    )
    period = Quarter.parse(quarter)
    profile = _profile(place.code)
    rules.check_ended(period, today=local_date(now, profile.zone))
    content = rules.check_content(conclusion, shortcomings, proposals)
    snapshot = rules.parse_snapshot(snapshot_json)
    if await models.report_of(session, center, str(period)) is not None:
        raise Conflict(
            f"the center's report of {period} exists; revise it instead",
            code="monitoring-report-exists",
        )
    report = MonitoringReport(
        id=new_id(),
        center_id=center,
        territory=place.code,
        quarter=str(period),
        latest_version=1,
        created_by=principal.username,
        created_at=now,
    )
    session.add(report)
    await session.flush()  # the report exists before its version refers to it
    version = _new_version(report, 1, snapshot, content, principal=principal, now=now)
    session.add(version)
    await ensure_obligation(session, territory=place.code, center_id=center, quarter=period)
    audit.record(
        session, principal=principal, action="create", entity=_entity(report.id), purpose="MON-1"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=version.id)
    await session.flush()
    return await _view(session, report, version)


async def revise_monitoring_report(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: str,
    base_version: int,
    snapshot_json: str,
    conclusion: str,
    shortcomings: Sequence[str],
    proposals: Sequence[str],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> ReportView:
    """A new version with the whole new content; the earlier ones, signed or not, stay as
    they were (a signed report is only ever revised this way)."""
    require_role(principal, *rules.AUTHORS)
    key = idempotency.check_key(idempotency_key)
    scope = f"revise_monitoring_report:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _earlier(session, principal, earlier)
    now = now or utcnow()
    await _report(session, principal, report_id)
    report = await models.lock_report(session, report_id)
    assert report is not None
    rules.check_writer(
        agency=principal.agency,
        is_head=principal.has_any(*rules.SIGNERS),
        center_id=report.center_id,
    )
    rules.check_base(base_version, latest=report.latest_version)
    content = rules.check_content(conclusion, shortcomings, proposals)
    snapshot = rules.parse_snapshot(snapshot_json)
    report.latest_version += 1
    session.add(report)
    version = _new_version(
        report, report.latest_version, snapshot, content, principal=principal, now=now
    )
    session.add(version)
    audit.record(
        session, principal=principal, action="revise", entity=_entity(report.id), purpose="MON-1"
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=version.id)
    await session.flush()
    return await _view(session, report, version)


async def sign_monitoring_report(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: str,
    version: int,
    now: datetime | None = None,
) -> ReportView:
    """The center head's sign-off of the latest version, not one they wrote (four eyes); it
    freezes that version and meets the quarter's MON-1 obligation."""
    require_role(principal, *rules.SIGNERS)
    if version <= 0:
        raise Invalid("version", "name the version you sign off (1 or more)")
    now = now or utcnow()
    await _report(session, principal, report_id)
    report = await models.lock_report(session, report_id)
    assert report is not None
    row = await _version(session, report, version)
    rules.check_signable(
        version=row.version,
        latest=report.latest_version,
        signed_by=row.signed_by,
        author=row.author,
        signer=principal.username,
        agency=principal.agency,
        center=report.center_id,
    )
    row.signed_by = principal.username
    row.signed_at = now
    session.add(row)
    for obligation in await ensure_obligation(
        session,
        territory=report.territory,
        center_id=report.center_id,
        quarter=Quarter.parse(report.quarter),
    ):
        obligations.meet(session, obligation, at=now)
    audit.record(
        session, principal=principal, action="sign", entity=_entity(report.id), purpose="MON-1"
    )
    await session.flush()
    return await _view(session, report, row)


async def get_monitoring_report(
    session: AsyncSession, *, principal: Principal, report_id: str, version: int = 0
) -> ReportView:
    """One report of the caller's territory at one version (the latest by default)."""
    require_role(principal, *rules.READERS)
    report = await _report(session, principal, report_id)
    row = await _version(session, report, version)
    audit.record(
        session, principal=principal, action="read", entity=_entity(report.id), purpose="MON-1"
    )
    return await _view(session, report, row)


async def list_monitoring_reports(
    session: AsyncSession, *, principal: Principal, quarter: str = ""
) -> list[ReportView]:
    """The caller's territory's reports at their latest versions, newest quarter first."""
    require_role(principal, *rules.READERS)
    wanted = str(Quarter.parse(quarter)) if quarter.strip() else None
    rows = await models.territory_reports(session, territory=principal.territory, quarter=wanted)
    subjects = [rules.obligation_subject(r.center_id, r.quarter) for r, _ in rows]
    found = await obligations.for_subjects(session, subjects)
    return [
        ReportView(r, v, [], found.get(rules.obligation_subject(r.center_id, r.quarter), []))
        for r, v in rows
    ]


def render(view: ReportView, format: ExportFormat) -> Export:
    """One version as a PDF document or a CSV table of its figures (CPU only: the caller
    renders it outside its transaction, after the audited read)."""
    r, v = view.report, view.version
    name = f"monitoring-{r.center_id}-{r.quarter}-v{v.version}.{format.value}"
    if format is ExportFormat.CSV:
        return Export(figures_csv(v), "text/csv; charset=utf-8", name)
    return Export(report_pdf(r, v), "application/pdf", name)


# A cell a spreadsheet would run as a formula is written as text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else f"{value:.4f}".rstrip("0")


def figures_csv(version: MonitoringReportVersion) -> bytes:
    """section, title, series, label, value: one row per figure, UTF-8 with a BOM so that
    spreadsheet programs read Cyrillic and Kazakh labels right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "title", "series", "label", "value"])
    for row in rules.figure_rows(version.snapshot):
        writer.writerow(
            [row.section, _cell(row.title), _cell(row.series), _cell(row.label), _number(row.value)]
        )
    return ("\ufeff" + out.getvalue()).encode()


def report_pdf(report: MonitoringReport, version: MonitoringReportVersion) -> bytes:
    style = pdf.styles()
    out = io.BytesIO()
    doc = pdf.document(
        out, title=f"Monitoring {report.center_id} {report.quarter}", author=version.author
    )
    signed = (
        f"signed off by {version.signed_by} at {version.signed_at.isoformat(timespec='minutes')}"
        if version.signed_at
        else "not signed off"
    )
    story: list[Flowable] = [
        pdf.line(f"Quarterly monitoring (MON-1): {report.center_id}, {report.quarter}", style.head),
        pdf.line(
            f"Version {version.version} by {version.author}, "
            f"{version.created_at.isoformat(timespec='minutes')}; {signed}",
            style.body,
        ),
        Spacer(1, 4 * mm),
        pdf.line("Conclusion", style.section),
        *pdf.paragraphs(version.conclusion, style.body),
    ]
    for title, items in (("Shortcomings", version.shortcomings), ("Proposals", version.proposals)):
        story.append(pdf.line(title, style.section))
        story.append(
            ListFlowable(pdf.lines(items, style.body), bulletType="1")
            if items
            else pdf.line("None.", style.body)
        )
    rows = rules.figure_rows(version.snapshot)
    for section in sorted({r.section for r in rows}):
        mine = [r for r in rows if r.section == section]
        story.append(pdf.line(f"{section}: {mine[0].title}", style.section))
        table = Table(
            [["Series", "Label", "Value"]]
            + [
                [pdf.line(r.series, style.body), pdf.line(r.label, style.body), _number(r.value)]
                for r in mine
            ],
            colWidths=[60 * mm, 75 * mm, 30 * mm],
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), style.body.fontName, 9),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    missing = version.snapshot.get("missing") or []
    if missing:
        story.append(pdf.line("Not included", style.section))
        story.extend(pdf.lines([str(m) for m in missing], style.body))
    doc.build(story)
    return out.getvalue()
