"""The lists' filters and sorts are the API's: the console passes them to the gateway with every
page, so a filter holds across pages. The fake gateway filters, sorts and pages like the real one
(one item a page, so a list of a few items spans pages)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx

from tests.console.fakes import answer, client, console_app, principal, sign_in
from tests.console.test_pages import BED_BOARD, NOTICE, SHELTER, STAY

Item = dict[str, Any]


def paged(
    items: list[Item],
    seen: list[httpx.Request],
    *,
    keep: Callable[[Item, httpx.QueryParams], bool],
    orders: dict[str, Callable[[Item], Any]],
    default: str,
) -> Callable[[httpx.Request], httpx.Response]:
    """A list endpoint that filters with `keep` and sorts by the `order` parameter, over every
    item, one item a page; its page token is the index of the next item."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = request.url.params
        order = query.get("order", default)
        if order not in orders:
            return answer({"type": "https://kamqor.dev/problems/invalid"}, 422)
        chosen = sorted((i for i in items if keep(i, query)), key=orders[order])
        start = int(query.get("page_token") or 0)
        more = start + 1 < len(chosen)
        return answer(
            {
                "items": chosen[start : start + 1],
                "next_page_token": str(start + 1) if more else None,
            }
        )

    return handle


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


def appeal(number: int, channel: str, at: str, *, threat: bool = False) -> Item:
    return {
        "id": f"0196a000-0000-7000-8000-{number:012d}",
        "journal_number": f"fc-ast-1/2026/{number:06d}",
        "center_id": "fc-ast-1",
        "territory": "kz-ast",
        "channel": channel,
        "registered_at": at,
        "summary": f"Appeal {number}",
        "persons": [],
        "threat_to_life": threat,
        "domestic_violence": False,
        "obligations": [],
        "registered_by": "sub-intake.ast",
    }


# Newest first, an online entry on top: a filter applied to one page would show none of these
# phone calls on the first page.
APPEALS = [
    appeal(4, "online", "2026-11-17T04:00:00Z"),
    appeal(3, "phone", "2026-11-17T03:00:00Z", threat=True),
    appeal(2, "online", "2026-11-17T02:00:00Z"),
    appeal(1, "phone", "2026-11-17T01:00:00Z"),
]


def journal_api(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def keep(item: Item, query: httpx.QueryParams) -> bool:
        threat = query.get("threat_to_life")
        return query.get("channel") in (None, item["channel"]) and threat in (
            None,
            str(item["threat_to_life"]).lower(),
        )

    appeals = paged(
        APPEALS,
        seen,
        keep=keep,
        orders={
            "newest_first": lambda a: [-ord(c) for c in a["registered_at"]],
            "oldest_first": lambda a: a["registered_at"],
            "journal_number": lambda a: a["journal_number"],
        },
        default="newest_first",
    )

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/appeals":
            return appeals(request)
        return answer({"type": "https://kamqor.dev/problems/not-found"}, 404)

    return handle


async def test_the_journals_channel_filter_holds_across_pages() -> None:
    seen: list[httpx.Request] = []
    app = console_app(journal_api(seen))
    session = sign_in(app, principal("intake.ast", "intake-operator"), language="en")
    shown: list[str] = []
    async with client(app, session) as http:
        url: str | None = "/journal?channel=phone"
        while url is not None:
            page = await http.get(url)
            assert page.status_code == 200, page.text
            shown += re.findall(r"fc-ast-1/2026/\d+", page.text)
            url = next_link(page.text)
            if url is not None:
                url = "/journal" + url
    assert shown == ["fc-ast-1/2026/000003", "fc-ast-1/2026/000001"]
    assert [r.url.params.get("channel") for r in seen] == ["phone", "phone"]
    assert [r.url.params.get("page_token") for r in seen] == [None, "1"]


async def test_the_journals_other_filters_and_sort_go_to_the_api() -> None:
    seen: list[httpx.Request] = []
    app = console_app(journal_api(seen))
    session = sign_in(app, principal("intake.ast", "intake-operator"), language="en")
    async with client(app, session) as http:
        page = await http.get(
            "/journal",
            params={"threat": "no", "start": "2026-11-01", "end": "2026-11-17", "sort": "number"},
        )
        assert page.status_code == 200, page.text
        assert "fc-ast-1/2026/000001" in page.text  # the lowest number, without a threat
        link = next_link(page.text)
    assert link is not None and "threat=no" in link and "sort=number" in link
    query = seen[0].url.params
    assert query.get("threat_to_life") == "false"
    assert (query.get("registered_from"), query.get("registered_to")) == (
        "2026-11-01",
        "2026-11-17",
    )
    assert query.get("order") == "journal_number"


async def test_a_wrong_journal_day_is_shown_beside_its_field() -> None:
    seen: list[httpx.Request] = []
    app = console_app(journal_api(seen))
    session = sign_in(app, principal("intake.ast", "intake-operator"), language="en")
    async with client(app, session) as http:
        page = await http.get("/journal", params={"start": "2026-13-01"})
    assert page.status_code == 422
    assert 'id="start-error"' in page.text
    assert "registered_from" not in seen[0].url.params


def measure(number: int, deadline: str, sent_at: str) -> Item:
    return {
        "id": f"0196a000-0000-7000-8000-{number:012d}",
        "title": f"Measure {number}",
        "target": "",
        "deadline": deadline,
        "state": "sent",
        "sent_at": sent_at,
        "assignee": None,
        "obligations": [],
    }


def stay(number: int, name: str, admitted_at: str, end_at: str) -> Item:
    return {
        **STAY,
        "id": f"0196a000-0000-7000-8000-{number:012d}",
        "adult": {"full_name": name, "birth_date": "1990-05-14"},
        "minors": [],
        "admitted_at": admitted_at,
        "latest_end_at": end_at,
    }


def notice(number: int, created_at: str, due_at: str) -> Item:
    return {
        **NOTICE,
        "id": f"0196a000-0000-7000-8000-{number:012d}",
        "text": f"Notice {number}",
        "state": "pending",
        "created_at": created_at,
        "due_at": due_at,
        "acknowledged_at": None,
        "acknowledged_by_agency": None,
    }


def by_key(key: str, *, reverse: bool = False) -> Callable[[Item], Any]:
    if reverse:
        return lambda i: [-ord(c) for c in i[key]]
    return lambda i: i[key]


# screen -> (who, path with its sort, the API path, its items, its orders, what the page
# shows in the API's order across pages, the `order` the console asks for)
SCREENS: dict[str, tuple[Any, str, str, list[Item], dict[str, Any], list[str], str]] = {
    "shelter": (
        principal("shelter.ast", "shelter-operator"),
        "/shelter?state=active&sort=name",
        "/v1/stays",
        [
            stay(1, "Веста", "2026-11-10T05:00:00Z", "2026-12-10T18:59:59Z"),
            stay(2, "Айгуль", "2026-11-12T05:00:00Z", "2026-11-20T18:59:59Z"),
            stay(3, "Бота", "2026-11-11T05:00:00Z", "2026-12-01T18:59:59Z"),
        ],
        {
            "name": lambda s: s["adult"]["full_name"],
            "days_left": by_key("latest_end_at"),
            "latest_admission": by_key("admitted_at", reverse=True),
        },
        ["Айгуль", "Бота", "Веста"],
        "name",
    ),
    "notices": (
        principal("police.ast", "agency-coordinator", agency="pol-ast-1", agency_type="police"),
        "/notices?state=pending&sort=due",
        "/v1/notices",
        [
            notice(1, "2026-11-17T01:00:00Z", "2026-11-18T03:00:00Z"),
            notice(2, "2026-11-17T02:00:00Z", "2026-11-18T01:00:00Z"),
            notice(3, "2026-11-17T03:00:00Z", "2026-11-18T02:00:00Z"),
        ],
        {
            "newest_first": by_key("created_at", reverse=True),
            "due_first": by_key("due_at"),
        },
        ["Notice 2", "Notice 3", "Notice 1"],
        "due_first",
    ),
    "agency": (
        principal("edu.ast", "agency-coordinator", agency="edu-ast-1", agency_type="education"),
        "/agency?sort=sent",
        "/v1/measures",
        [
            measure(1, "2026-12-01", "2026-11-10T05:00:00Z"),
            measure(2, "2026-11-25", "2026-11-12T05:00:00Z"),
            measure(3, "2026-11-30", "2026-11-11T05:00:00Z"),
        ],
        {
            "deadline": by_key("deadline"),
            "latest_sent": by_key("sent_at", reverse=True),
        },
        ["Measure 2", "Measure 3", "Measure 1"],
        "latest_sent",
    ),
}


async def test_each_screens_sort_holds_across_pages() -> None:
    for name, (who, url, api_path, items, orders, expected, order) in SCREENS.items():
        seen: list[httpx.Request] = []
        listing = paged(items, seen, keep=lambda i, q: True, orders=orders, default="")

        def handle(
            request: httpx.Request, listing: Any = listing, api_path: str = api_path
        ) -> httpx.Response:
            if request.url.path == api_path and "subject" not in request.url.params:
                return listing(request)
            if request.url.path == "/v1/shelters":
                return answer({"items": [SHELTER]})
            if request.url.path.endswith("/beds"):
                return answer(BED_BOARD)
            return answer({"items": [], "next_page_token": None})

        app = console_app(handle)
        session = sign_in(app, who, language="en")
        pages = 0
        shown: list[str] = []
        async with client(app, session) as http:
            next_url: str | None = url
            while next_url is not None:
                page = await http.get(next_url)
                assert page.status_code == 200, (name, page.text[:500])
                shown += [e for e in expected if e in page.text]
                link = next_link(page.text)
                next_url = url.split("?")[0] + link if link else None
                pages += 1
        assert shown == expected, name
        assert pages == len(items), name
        assert {r.url.params.get("order") for r in seen} == {order}, name
