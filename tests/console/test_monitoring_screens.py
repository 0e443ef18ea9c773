"""The quarterly monitoring screens: the list with the writing form, a report with its charts as
inline SVG bars, versions, the sign-off button only for the head who may sign, the PDF and CSV
files passed through, and form errors beside their fields; rendered against a fake gateway."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.console.fakes import answer, client, console_app, principal, sign_in

ANALYST = principal("analyst.ast", "analyst", agency="min-ast-1", agency_type="ministry")
HEAD = principal("head.ast", "center-head")
REPORT_ID = "0196a000-0000-7000-8000-00000000d001"
SNAPSHOT = {
    "quarter": "2026-Q3",
    "territory": "kz-ast",
    "from": "2026-07-01",
    "to": "2026-10-01",
    "assembled_at": "2026-11-17T05:00:00Z",
    "sections": {
        "MON-3": {
            "title": "Compliance with interagency deadlines",
            "source": "getDeadlineReport",
            "figures": [
                {"series": "on_time_share_by_rule", "label": "INT-3/primary", "value": 0.5},
                {"series": "on_time_share_by_rule", "label": "SHL-3", "value": 1.0},
                {"series": "on_time_share_by_rule", "label": "PLN-6", "value": None},
            ],
            "data": {},
        },
        "MON-4": {
            "title": "Caseload per case worker (at assembly)",
            "source": "getCaseloadReport",
            "figures": [{"series": "open_cases", "label": "Жанна Қасым", "value": 12}],
            "data": {},
        },
    },
    "missing": ["MON-5"],
}


def report(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": REPORT_ID,
        "center_id": "fc-ast-1",
        "territory": "kz-ast",
        "quarter": "2026-Q3",
        "version": 2,
        "latest_version": 2,
        "signed": False,
        "snapshot": SNAPSHOT,
        "conclusion": "\n".join(["Сроки соблюдены в основном.", "Нагрузка в пределах нормы."]),
        "shortcomings": ["Two INT-3 assessments were late"],
        "proposals": ["A duty case worker on Mondays"],
        "author": "analyst.ast",
        "created_at": "2026-11-17T05:00:00Z",
        "signed_by": None,
        "signed_at": None,
        "versions": [
            {
                "version": 1,
                "author": "analyst.ast",
                "created_at": "2026-11-16T05:00:00Z",
                "signed_by": "head.ast",
                "signed_at": "2026-11-16T06:00:00Z",
            },
            {
                "version": 2,
                "author": "analyst.ast",
                "created_at": "2026-11-17T05:00:00Z",
                "signed_by": None,
                "signed_at": None,
            },
        ],
        "obligations": [],
    }
    body.update(kw)
    return body


Overrides = dict[tuple[str, str], Any]


def gateway(seen: list[httpx.Request], overrides: Overrides | None = None) -> Any:
    overrides = overrides or {}

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if (request.method, path) in overrides:
            return overrides[(request.method, path)](request)  # type: ignore[no-any-return]
        if path == "/v1/monitoring-reports" and request.method == "GET":
            return answer({"items": [report(snapshot=None, versions=[])]})
        if path == f"/v1/monitoring-reports/{REPORT_ID}":
            return answer(report())
        if path == f"/v1/monitoring-reports/{REPORT_ID}/export.csv":
            return httpx.Response(
                200,
                content="\ufeffsection,title,series,label,value\r\n".encode(),
                headers={
                    "content-type": "text/csv; charset=utf-8",
                    "content-disposition": 'attachment; filename="monitoring-fc-ast-1.csv"',
                },
            )
        return answer({"type": "https://kamqor.dev/problems/not-found"}, 404)

    return handle


async def test_the_report_shows_bars_versions_and_files_and_the_head_may_sign() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen))
    session = sign_in(app, HEAD, language="en")
    async with client(app, session) as http:
        page = await http.get(f"/monitoring/{REPORT_ID}")
    assert page.status_code == 200, page.text
    # One chart per section and series, drawn on the server: no script, bars scaled to the
    # longest (SHL-3 at 1.0 is the full 300 units, INT-3 half of it; PLN-6 has no value).
    figures = re.findall(r'<figure class="bars" id="(chart-\d+)">(.*?)</figure>', page.text, re.S)
    assert [f[0] for f in figures] == ["chart-1", "chart-2"]
    widths = re.findall(r'<rect x="200" y="4" width="([\d.]+)"', figures[0][1])
    assert widths == ["150.0", "300.0", "0.0"]
    assert "Жанна Қасым" in figures[1][1] and 'role="img"' in figures[1][1]
    assert "<script" not in page.text.split('<section aria-labelledby="indicators-title">')[1]
    assert "Not included (no service reports them yet): MON-5." in page.text
    assert f'action="/monitoring/{REPORT_ID}/sign"' in page.text
    assert f"/monitoring/{REPORT_ID}/export.pdf?version=2" in page.text
    assert re.findall(r'<ol id="versions">(.*?)</ol>', page.text, re.S)[0].count("<li>") == 2
    assert seen[-1].url.params.get("version") is None


async def test_the_analyst_sees_no_sign_button_and_a_signed_version_has_none() -> None:
    app = console_app(gateway([]))
    session = sign_in(app, ANALYST, language="ru")
    async with client(app, session) as http:
        page = await http.get(f"/monitoring/{REPORT_ID}")
        refused = await http.post(
            f"/monitoring/{REPORT_ID}/sign", data={"version": "2", "csrf_token": session.csrf_token}
        )
    assert page.status_code == 200 and "/sign" not in page.text
    assert refused.status_code == 404  # not a screen for analysts
    signed = report(signed=True, signed_by="head.ast", signed_at="2026-11-18T05:00:00Z")
    app = console_app(
        gateway([], {("GET", f"/v1/monitoring-reports/{REPORT_ID}"): lambda r: answer(signed)})
    )
    async with client(app, sign_in(app, HEAD, language="en")) as http:
        page = await http.get(f"/monitoring/{REPORT_ID}")
    assert "/sign" not in page.text and "Signed off by head.ast" in page.text


async def test_writing_a_report_posts_the_lines_and_opens_it() -> None:
    seen: list[httpx.Request] = []
    made = lambda r: answer(report(version=1, latest_version=1), 201)  # noqa: E731
    app = console_app(gateway(seen, {("POST", "/v1/monitoring-reports"): made}))
    session = sign_in(app, ANALYST, language="en")
    async with client(app, session) as http:
        page = await http.get("/monitoring")
        quarter = re.findall(r'<option value="(\d{4}-Q\d)"', page.text)[0]
        done = await http.post(
            "/monitoring",
            data={
                "csrf_token": session.csrf_token,
                "form_key": "k-1",
                "quarter": quarter,
                "conclusion": "Most terms were kept.",
                "shortcomings": "Late INT-3\n\n  Missing PLN-7 reports  \n",
                "proposals": "",
            },
        )
    assert page.status_code == 200 and 'action="/monitoring"' in page.text
    assert done.status_code == 303 and done.headers["location"] == f"/monitoring/{REPORT_ID}"
    posted = next(r for r in seen if r.method == "POST")
    assert json.loads(posted.content) == {
        "quarter": quarter,
        "conclusion": "Most terms were kept.",
        "shortcomings": ["Late INT-3", "Missing PLN-7 reports"],
        "proposals": [],
    }
    assert posted.headers["Idempotency-Key"] == "k-1"


async def test_form_errors_are_beside_their_fields_and_an_existing_quarter_is_named() -> None:
    exists = lambda r: answer(  # noqa: E731
        {"type": "https://kamqor.dev/problems/monitoring-report-exists", "status": 409}, 409
    )
    app = console_app(gateway([], {("POST", "/v1/monitoring-reports"): exists}))
    session = sign_in(app, ANALYST, language="en")
    async with client(app, session) as http:
        page = await http.get("/monitoring")
        quarter = re.findall(r'<option value="(\d{4}-Q\d)"', page.text)[0]
        empty = await http.post(
            "/monitoring",
            data={"csrf_token": session.csrf_token, "quarter": "1999-Q1", "conclusion": " "},
        )
        taken = await http.post(
            "/monitoring",
            data={"csrf_token": session.csrf_token, "quarter": quarter, "conclusion": "Done."},
        )
    assert empty.status_code == 422
    assert 'href="#conclusion"' in empty.text and 'href="#quarter"' in empty.text
    assert 'id="conclusion-error"' in empty.text
    assert taken.status_code == 422
    assert "This quarter has a report: open it and revise it" in taken.text


async def test_the_csv_is_passed_through_as_a_download() -> None:
    app = console_app(gateway([]))
    async with client(app, sign_in(app, ANALYST, language="en")) as http:
        got = await http.get(f"/monitoring/{REPORT_ID}/export.csv", params={"version": 1})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == 'attachment; filename="monitoring-fc-ast-1.csv"'
    assert got.headers["cache-control"] == "no-store"
    assert got.content.decode("utf-8-sig").startswith("section,title")
