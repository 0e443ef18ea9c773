"""Quarterly monitoring (analysts, the center head, auditors): the center's reports per quarter
(MON-1), each with its indicators as bar charts drawn on the server (inline SVG, no script), the
conclusion, shortcomings and proposals, its versions, the head's sign-off, and PDF and CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms, i18n
from console.api import ApiError, Json
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.templating import render
from kamqor.clock import utcnow

READERS = ("analyst", "center-head", "auditor")
AUTHORS = ("analyst", "center-head")
SIGNERS = ("center-head",)
MAX_ITEMS = 50
MAX_BARS = 30

router = APIRouter(prefix="/monitoring", dependencies=[require(*READERS)])


def ended_quarters(count: int = 4) -> list[str]:
    """The latest quarters that have ended, newest first (the form's choices)."""
    today = i18n.local(utcnow()).date()
    year, number = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(count):
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
        out.append(f"{year}-Q{number}")
    return out


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    width: float  # percent of the longest bar


@dataclass(frozen=True)
class Chart:
    id: str
    section: str
    title: str
    series: str
    bars: list[Bar]


def charts(snapshot: Json | None) -> list[Chart]:
    """One horizontal bar chart per section and series; values scaled to the longest bar."""
    if not snapshot:
        return []
    out: list[Chart] = []
    for key, section in sorted((snapshot.get("sections") or {}).items()):
        series: dict[str, list[Json]] = {}
        for figure in section.get("figures") or []:
            series.setdefault(str(figure["series"]), []).append(figure)
        for name, figures in series.items():
            shown = figures[:MAX_BARS]
            top = max((abs(f["value"]) for f in shown if f["value"] is not None), default=0)
            bars = [
                Bar(
                    str(f["label"]),
                    f["value"],
                    0.0 if not top or f["value"] is None else round(abs(f["value"]) / top * 100, 1),
                )
                for f in shown
            ]
            chart_id = f"chart-{len(out) + 1}"
            out.append(Chart(chart_id, key, str(section.get("title", "")), name, bars))
    return out


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _read(data: Any) -> tuple[Json, Errors, Json]:
    """The form's values (to show again), its errors and the API body (without the quarter)."""
    errors = Errors()
    values: Json = {
        "quarter": str(data.get("quarter", "")),
        "conclusion": str(data.get("conclusion", "")).strip(),
        "shortcomings": str(data.get("shortcomings", "")),
        "proposals": str(data.get("proposals", "")),
    }
    if not values["conclusion"]:
        errors.add("conclusion", N_("Enter the conclusion"))
    elif len(values["conclusion"]) > 20_000:
        errors.add("conclusion", N_("Enter at most 20000 characters"))
    body: Json = {"conclusion": values["conclusion"]}
    for key in ("shortcomings", "proposals"):
        items = _lines(values[key])
        if len(items) > MAX_ITEMS or any(len(i) > 2000 for i in items):
            errors.add(key, N_("Enter at most 50 lines of at most 2000 characters"))
        body[key] = items
    return values, errors, body


def _blank() -> Json:
    return {"quarter": "", "conclusion": "", "shortcomings": "", "proposals": ""}


async def _list(request: Request, user: User, quarter: str, form: Json, errors: Errors) -> Response:
    answer = await user.api.get("/v1/monitoring-reports", {"quarter": quarter or None})
    return render(
        request,
        "monitoring/list.html",
        {
            "reports": answer["items"],
            "quarter": quarter,
            "quarters": ended_quarters(),
            "can_write": user.can(*AUTHORS),
            "form": form,
            "errors": errors,
            "flash": take_flash(user),
        },
        status_code=422 if errors else 200,
    )


@router.get("")
async def reports(
    request: Request,
    user: CurrentUser,
    quarter: Annotated[str, Query(pattern=r"^(\d{4}-Q[1-4])?$")] = "",
) -> Response:
    return await _list(request, user, quarter, _blank(), Errors())


@router.post("", dependencies=[require(*AUTHORS)])
async def create(request: Request, user: CurrentUser) -> Response:
    data = await request.form()
    values, errors, body = _read(data)
    if values["quarter"] not in ended_quarters():
        errors.add("quarter", N_("Select a quarter that has ended"))
    if not errors:
        try:
            made = await user.api.post(
                "/v1/monitoring-reports",
                {**body, "quarter": values["quarter"]},
                idempotency_key=str(data.get("form_key", "")) or None,
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            if exc.reason == "monitoring-report-exists":
                errors.add("quarter", N_("This quarter has a report: open it and revise it"))
            else:
                forms.from_api(errors, exc)
        else:
            user.session.flash = N_("Report written: version 1.")
            return RedirectResponse(f"/monitoring/{made['id']}", status_code=303)
    return await _list(request, user, "", values, errors)


async def _report(
    request: Request, user: User, report_id: UUID, version: int | None, form: Json, errors: Errors
) -> Response:
    report = await user.api.get(f"/v1/monitoring-reports/{report_id}", {"version": version})
    latest = report["version"] == report["latest_version"]
    if not errors:
        form = {
            "conclusion": report["conclusion"],
            "shortcomings": "\n".join(report["shortcomings"]),
            "proposals": "\n".join(report["proposals"]),
        }
    return render(
        request,
        "monitoring/report.html",
        {
            "report": report,
            "charts": charts(report["snapshot"]),
            "latest": latest,
            "can_write": user.can(*AUTHORS) and latest,
            "can_sign": user.can(*SIGNERS) and latest and not report["signed"],
            "form": form,
            "errors": errors,
            "flash": take_flash(user),
        },
        status_code=422 if errors else 200,
    )


@router.get("/{report_id}")
async def report(
    request: Request,
    user: CurrentUser,
    report_id: UUID,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return await _report(request, user, report_id, version, _blank(), Errors())


@router.post("/{report_id}/revisions", dependencies=[require(*AUTHORS)])
async def revise(request: Request, user: CurrentUser, report_id: UUID) -> Response:
    data = await request.form()
    values, errors, body = _read(data)
    base = str(data.get("base_version", ""))
    if not errors:
        try:
            await user.api.post(
                f"/v1/monitoring-reports/{report_id}/revisions",
                {**body, "base_version": int(base) if base.isdigit() else None},
                idempotency_key=str(data.get("form_key", "")) or None,
            )
        except ApiError as exc:
            if exc.status >= 500 or exc.status == 404:
                raise
            forms.from_api(errors, exc)
            if exc.reason == "monitoring-report-version-stale":
                errors.form = N_("Someone wrote a newer version meanwhile: read it first")
        else:
            user.session.flash = N_("New version written.")
            return RedirectResponse(f"/monitoring/{report_id}", status_code=303)
    return await _report(request, user, report_id, None, values, errors)


@router.post("/{report_id}/sign", dependencies=[require(*SIGNERS)])
async def sign(request: Request, user: CurrentUser, report_id: UUID) -> Response:
    data = await request.form()
    version = str(data.get("version", ""))
    errors = Errors()
    try:
        await user.api.post(
            f"/v1/monitoring-reports/{report_id}/sign",
            {"version": int(version) if version.isdigit() else 0},
        )
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        errors.form = {
            403: N_("You cannot sign off a version you wrote yourself"),
            409: N_("This version is not the latest, or it is already signed off"),
        }.get(exc.status, N_("The request could not be completed"))
        return await _report(request, user, report_id, None, _blank(), errors)
    user.session.flash = N_("Signed off.")
    return RedirectResponse(f"/monitoring/{report_id}", status_code=303)


async def _file(user: User, report_id: UUID, kind: str, version: int | None) -> Response:
    content, media_type, disposition = await user.api.get_file(
        f"/v1/monitoring-reports/{report_id}/export.{kind}", {"version": version}
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/{report_id}/export.pdf")
async def export_pdf(
    user: CurrentUser, report_id: UUID, version: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    return await _file(user, report_id, "pdf", version)


@router.get("/{report_id}/export.csv")
async def export_csv(
    user: CurrentUser, report_id: UUID, version: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    return await _file(user, report_id, "csv", version)
