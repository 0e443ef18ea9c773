"""No personal data in any log (issue 10, "Personal data in the gateway's log"; REG-9).

Canary names, birth dates, places and addresses (random strings and dates no other test uses)
go through every route that takes personal data, on the real stack, the way clients send them:
appeal registration, admission, a registry decision (accepted and refused), the registry search,
a family read whose purpose names a person, and requests the gateway refuses (422). Then every
log of the run is searched for them: the Python logging of the gateway and the five services
(they run in this process; captured at DEBUG on the root logger, so every library's debug
output counts too), Keycloak's log file and the NATS server's log. Spans are checked in
`tests/e2e/test_scenario.py`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import traceback
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devstack.nats import NatsServer
from kamqor.clock import utcnow
from kamqor.profiles import get_profile
from tests.e2e.harness import Suite

pytestmark = pytest.mark.e2e

IRK = get_profile("ru-irk")


class Canaries:
    """Unique strings and dates, and every way a log could render them."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.dates: list[date] = []

    def name(self, kind: str = "Name") -> str:
        value = f"Canary{kind}{secrets.token_hex(5)}"
        self.values.append(value)
        return value

    def birth_date(self, *, adult: bool) -> str:
        # A day in a year no timestamp of the run can have (all are in the 2020s).
        year = random.randint(1950, 1990) if adult else random.randint(2010, 2015)
        day = date(year, 1, 1) + timedelta(days=random.randint(0, 364))
        self.dates.append(day)
        return day.isoformat()

    def renderings(self) -> list[str]:
        found = list(self.values)
        for day in self.dates:
            found += [day.isoformat(), day.strftime("%d.%m.%Y"), day.strftime("%Y%m%d")]
        return found


class Captured(logging.Handler):
    """Every record of every logger, formatted with its traceback, while installed."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name} {record.levelname} {record.getMessage()}"
        except Exception:  # a record whose arguments do not format still counts
            text = f"{record.name} {record.levelname} {record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.lines.append(text)


@pytest.fixture(scope="module")
def captured() -> Iterator[Captured]:
    root = logging.getLogger()
    handler = Captured()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _person(c: Canaries, *, adult: bool, relation: str = "") -> dict[str, Any]:
    return {
        "full_name": f"{c.name('Surname')} {c.name('Given')}",
        "relation": relation,
        "birth_date": c.birth_date(adult=adult),
        "birth_place": c.name("Place"),
        "registered_address": c.name("Address"),
        "actual_address": c.name("Address"),
        "work_or_study": c.name("School"),
    }


def _registration(c: Canaries, surname: str, *, votes_for: int) -> dict[str, Any]:
    today = utcnow().astimezone(IRK.zone).date()
    minor = _person(c, adult=False)
    minor["full_name"] = f"{surname} {c.name('Given')}"
    return {
        "decided_on": today.isoformat(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 7, "votes_for": votes_for, "votes_against": 1},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
        },
        "grounds": f"Neglect reported by {c.name('Neighbour')}",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family support center of Irkutsk",
        "review_on": (today + timedelta(days=120)).isoformat(),
        "minors": [minor],
        "relatives": [_person(c, adult=True, relation="mother")],
    }


def _answered(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    body: dict[str, Any] = response.json()
    return body


async def _send_personal_data(suite: Suite, c: Canaries) -> None:
    async with suite.client("hotline.ast") as hotline:
        adult = {"full_name": c.name(), "birth_date": c.birth_date(adult=True)}
        appeal = _answered(
            await hotline.post(
                "/v1/appeals",
                json={
                    "channel": "hotline_111",
                    "summary": f"{c.name()} called about her neighbour {c.name()}",
                    "persons": [
                        {**adult, "relation": "mother"},
                        {
                            "full_name": c.name(),
                            "relation": "child",
                            "birth_date": c.birth_date(adult=False),
                        },
                    ],
                    "domestic_violence": True,
                },
            ),
            201,
        )
        # Refused at the gateway: a birth date in the future, with a name beside it.
        _answered(
            await hotline.post(
                "/v1/appeals",
                json={
                    "channel": "hotline_111",
                    "summary": c.name(),
                    "persons": [{"full_name": c.name(), "birth_date": "2999-01-01"}],
                },
            ),
            422,
        )
    async with suite.client("head.ast") as head:
        shelter = _answered(
            await head.post(
                "/v1/shelters", json={"name": f"Canary {uuid.uuid4().hex[:6]}", "capacity": 5}
            ),
            201,
        )
    async with suite.client("shelter.ast") as operator:
        stay = _answered(
            await operator.post(
                "/v1/stays",
                json={
                    "shelter_id": shelter["id"],
                    "appeal_id": appeal["id"],
                    "adult": adult,
                    "minors": [{"full_name": c.name(), "birth_date": c.birth_date(adult=False)}],
                    "referral": "self_application",
                },
            ),
            201,
        )
        _answered(await operator.get(f"/v1/stays/{stay['id']}"), 200)
    surname = c.name("Surname")
    async with suite.client("commission.irk") as commission:
        # Refused by the service (no majority), then recorded.
        _answered(
            await commission.post(
                "/v1/registry/decisions", json=_registration(c, surname, votes_for=3)
            ),
            409,
        )
        recorded = _answered(
            await commission.post(
                "/v1/registry/decisions", json=_registration(c, surname, votes_for=5)
            ),
            201,
        )
    async with suite.client("registry.irk") as office:
        decision = recorded["decision"]["id"]
        _answered(await office.post(f"/v1/registry/decisions/{decision}/receive"), 200)
        _answered(await office.post(f"/v1/registry/decisions/{decision}/enter"), 200)
    async with suite.client("caseworker.irk") as caseworker:
        purpose = f"home visit to {c.name()}"
        for search in (
            {"name": surname, "purpose": purpose},
            {"birth_date": recorded["family"]["minors"][0]["birth_date"], "purpose": purpose},
            {"name": c.name(), "birth_date": c.birth_date(adult=True), "purpose": purpose},
        ):
            _answered(await caseworker.post("/v1/registry/families:search", json=search), 200)
        family = recorded["family"]["id"]
        _answered(
            await caseworker.get(f"/v1/registry/families/{family}", params={"purpose": purpose}),
            200,
        )
        # Refused at the gateway: a name too short to search by, and the old GET form.
        _answered(
            await caseworker.post(
                "/v1/registry/families:search", json={"name": "Ca", "purpose": c.name()}
            ),
            422,
        )
        _answered(
            await caseworker.get(
                "/v1/registry/families", params={"name": c.name(), "purpose": purpose}
            ),
            404,
            405,
        )
    # Let the consumers (notify's SHL-3 notices) process the admission before the logs are read.
    async with suite.client("police.ast") as police:
        for _ in range(200):
            page = _answered(await police.get("/v1/notices"), 200)
            if any(n["subject"] == f"stay/{stay['id']}" for n in page["items"]):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the admission's notice never reached the police")


def _leaks(text: str, canaries: list[str]) -> list[str]:
    return [c for c in canaries if c in text]


async def test_no_personal_data_in_any_log(
    captured: Captured, suite: Suite, nats_server: NatsServer
) -> None:
    c = Canaries()
    await _send_personal_data(suite, c)
    canaries = c.renderings()
    assert len(c.values) > 20 and len(c.dates) > 5
    # The test's own HTTP client logs the URLs it calls (that is the client's log, not Kamqor's;
    # the services' httpx only fetches Keycloak's keys).
    lines = [
        line
        for line in captured.lines
        if not (line.startswith("httpx ") and f"{suite.base_url}/" in line)
    ]
    sources = {
        "python logging (gateway, services)": "\n".join(lines),
        f"keycloak ({suite.keycloak.log_path})": await asyncio.to_thread(
            suite.keycloak.log_path.read_text, errors="replace"
        ),
        f"nats-server ({nats_server.log_path})": await asyncio.to_thread(
            nats_server.log_path.read_text, errors="replace"
        ),
    }
    assert len(lines) > 100, "the capture saw the run"
    assert any(line.startswith("gateway.access ") for line in lines)
    found = {name: _leaks(text, canaries) for name, text in sources.items()}
    leaked = {name: values for name, values in found.items() if values}
    if leaked:
        examples = [line[:300] for line in captured.lines if _leaks(line, canaries)][:10]
        pytest.fail(f"personal data in the logs: {leaked}\n" + "\n".join(examples))
