"""The shelter's bed board with holds, refusals and the waiting list, the delivery status and
letter of each notice, and the MON-6 indicators, rendered against a fake gateway."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.console.fakes import answer, client, console_app, principal, sign_in
from tests.console.test_pages import NOTICE, SHELTER, fake_gateway

OPERATOR = principal("shelter.ast", "shelter-operator")
POLICE = principal("police.ast", "agency-coordinator", agency="pol-ast-1", agency_type="police")
REFUSAL = {
    "id": "0196a000-0000-7000-8000-0000000000c1",
    "shelter_id": SHELTER["id"],
    "adult": {"full_name": "Жанар Болатқызы", "birth_date": "1988-03-01"},
    "persons": 3,
    "reason": "shelter_full",
    "detail": None,
    "referred_to": "Городская больница № 1",
    "refused_at": "2026-11-17T04:00:00Z",
    "recorded_by": "sub-shelter.ast",
    "waitlist_id": "0196a000-0000-7000-8000-0000000000c2",
}
WAITING = {
    "id": "0196a000-0000-7000-8000-0000000000c2",
    "shelter_id": SHELTER["id"],
    "adult": REFUSAL["adult"],
    "persons": 3,
    "queued_at": "2026-11-17T04:00:00Z",
    "state": "waiting",
    "hold_id": None,
    "position": 1,
}


def lists(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/refusals":
        return answer({"items": [REFUSAL], "next_page_token": None})
    return answer({"items": [WAITING], "next_page_token": None})


async def test_bed_board_shows_every_bed_state_and_the_operator_actions() -> None:
    app = console_app(fake_gateway([]))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        page = await http.get("/shelter")
    assert page.status_code == 200, page.text
    beds = re.search(r'<table class="table" id="beds">(.*?)</table>', page.text, re.S)
    assert beds is not None
    rows = dict(re.findall(r'data-bed="(\d+)" class="bed bed--(\w+)"', beds.group(1)))
    assert rows == {
        "1": "occupied",
        "2": "occupied",
        "3": "occupied",
        "4": "held",
        "5": "out_of_service",
        "6": "free",
    }
    assert "leaking roof" in beds.group(1)
    # Only the free bed can go out of service, only the out-of-service one comes back.
    assert beds.group(1).count('name="out_of_service" value="true"') == 1
    assert beds.group(1).count('name="out_of_service" value="false"') == 1
    assert f'action="/shelter/{SHELTER["id"]}/holds"' in page.text
    assert "Free: 1; occupied: 3; held: 1; out of service: 1." in page.text


async def test_the_head_sees_the_beds_but_no_actions() -> None:
    app = console_app(fake_gateway([]))
    session = sign_in(app, principal("head.ast", "center-head"), language="ru")
    async with client(app, session) as http:
        page = await http.get("/shelter")
        refused = await http.post(
            f"/shelter/{SHELTER['id']}/holds",
            data={"csrf_token": session.csrf_token, "beds": "1"},
        )
    assert 'id="beds"' in page.text
    assert "/holds" not in page.text and 'name="out_of_service"' not in page.text
    assert refused.status_code == 404


async def test_placing_a_hold_posts_it_with_the_form_key_and_says_so() -> None:
    seen: list[httpx.Request] = []

    def hold(request: httpx.Request) -> httpx.Response:
        return answer({"id": "h"}, 201)

    app = console_app(fake_gateway(seen, **{"/v1/holds": hold}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        done = await http.post(
            f"/shelter/{SHELTER['id']}/holds",
            data={
                "csrf_token": session.csrf_token,
                "form_key": "key-1",
                "beds": "2",
                "minutes": "90",
                "note": "police on the way",
            },
        )
        board = await http.get(done.headers["location"])
    assert done.status_code == 303
    (posted,) = [r for r in seen if r.url.path == "/v1/holds"]
    assert json.loads(posted.content) == {
        "shelter_id": SHELTER["id"],
        "beds": 2,
        "minutes": 90,
        "note": "police on the way",
    }
    assert posted.headers["Idempotency-Key"] == "key-1"
    assert "Beds held." in board.text


async def test_a_hold_the_shelter_cannot_give_is_explained_and_bad_counts_never_reach_the_api() -> (
    None
):
    seen: list[httpx.Request] = []

    def full(request: httpx.Request) -> httpx.Response:
        return answer({"type": "https://kamqor.dev/problems/shelter-full", "status": 409}, 409)

    app = console_app(fake_gateway(seen, **{"/v1/holds": full}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        await http.post(
            f"/shelter/{SHELTER['id']}/holds", data={"csrf_token": session.csrf_token, "beds": "0"}
        )
        first = await http.get(f"/shelter?shelter={SHELTER['id']}")
        await http.post(
            f"/shelter/{SHELTER['id']}/holds", data={"csrf_token": session.csrf_token, "beds": "5"}
        )
        second = await http.get(f"/shelter?shelter={SHELTER['id']}")
    assert "Enter how many beds to hold, from 1 to 21" in first.text
    assert "Too few free beds to hold" in second.text
    assert len([r for r in seen if r.url.path == "/v1/holds"]) == 1


async def test_taking_a_bed_out_of_service_needs_a_reason() -> None:
    seen: list[httpx.Request] = []
    path = f"/v1/shelters/{SHELTER['id']}/beds/6/service"

    def service(request: httpx.Request) -> httpx.Response:
        return answer({"number": 6, "state": "out_of_service"})

    app = console_app(fake_gateway(seen, **{path: service}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        url = f"/shelter/{SHELTER['id']}/beds/6/service"
        token = session.csrf_token
        await http.post(url, data={"csrf_token": token, "out_of_service": "true", "reason": " "})
        missing = await http.get("/shelter")
        await http.post(
            url, data={"csrf_token": token, "out_of_service": "true", "reason": "течёт крыша"}
        )
        done = await http.get("/shelter")
        without_csrf = await http.post(url, data={"out_of_service": "false"})
    posted = [r for r in seen if r.url.path == path]
    assert len(posted) == 1
    assert json.loads(posted[0].content) == {"out_of_service": True, "reason": "течёт крыша"}
    assert "Enter why the bed is out of service" in missing.text
    assert "The bed is out of service." in done.text
    assert without_csrf.status_code == 403


async def test_refusals_and_the_waiting_list() -> None:
    app = console_app(fake_gateway([], **{"/v1/refusals": lists, "/v1/waitlist": lists}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        page = await http.get(f"/shelter/refusals?shelter={SHELTER['id']}")
    assert page.status_code == 200, page.text
    waitlist = re.search(r'id="queue">(.*?)</table>', page.text, re.S)
    refusals = re.search(r'id="refusals">(.*?)</table>', page.text, re.S)
    assert waitlist is not None and "Жанар Болатқызы" in waitlist.group(1)
    assert "Waiting" in waitlist.group(1)
    assert refusals is not None and "The shelter is full" in refusals.group(1)
    assert "Городская больница № 1" in refusals.group(1)
    assert 'action="/shelter/refusals"' in page.text


async def test_recording_a_refusal_sends_it_and_queues_the_person() -> None:
    seen: list[httpx.Request] = []

    def refusals(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return answer(REFUSAL, 201)
        return lists(request)

    app = console_app(fake_gateway(seen, **{"/v1/refusals": refusals, "/v1/waitlist": lists}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        done = await http.post(
            "/shelter/refusals",
            data={
                "csrf_token": session.csrf_token,
                "form_key": "key-2",
                "shelter_id": SHELTER["id"],
                "adult-full_name": "Жанар Болатқызы",
                "adult-birth_date": "1988-03-01",
                "minors": "2",
                "reason": "shelter_full",
                "referred_to": "Городская больница № 1",
                "waitlist": "true",
            },
        )
        page = await http.get(done.headers["location"])
    assert done.status_code == 303
    (posted,) = [r for r in seen if r.method == "POST"]
    assert json.loads(posted.content) == {
        "shelter_id": SHELTER["id"],
        "adult": {"full_name": "Жанар Болатқызы", "birth_date": "1988-03-01"},
        "minors": 2,
        "reason": "shelter_full",
        "detail": "",
        "referred_to": "Городская больница № 1",
        "waitlist": True,
    }
    assert posted.headers["Idempotency-Key"] == "key-2"
    assert "Refusal recorded; the person is on the waiting list." in page.text


async def test_a_refusal_with_missing_fields_is_refused_beside_the_fields() -> None:
    seen: list[httpx.Request] = []
    app = console_app(fake_gateway(seen, **{"/v1/refusals": lists, "/v1/waitlist": lists}))
    session = sign_in(app, OPERATOR, language="ru")
    async with client(app, session) as http:
        page = await http.post(
            "/shelter/refusals",
            data={
                "csrf_token": session.csrf_token,
                "shelter_id": SHELTER["id"],
                "adult-full_name": "Жанар",
                "adult-birth_date": "",
                "minors": "40",
            },
        )
    assert page.status_code == 422
    for field in ("adult-birth_date", "minors", "reason"):
        assert f'id="{field}-error"' in page.text, field
    assert 'value="Жанар"' in page.text  # kept
    assert not any(r.method == "POST" for r in seen)


async def test_the_api_refusing_a_refusal_shows_beside_the_field() -> None:
    def invalid(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return lists(request)
        return answer(
            {
                "type": "https://kamqor.dev/problems/invalid",
                "status": 422,
                "errors": [{"field": "adult.birth_date", "message": "must be 18 or older"}],
            },
            422,
        )

    app = console_app(fake_gateway([], **{"/v1/refusals": invalid, "/v1/waitlist": lists}))
    session = sign_in(app, OPERATOR, language="en")
    async with client(app, session) as http:
        page = await http.post(
            "/shelter/refusals",
            data={
                "csrf_token": session.csrf_token,
                "shelter_id": SHELTER["id"],
                "adult-full_name": "Жанар",
                "adult-birth_date": "2015-01-01",
                "minors": "0",
                "reason": "not_eligible",
            },
        )
    assert page.status_code == 422
    assert 'id="adult-birth_date-error"' in page.text


async def test_the_notice_shows_its_deliveries_and_links_the_letter() -> None:
    app = console_app(fake_gateway([]))
    session = sign_in(app, POLICE, language="en")
    async with client(app, session) as http:
        page = await http.get("/notices")
    assert page.status_code == 200, page.text
    table = re.search(r'<table class="table deliveries">(.*?)</table>', page.text, re.S)
    assert table is not None
    assert "Registered letter" in table.group(1) and "Delivered" in table.group(1)
    assert "KZ-AST-2026-000017" in table.group(1)
    assert "Signed webhook" in table.group(1) and "Being delivered" in table.group(1)
    assert f'href="/notices/{NOTICE["id"]}/letter"' in page.text


async def test_the_letter_is_proxied_with_the_users_token_and_no_name_in_the_url() -> None:
    seen: list[httpx.Request] = []
    pdf = b"%PDF-1.7 letter"

    def letter(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=pdf,
            headers={
                "content-type": "application/pdf",
                "content-disposition": 'attachment; filename="KZ-AST-2026-000017.pdf"',
                "x-registration-number": "KZ-AST-2026-000017",
            },
        )

    path = f"/v1/notices/{NOTICE['id']}/letter"
    app = console_app(fake_gateway(seen, **{path: letter}))
    session = sign_in(app, POLICE, language="en")
    async with client(app, session) as http:
        got = await http.get(f"/notices/{NOTICE['id']}/letter")
        missing = await http.get("/notices/0196a000-0000-7000-8000-000000000999/letter")
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="KZ-AST-2026-000017.pdf"'
    assert got.headers["cache-control"] == "no-store"
    (asked,) = [r for r in seen if r.url.path == path]
    assert asked.headers["Authorization"] == "Bearer access"
    assert missing.status_code == 404


async def test_acknowledging_returns_the_notice_with_its_deliveries() -> None:
    def ack(request: httpx.Request) -> httpx.Response:
        return answer(NOTICE)

    app = console_app(fake_gateway([], **{f"/v1/notices/{NOTICE['id']}/ack": ack}))
    session = sign_in(app, POLICE, language="kk")
    async with client(app, session) as http:
        part = await http.post(
            f"/notices/{NOTICE['id']}/ack",
            data={"csrf_token": session.csrf_token},
            headers={"HX-Request": "true"},
        )
    assert part.status_code == 200, part.text
    assert 'class="table deliveries"' in part.text and "KZ-AST-2026-000017" in part.text


def indicators(request: httpx.Request) -> httpx.Response:
    assert request.url.params["from"] == "2026-11-01"
    return answer(
        {
            "from": "2026-11-01",
            "to": "2026-12-01",
            "territory": "kz-ast",
            "as_of": "2026-11-17T05:00:00Z",
            "occupancy": [
                {"shelter_id": SHELTER["id"], "day": "2026-11-01", "occupied": 2, "capacity": 6},
                {"shelter_id": "other", "day": "2026-11-01", "occupied": 1, "capacity": 4},
                {"shelter_id": SHELTER["id"], "day": "2026-11-02", "occupied": 3, "capacity": 6},
            ],
            "bed_days": [
                {"shelter_id": SHELTER["id"], "shelter_name": "Кризисный центр", "bed_days": 5}
            ],
            "stays_by_length": [{"length": "0-7", "stays": 2}, {"length": "32+", "stays": 0}],
            "admissions": 2,
            "admissions_with_minors": 1,
            "minors_admitted": 2,
            "refusals": [{"reason": "shelter_full", "refusals": 4}],
            "notices": [
                {
                    "recipient_agency_type": "guardianship",
                    "rule": "SHL-3",
                    "created": 4,
                    "delivered_on_time": 1,
                    "delivered_late": 1,
                    "undelivered_overdue": 1,
                    "undelivered_not_due": 1,
                    "acknowledged": 0,
                    "delivery_hours_median": 16.0,
                    "delivery_hours_p90": 27.2,
                    "acknowledgement_hours_median": None,
                    "acknowledgement_hours_p90": None,
                },
                {
                    "recipient_agency_type": "police",
                    "rule": "SHL-3",
                    "created": 4,
                    "delivered_on_time": 1,
                    "delivered_late": 1,
                    "undelivered_overdue": 1,
                    "undelivered_not_due": 1,
                    "acknowledged": 2,
                    "delivery_hours_median": 16.0,
                    "delivery_hours_p90": 27.2,
                    "acknowledgement_hours_median": 18.0,
                    "acknowledgement_hours_p90": 28.4,
                },
            ],
        }
    )


async def test_shelter_indicators_as_a_chart_and_tables() -> None:
    app = console_app(fake_gateway([], **{"/v1/reports/shelter": indicators}))
    session = sign_in(app, principal("analyst.ast", "analyst"), language="en")
    async with client(app, session) as http:
        page = await http.get("/reports/shelter?start=2026-11-01&end=2026-12-01")
        menu = await http.get("/deadlines?start=2026-11-01&end=2026-12-01")
    assert page.status_code == 200, page.text
    data = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page.text)
    assert data is not None
    chart: dict[str, Any] = json.loads(data.group(1))
    # Both shelters summed per day: 3 of 10 beds, then 3 of 6 (the other reported nothing).
    assert chart["labels"] == ["2026-11-01", "2026-11-02"]
    assert chart["onTime"] == [3, 3] and chart["late"] == [7, 3]
    assert chart["onTimeLabel"] == "Occupied" and chart["lateLabel"] == "Free"
    assert "Кризисный центр" in page.text and "The shelter is full" in page.text
    assert 'href="/reports/shelter"' in menu.text
    # Notice timeliness (MON-6), one row per recipient agency; no acknowledgement: a dash.
    table = page.text.split('id="notice-timeliness"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table)
    assert [r.split("</th>", 1)[0] for r in rows] == ["Guardianship", "Police"]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert cells[0] == ["SHL-3", "4", "1", "1", "1", "1", "0", "16 / 27.2", "— / —"]
    assert cells[1][-2:] == ["16 / 27.2", "18 / 28.4"]


async def test_shelter_indicators_refuse_a_backward_period_before_the_api() -> None:
    seen: list[httpx.Request] = []
    app = console_app(fake_gateway(seen, **{"/v1/reports/shelter": indicators}))
    session = sign_in(app, principal("head.ast", "center-head"), language="ru")
    async with client(app, session) as http:
        page = await http.get("/reports/shelter?start=2026-11-10&end=2026-11-01")
        hidden = sign_in(app, OPERATOR)
    async with client(app, hidden) as http:
        refused = await http.get("/reports/shelter")
    assert page.status_code == 422 and 'id="end-error"' in page.text
    assert not any(r.url.path == "/v1/reports/shelter" for r in seen)
    assert refused.status_code == 404


async def test_the_new_screens_render_in_every_language() -> None:
    app = console_app(
        fake_gateway(
            [],
            **{"/v1/refusals": lists, "/v1/waitlist": lists, "/v1/reports/shelter": indicators},
        )
    )
    head = sign_in(app, principal("head.ast", "center-head", "agency-coordinator"))
    for language in ("ru", "kk", "en"):
        head.language = language
        async with client(app, head) as http:
            for path in (
                "/shelter",
                "/shelter/refusals",
                "/notices",
                "/reports/shelter?start=2026-11-01&end=2026-12-01",
            ):
                page = await http.get(path)
                assert page.status_code == 200, (language, path, page.text[:500])


async def test_the_board_tells_when_a_pending_notice_was_delivered() -> None:
    pending = {**NOTICE, "state": "pending", "due_at": "2099-01-01T00:00:00Z"}

    def notices(request: httpx.Request) -> httpx.Response:
        return answer({"items": [pending], "next_page_token": None})

    app = console_app(fake_gateway([], **{"/v1/notices": notices}))
    session = sign_in(app, OPERATOR, language="ru")
    async with client(app, session) as http:
        page = await http.get("/shelter")
    status = re.search(r'<td class="notice-status">(.*?)</td>', page.text, re.S)
    assert status is not None and "доставлено" in status.group(1)
