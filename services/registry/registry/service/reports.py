"""Quarterly reports (REG-7, MON-5): the registry office reports the families and minors on
record at the quarter's end by the 5th of the next month, the ministry sums the offices' reports
by the 10th. The terms are opened by the sweeper when the quarter ends (`open_quarter_terms`)
and met by the submissions. Counts only: no person is named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import idempotency, obligations
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden
from kamqor.ids import new_id
from kamqor.obligations import Obligation
from kamqor.profiles import Profile, get_profile
from kamqor.territories import all_territories
from kamqor.territories import territory as territory_of
from registry import exports
from registry.models.reporting import (
    QuarterReport,
    claim_quarter,
    known_office,
    quarter_counts,
    report_of,
    reports_of,
)
from registry.rules import is_registry_office
from registry.rules import reports as rq
from registry.rules.reports import Quarter, ReportLevel
from registry.service._common import _profile_for


@dataclass(frozen=True)
class ReportView:
    report: QuarterReport
    obligations: list[Obligation]


@dataclass(frozen=True)
class Indicators:
    territory: str
    quarter: Quarter
    as_of: datetime
    families: int
    minors: int


_ONE_SECOND = timedelta(seconds=1)


def _subject(territory: str, quarter: Quarter) -> str:
    return f"quarter/{territory}/{quarter}"


async def submit_office_report(
    session: AsyncSession,
    *,
    principal: Principal,
    quarter: str,
    idempotency_key: str = "",
    request_digest: str = "",
    now: datetime | None = None,
) -> ReportView:
    """The office's report of an ended quarter, counted from the bank as it stood at the
    quarter's end; submitted once (a retry returns the first), meeting REG-7/office."""
    if not is_registry_office(principal):
        raise Forbidden("only the registry office reports its families (REG-7)")
    profile = _profile_for(principal.territory, rq.OFFICE_RULE)
    period = rq.parse_quarter(quarter)
    now = now or utcnow()
    rq.check_ended(period, now=now, zone=profile.zone)
    level = ReportLevel.OFFICE
    key = idempotency.check_key(idempotency_key)
    earlier = await _earlier(session, principal, period, level, key=key, digest=request_digest)
    if earlier is not None:
        return await _view(session, earlier)
    families, minors, registered, deregistered = await quarter_counts(
        session,
        territory=principal.territory,
        start=period.start(profile.zone),
        end=period.end(profile.zone),
        last_day=period.last_day(),
        office=principal.agency,
    )
    report = _report(
        principal,
        period,
        profile,
        level=level,
        counts=(families, minors, registered, deregistered),
        now=now,
    )
    session.add(report)
    _remember(session, principal, level, key=key, digest=request_digest, report_id=report.id)
    await _meet(session, principal, period, rq.OFFICE_RULE, now)
    await session.flush()
    return await _view(session, report)


async def submit_ministry_summary(
    session: AsyncSession,
    *,
    principal: Principal,
    quarter: str,
    idempotency_key: str = "",
    request_digest: str = "",
    now: datetime | None = None,
) -> ReportView:
    """The ministry's summary of the offices' reports of the quarter (seed 002 p. 52), once;
    meeting REG-7/ministry. Refused while no office has reported."""
    rq.check_ministry(principal)
    profile = _profile_for(principal.territory, rq.MINISTRY_RULE)
    period = rq.parse_quarter(quarter)
    now = now or utcnow()
    rq.check_ended(period, now=now, zone=profile.zone)
    level = ReportLevel.MINISTRY
    key = idempotency.check_key(idempotency_key)
    earlier = await _earlier(session, principal, period, level, key=key, digest=request_digest)
    if earlier is not None:
        return await _view(session, earlier)
    offices = [
        r
        for r in await reports_of(session, territory=principal.territory, quarter=str(period))
        if r.level == ReportLevel.OFFICE
    ]
    if not offices:
        raise Conflict(
            f"no registry office has reported {period} yet: the summary is built from their "
            "reports (REG-7)",
            code="no-office-reports",
        )
    counts = (
        sum(r.families_on_record for r in offices),
        sum(r.minors_on_record for r in offices),
        sum(r.families_registered for r in offices),
        sum(r.families_deregistered for r in offices),
    )
    report = _report(principal, period, profile, level=level, counts=counts, now=now)
    report.office_reports = len(offices)
    session.add(report)
    _remember(session, principal, level, key=key, digest=request_digest, report_id=report.id)
    await _meet(session, principal, period, rq.MINISTRY_RULE, now)
    await session.flush()
    return await _view(session, report)


async def _earlier(
    session: AsyncSession,
    principal: Principal,
    period: Quarter,
    level: ReportLevel,
    *,
    key: str,
    digest: str,
) -> QuarterReport | None:
    """What a retry gets back. A report is one per agency and quarter by nature, so a retry
    without a key already finds the first; the key adds the contract every 201 route keeps:
    the same key with another quarter is refused (422), a twin in flight is a 409."""
    scope = _scope(level, principal.agency)
    if (first := await idempotency.claim(session, scope=scope, key=key, digest=digest)) is not None:
        return await session.get(QuarterReport, first)
    earlier = await report_of(
        session,
        territory=principal.territory,
        quarter=str(period),
        level=level,
        agency=principal.agency,
    )
    if earlier is not None:  # submitted before under another key or none: this key names it too
        _remember(session, principal, level, key=key, digest=digest, report_id=earlier.id)
    return earlier


def _remember(
    session: AsyncSession,
    principal: Principal,
    level: ReportLevel,
    *,
    key: str,
    digest: str,
    report_id: str,
) -> None:
    scope = _scope(level, principal.agency)
    idempotency.remember(session, scope=scope, key=key, digest=digest, result_id=report_id)


def _scope(level: ReportLevel, agency: str) -> str:
    return f"submit_{level}_report:{agency}"


async def list_reports(
    session: AsyncSession, *, principal: Principal, quarter: str
) -> list[ReportView]:
    rq.check_reader(principal)
    _profile_for(principal.territory, *rq.REPORT_RULES)
    period = rq.parse_quarter(quarter)
    rows = await reports_of(session, territory=principal.territory, quarter=str(period))
    found = await obligations.for_subjects(session, [_subject(principal.territory, period)])
    terms = found.get(_subject(principal.territory, period), [])
    return [ReportView(r, [o for o in terms if o.rule == _rule(r.level)]) for r in rows]


async def indicators(
    session: AsyncSession,
    *,
    principal: Principal,
    quarter: str,
    territory: str = "",
    now: datetime | None = None,
) -> Indicators:
    """MON-5: the families and minors on record at the end of an ended quarter, counted from
    the bank as it stood then."""
    rq.check_reader(principal)
    code = territory or principal.territory
    if code != principal.territory:
        raise Forbidden("a territory reads its own indicators")
    profile = _profile_for(code, rq.OFFICE_RULE)
    period = rq.parse_quarter(quarter)
    rq.check_ended(period, now=now or utcnow(), zone=profile.zone)
    families, minors, _, _ = await quarter_counts(
        session,
        territory=code,
        start=period.start(profile.zone),
        end=period.end(profile.zone),
        last_day=period.last_day(),
    )
    return Indicators(code, period, period.end(profile.zone), families, minors)


async def open_quarter_terms(session: AsyncSession, *, now: datetime) -> int:
    """Sweeper step: when a quarter has ended, open its REG-7 terms in every territory whose
    profile has them, once (a marker row, whichever replica comes first)."""
    opened = 0
    for t in all_territories():
        profile = _profile_or_none(t.code)
        if profile is None:
            continue
        ended = rq.previous(rq.quarter_of(local_date(now, profile.zone)))
        # The terms run from the quarter's last day (`quarter_day` counts from inside it).
        arose = ended.end(profile.zone).replace(microsecond=0) - _ONE_SECOND
        # A quarter whose reporting window closed before the bank was running (a first start
        # in mid-quarter) is history, not a pair of terms overdue on the day they open.
        if now > profile.due(rq.MINISTRY_RULE, arose).due_at:
            continue
        if not await claim_quarter(session, territory=t.code, quarter=str(ended), now=now):
            continue
        office = await known_office(session, t.code)
        for rule, agency in ((rq.OFFICE_RULE, office), (rq.MINISTRY_RULE, "")):
            obligations.open_obligation(
                session,
                rule=rule,
                subject=_subject(t.code, ended),
                territory=t.code,
                arose_at=arose,
                responsible_agency=agency,
            )
            opened += 1
    return opened


def _profile_or_none(code: str) -> Profile | None:
    profile = get_profile(territory_of(code).profile)
    return profile if all(profile.has_rule(r) for r in rq.REPORT_RULES) else None


def _rule(level: str) -> str:
    return rq.OFFICE_RULE if level == ReportLevel.OFFICE else rq.MINISTRY_RULE


def _report(
    principal: Principal,
    period: Quarter,
    profile: Profile,
    *,
    level: ReportLevel,
    counts: tuple[int, int, int, int],
    now: datetime,
) -> QuarterReport:
    return QuarterReport(
        id=new_id(),
        territory=principal.territory,
        quarter=str(period),
        level=level,
        agency=principal.agency,
        families_on_record=counts[0],
        minors_on_record=counts[1],
        families_registered=counts[2],
        families_deregistered=counts[3],
        as_of=period.end(profile.zone),
        submitted_by=principal.subject,
        submitted_at=now,
    )


async def _meet(
    session: AsyncSession, principal: Principal, period: Quarter, rule: str, now: datetime
) -> None:
    for row in await obligations.for_subject(
        session, _subject(principal.territory, period), rule=rule
    ):
        row.responsible_agency = row.responsible_agency or principal.agency
        obligations.meet(session, row, at=now)


async def _view(session: AsyncSession, report: QuarterReport) -> ReportView:
    terms = await obligations.for_subject(
        session, f"quarter/{report.territory}/{report.quarter}", rule=_rule(report.level)
    )
    return ReportView(report, terms)


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


async def export_reports(
    session: AsyncSession, *, principal: Principal, quarter: str, format: str
) -> Export:
    """The quarter's reports of the caller's territory as CSV or PDF (REG-7)."""
    kind = rq.check_format(format)
    views = await list_reports(session, principal=principal, quarter=quarter)
    reports = [v.report for v in views]
    period = rq.parse_quarter(quarter)
    # Quarter and territory only in the name: no person is in these files.
    name = f"reg7-{principal.territory}-{period}.{kind}"
    if kind == "csv":
        return Export(exports.to_csv(reports), "text/csv; charset=utf-8", name)
    return Export(
        exports.to_pdf(reports, territory=principal.territory, quarter=str(period)),
        "application/pdf",
        name,
    )
