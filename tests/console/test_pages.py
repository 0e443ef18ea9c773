"""Pages rendered against a fake gateway: what each role sees, the language, field errors."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.fakes import answer, client, console_app, principal, sign_in

SHELTER = {
    "id": "0196a000-0000-7000-8000-000000000001",
    "center_id": "fc-ast-1",
    "territory": "kz-ast",
    "name": "Кризисный центр",
    "capacity": 6,
    "occupied": 3,
    "held": 0,
    "out_of_service": 0,
    "free": 3,
}
STAY = {
    "id": "0196a000-0000-7000-8000-0000000000aa",
    "shelter_id": SHELTER["id"],
    "territory": "kz-ast",
    "adult": {"full_name": "Айгерим Сериккызы", "birth_date": "1990-05-14"},
    "minors": [
        {"full_name": "Арман", "birth_date": "2017-04-02"},
        {"full_name": "Дана", "birth_date": "2019-08-20"},
    ],
    "referral": "police",
    "admitted_at": "2026-11-17T05:00:00Z",
    "latest_end_at": "2026-11-19T18:59:59Z",
    "state": "active",
    "discharged_at": None,
    "discharge_reason": None,
    "appeal_id": None,
    "admitted_by": "sub-shelter.ast",
    "days_left": 2,
}
NOTICE = {
    "id": "0196a000-0000-7000-8000-0000000000bb",
    "rule": "SHL-3",
    "recipient_agency_type": "police",
    "territory": "kz-ast",
    "subject": f"stay/{STAY['id']}",
    "text": "Written notice under SHL-3",
    "created_at": "2026-11-17T05:00:01Z",
    "due_at": "2026-11-18T05:00:00Z",
    "state": "acknowledged",
    "acknowledged_at": "2026-11-17T06:00:00Z",
    "acknowledged_by_agency": "pol-ast-1",
    "delivered_at": "2026-11-17T05:00:03Z",
    "escalated_at": None,
}
BED_BOARD: dict[str, Any] = {
    "shelter": SHELTER,
    "beds": [
        {
            "id": f"0196a000-0000-7000-8000-00000000010{n}",
            "number": n,
            "state": state,
            "stay_id": None,
            "hold_id": None,
            "hold_expires_at": expires,
            "out_of_service_reason": reason,
        }
        for n, state, expires, reason in (
            (1, "occupied", None, None),
            (2, "occupied", None, None),
            (3, "occupied", None, None),
            (4, "held", "2026-11-17T09:00:00Z", None),
            (5, "out_of_service", None, "leaking roof"),
            (6, "free", None, None),
        )
    ],
    "free": 1,
    "occupied": 3,
    "held": 1,
    "out_of_service": 1,
}
DELIVERIES: dict[str, Any] = {
    "items": [
        {
            "id": "0196a000-0000-7000-8000-0000000000d1",
            "notice_id": NOTICE["id"],
            "channel": "letter",
            "target": "registry",
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": None,
            "delivered_at": "2026-11-17T05:00:03Z",
            "receipt": "KZ-AST-2026-000017",
            "history": [],
        },
        {
            "id": "0196a000-0000-7000-8000-0000000000d2",
            "notice_id": NOTICE["id"],
            "channel": "webhook",
            "target": "https://police.example/notices",
            "state": "pending",
            "attempts": 2,
            "next_attempt_at": "2026-11-17T05:10:00Z",
            "delivered_at": None,
            "receipt": None,
            "history": [],
        },
    ]
}


def fake_gateway(seen: list[httpx.Request], **overrides: Any) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path in overrides:
            return overrides[path](request)  # type: ignore[no-any-return]
        if path == "/v1/shelters":
            return answer({"items": [SHELTER]})
        if path == "/v1/stays":
            return answer({"items": [STAY], "next_page_token": None})
        if path == "/v1/notices":
            return answer({"items": [NOTICE], "next_page_token": None})
        if path == f"/v1/shelters/{SHELTER['id']}/beds":
            return answer(BED_BOARD)
        if path == f"/v1/notices/{NOTICE['id']}/deliveries":
            return answer(DELIVERIES)
        return answer({"type": "https://kamqor.dev/problems/not-found"}, 404)

    return handle


async def test_bed_board_shows_residents_days_left_and_notice_status() -> None:
    seen: list[httpx.Request] = []
    app = console_app(fake_gateway(seen))
    session = sign_in(app, principal("shelter.ast", "shelter-operator"), language="ru")
    async with client(app, session) as http:
        page = await http.get("/shelter")
    assert page.status_code == 200, page.text
    assert "Айгерим Сериккызы" in page.text and "Арман" in page.text
    assert "days--urgent" in page.text  # two days left: red
    assert "pol-ast-1" in page.text
    assert all(r.headers["Authorization"] == "Bearer access" for r in seen)
    notices = next(r for r in seen if r.url.path == "/v1/notices")
    assert notices.url.params.get_list("subject") == [f"stay/{STAY['id']}"]


async def test_kazakh_page_and_dates() -> None:
    app = console_app(fake_gateway([]))
    session = sign_in(app, principal("shelter.ast", "shelter-operator"), language="kk")
    async with client(app, session) as http:
        page = await http.get("/shelter")
    assert '<html lang="kk">' in page.text
    assert "Дағдарыс бөлімшесінің орындар тақтасы" in page.text
    # Babel's Kazakh date of the stay's end in Astana time (UTC+5): 19 November 2026 23:59.
    assert "23:59" in page.text


async def test_wrong_field_is_shown_beside_the_field() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return answer(
            {
                "type": "https://kamqor.dev/problems/invalid",
                "status": 422,
                "errors": [
                    {"field": "minors[0].birth_date", "message": "a minor must be under 18"}
                ],
            },
            422,
        )

    app = console_app(fake_gateway([], **{"/v1/stays": refuse}))
    session = sign_in(app, principal("shelter.ast", "shelter-operator"), language="en")
    async with client(app, session) as http:
        form = {
            "csrf_token": session.csrf_token,
            "shelter_id": SHELTER["id"],
            "adult-full_name": "Dana K.",
            "adult-birth_date": "1990-05-14",
            "minors-0-full_name": "Arman",
            "minors-0-birth_date": "1990-01-01",
            "minors-1-full_name": "",
            "minors-1-birth_date": "",
            "referral": "police",
            "referral_document": "KUSP 12/26",
            "action": "admit",
        }
        page = await http.post("/shelter/admit", data=form)
    assert page.status_code == 422
    beside = re.search(r'id="minors-0-birth_date-error">(.*?)</p>', page.text, re.S)
    assert beside is not None and "under 18" in beside.group(1)
    assert 'href="#minors-0-birth_date"' in page.text  # the error summary links to the field


async def test_missing_fields_are_named_before_the_api_is_called() -> None:
    seen: list[httpx.Request] = []
    app = console_app(fake_gateway(seen))
    session = sign_in(app, principal("shelter.ast", "shelter-operator"), language="ru")
    async with client(app, session) as http:
        page = await http.post(
            "/shelter/admit",
            data={
                "csrf_token": session.csrf_token,
                "shelter_id": SHELTER["id"],
                "action": "admit",
                "adult-full_name": "",
                "adult-birth_date": "2999-01-01",
            },
        )
    assert page.status_code == 422
    assert 'id="adult-full_name-error"' in page.text and "Введите ФИО взрослого" in page.text
    assert "Дата рождения должна быть в прошлом" in page.text
    assert not any(r.method == "POST" for r in seen)


async def test_a_referral_without_its_document_number_is_named_before_the_api_is_called() -> None:
    """SHL-2: the police's referral carries its document's number; an own application none."""
    seen: list[httpx.Request] = []
    app = console_app(fake_gateway(seen))
    session = sign_in(app, principal("shelter.ast", "shelter-operator"), language="ru")
    form = {
        "csrf_token": session.csrf_token,
        "shelter_id": SHELTER["id"],
        "action": "admit",
        "adult-full_name": "Жанар Болатқызы",
        "adult-birth_date": "1988-03-01",
    }
    async with client(app, session) as http:
        police = await http.post(
            "/shelter/admit", data={**form, "referral": "police", "referral_document": " "}
        )
        own = await http.post(
            "/shelter/admit",
            data={**form, "referral": "self_application", "referral_document": "КУСП 1/26"},
        )
    assert police.status_code == 422
    beside = re.search(r'id="referral_document-error">(.*?)</p>', police.text, re.S)
    assert beside is not None and "Укажите номер направляющего документа" in beside.group(1)
    assert 'href="#referral_document"' in police.text
    assert own.status_code == 422
    beside = re.search(r'id="referral_document-error">(.*?)</p>', own.text, re.S)
    assert beside is not None and "нет направляющего документа" in beside.group(1)
    assert 'value="КУСП 1/26"' in own.text  # kept
    assert not any(r.method == "POST" for r in seen)


async def test_screens_follow_roles() -> None:
    app = console_app(fake_gateway([]))
    police = sign_in(
        app, principal("police.ast", "agency-coordinator", agency="pol-ast-1", agency_type="police")
    )
    async with client(app, police) as http:
        assert (await http.get("/shelter")).status_code == 404
        start = await http.get("/", follow_redirects=False)
    assert start.headers["location"] == "/notices"


async def test_every_screen_renders() -> None:
    def measures(request: httpx.Request) -> httpx.Response:
        return answer({"items": [], "next_page_token": None})

    def appeals(request: httpx.Request) -> httpx.Response:
        return answer({"items": [], "next_page_token": None})

    def report(request: httpx.Request) -> httpx.Response:
        zero = {
            "total": 0,
            "met_on_time": 0,
            "met_late": 0,
            "open_overdue": 0,
            "open_not_due": 0,
            "on_time_share": None,
        }
        return answer(
            {
                "from": "2026-11-01",
                "to": "2026-12-01",
                "territory": "kz-ast",
                "as_of": "2026-11-17T05:00:00Z",
                "rows": [{**zero, "rule": "SHL-3", "responsible_agency": "fc-ast-1"}],
                "by_rule": [{**zero, "rule": "SHL-3"}],
                "by_agency": [],
                "total": zero,
            }
        )

    app = console_app(
        fake_gateway(
            [],
            **{"/v1/measures": measures, "/v1/appeals": appeals, "/v1/reports/deadlines": report},
        )
    )
    head = sign_in(
        app, principal("head.ast", "center-head", "intake-operator", "agency-coordinator")
    )
    for language in ("ru", "kk", "en"):
        head.language = language
        async with client(app, head) as http:
            for path in (
                "/shelter",
                "/notices",
                "/journal",
                "/journal/register",
                "/agency",
                "/deadlines",
            ):
                page = await http.get(path)
                assert page.status_code == 200, (language, path, page.text[:500])
