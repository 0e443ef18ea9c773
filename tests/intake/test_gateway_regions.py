"""Intake through the gateway on the real stack with the demo realm's real tokens: MON-2's
families accepted for support and level changes (Irkutsk, whose profile has support levels),
and the intake paths of Yugra (`ru-khm`: the application, needs recognised) and Bashkortostan
(`ru-ba`: the signal card the commission acts on), where a rule the profile does not set is
refused naming the profile; the journal's corrections (INT-2) are shown by the gateway too."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kamqor.clock import clock_at
from tests.e2e.harness import Suite, running_suite
from tests.intake.test_families import unique_birth

pytestmark = pytest.mark.e2e
RNG = random.Random()
IRKUTSK = ZoneInfo("Asia/Irkutsk")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")
ACCEPTED_ON = datetime(2026, 3, 10, 10, 0, tzinfo=IRKUTSK)
REVIEWED_ON = datetime(2026, 3, 20, 10, 0, tzinfo=IRKUTSK)
KHM_DAY = datetime(2026, 4, 14, 11, 0, tzinfo=YEKATERINBURG)
BA_DAY = datetime(2026, 4, 15, 11, 0, tzinfo=YEKATERINBURG)


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def family(surname: str) -> list[dict[str, Any]]:
    return [
        {
            "full_name": f"{surname} Анна",
            "relation": "mother",
            "birth_date": str(unique_birth(RNG)),
        },
        {"full_name": f"{surname} Иван", "relation": "child", "birth_date": "2018-05-01"},
    ]


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
    answer = await client.post(url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


async def register(suite: Suite, user: str, surname: str, at: datetime, **kw: Any) -> Any:
    body = {
        "channel": "in_person",
        "summary": "The family asks for help",
        "persons": family(surname),
        **kw,
    }
    with clock_at(at):
        async with suite.client(user) as client:
            return await post(client, "/v1/appeals", body)


async def assess(suite: Suite, user: str, case_id: str, at: datetime, **body: Any) -> Any:
    with clock_at(at):
        async with suite.client(user) as client:
            return await post(client, f"/v1/cases/{case_id}/assessments", body)


def level(appeal: dict[str, Any], i: int, code: str, sign: str) -> dict[str, Any]:
    return {"person_id": appeal["persons"][i]["person_id"], "level": code, "signs": [sign]}


async def report(suite: Suite, user: str, first: str, after: str, **params: Any) -> httpx.Response:
    async with suite.client(user) as client:
        return await client.get("/v1/reports/intake", params={"from": first, "to": after, **params})


async def test_mon2_families_accepted_by_channel_situation_and_level(suite: Suite) -> None:
    """Accepted: the first assessment after which support follows. A consented DLS (support
    contract, Irkutsk) and an SDP on the commission's resolution (emergency, INT-6) are accepted;
    a refusal and a risk of DLS are not; a later assessment accepts nobody again but records a
    level change (crisis -> emergency: worse). The channel is the one in force after the
    journal's correction."""
    worker = "caseworker.irk"
    dls = await register(suite, worker, "Петров", ACCEPTED_ON, channel="phone")
    async with suite.client(worker) as client:
        await post(
            client,
            f"/v1/appeals/{dls['id']}/follow-ups",
            {
                "kind": "correction",
                "corrected_field": "channel",
                "channel": "hotline_111",
                "reason": "Came through the hotline 111",
            },
        )
    sdp = await register(suite, worker, "Сидоров", ACCEPTED_ON)
    refusal = await register(suite, worker, "Козлов", ACCEPTED_ON)
    risk = await register(suite, worker, "Волков", ACCEPTED_ON)
    await assess(
        suite,
        worker,
        dls["case_id"],
        ACCEPTED_ON,
        outcome="dls",
        consent="given",
        support_contract="SC-2026/1",
        levels=[level(dls, 0, "crisis", "neglect"), level(dls, 1, "basic", "post_divorce")],
    )
    await assess(
        suite,
        worker,
        sdp["case_id"],
        ACCEPTED_ON,
        outcome="sdp",
        consent="not_required",
        resolution="KDN 2026/14",
        levels=[level(sdp, 0, "emergency", "hostility"), level(sdp, 1, "emergency", "hostility")],
    )
    await assess(suite, worker, refusal["case_id"], ACCEPTED_ON, outcome="dls", consent="refused")
    await assess(
        suite, worker, risk["case_id"], ACCEPTED_ON, outcome="risk_of_dls", consent="refused"
    )
    await assess(
        suite,
        worker,
        dls["case_id"],
        REVIEWED_ON,
        outcome="dls",
        consent="given",
        support_contract="SC-2026/1",
        levels=[level(dls, 0, "emergency", "hostility"), level(dls, 1, "basic", "post_divorce")],
    )

    march = await report(suite, "analyst.irk", "2026-03-01", "2026-04-01")
    assert march.status_code == 200, march.text
    body = march.json()
    assert (body["from"], body["to"], body["territory"]) == ("2026-03-01", "2026-04-01", "ru-irk")
    assert body["families_accepted"] == 2
    assert sorted(
        (r["channel"], r["outcome"], r["level"], r["families"]) for r in body["accepted"]
    ) == [("hotline_111", "dls", "crisis", 1), ("in_person", "sdp", "emergency", 1)]
    assert body["by_outcome"] == {"dls": 1, "sdp": 1}
    assert body["by_channel"] == {"hotline_111": 1, "in_person": 1}
    assert {r["level"]: r["persons"] for r in body["persons_accepted"]} == {
        "basic": 1,
        "crisis": 1,
        "emergency": 2,
    }
    assert body["level_changes"] == [
        {
            "from_level": "crisis",
            "to_level": "emergency",
            "direction": "worse",
            "persons": 1,
            "families": 1,
        }
    ]
    # Aggregates only: nothing names a person, a family or a case.
    for name in ("Петров", "Сидоров", dls["family_id"], dls["case_id"], sdp["family_id"]):
        assert name not in march.text

    # Days are the territory's local days and `to` is exclusive: the second half of March
    # accepts nobody (the review accepts no case again) but has the review's change.
    later = (await report(suite, "head.irk", "2026-03-15", "2026-04-01")).json()
    assert (later["families_accepted"], later["accepted"]) == (0, [])
    assert [c["direction"] for c in later["level_changes"]] == ["worse"]
    before = (await report(suite, "analyst.irk", "2026-03-01", "2026-03-10")).json()
    assert (before["families_accepted"], before["level_changes"]) == (0, [])


async def test_mon2_report_refusals(suite: Suite) -> None:
    """A case worker may not read it (403); another territory's figures are refused (403); a
    period the wrong way round or over 366 days is a 422 naming `to`."""
    assert (await report(suite, "caseworker.irk", "2026-03-01", "2026-04-01")).status_code == 403
    other = await report(suite, "analyst.irk", "2026-03-01", "2026-04-01", territory="kz-ast")
    assert other.status_code == 403, other.text
    for first, after in (("2026-04-01", "2026-03-01"), ("2026-01-01", "2027-01-03")):
        wrong = await report(suite, "analyst.irk", first, after)
        assert wrong.status_code == 422, wrong.text
        assert [e["field"] for e in wrong.json()["errors"]] == ["to"]


async def test_ru_khm_application_case_assessment_and_worker(suite: Suite) -> None:
    """Yugra: the case worker registers the application (INT-1, INT-2), which opens the case;
    no INT-3 term is Yugra's, so no obligation is opened; the profile sets no support levels,
    so levels are refused naming it; the consented DLS proceeds and is accepted (MON-2, level
    null); the head makes a worker responsible (INT-9, no recommended caseload here)."""
    appeal = await register(suite, "caseworker.khm", "Кузнецов", KHM_DAY)
    assert appeal["center_id"] == "fc-khm-1" and appeal["territory"] == "ru-khm"
    assert appeal["journal_number"].startswith("fc-khm-1/2026/")
    assert appeal["opened_case"] is True and appeal["obligations"] == []
    case_id = appeal["case_id"]
    with clock_at(KHM_DAY):
        async with suite.client("caseworker.khm") as client:
            with_levels = await client.post(
                f"/v1/cases/{case_id}/assessments",
                json={
                    "outcome": "dls",
                    "consent": "given",
                    "levels": [level(appeal, 0, "crisis", "neglect")],
                },
            )
            assert with_levels.status_code == 422, with_levels.text
            problem = with_levels.json()
            assert [e["field"] for e in problem["errors"]] == ["levels"]
            assert "ru-khm" in problem["errors"][0]["message"]
            assessed = await post(
                client,
                f"/v1/cases/{case_id}/assessments",
                {"outcome": "dls", "consent": "given", "notes": "Needs recognised"},
            )
    assert [a["proceeds"] for a in assessed["assessments"]] == [True]
    with clock_at(KHM_DAY):
        async with suite.client("head.khm") as head:
            assigned = await post(head, f"/v1/cases/{case_id}/worker", {"worker": "worker2.khm"})
    assert assigned["case"]["worker"]["worker"] == "worker2.khm"
    assert assigned["warning"] is None

    async with suite.client("head.khm") as head:
        journal = await head.get("/v1/appeals", params={"case_id": case_id})
    assert journal.status_code == 200, journal.text
    assert [(a["id"], a["family_id"], a["case_id"]) for a in journal.json()["items"]] == [
        (appeal["id"], appeal["family_id"], case_id)
    ]
    indicators = (await report(suite, "analyst.khm", "2026-04-01", "2026-05-01")).json()
    assert indicators["territory"] == "ru-khm" and indicators["families_accepted"] == 1
    assert indicators["accepted"] == [
        {"channel": "in_person", "outcome": "dls", "level": None, "families": 1}
    ]


async def test_ru_ba_signal_card_goes_to_the_commission(suite: Suite) -> None:
    """Bashkortostan: the specialist registers the signal card (INT-1), which opens the case;
    an SDP proceeds only on the commission's resolution (INT-5: 422 naming `resolution`
    without one); levels are refused naming the profile; a correction of the card's summary
    is an entry of its own, and the card keeps what was registered (INT-2)."""
    card = await register(
        suite,
        "caseworker.ba",
        "Галиев",
        BA_DAY,
        channel="signal_card",
        summary="Signal card: children without supervision",
    )
    assert (card["channel"], card["center_id"], card["opened_case"]) == (
        "signal_card",
        "fc-ba-1",
        True,
    )
    case_id = card["case_id"]
    with clock_at(BA_DAY):
        async with suite.client("head.ba") as head:
            no_resolution = await head.post(
                f"/v1/cases/{case_id}/assessments",
                json={"outcome": "sdp", "consent": "not_required"},
            )
            assert no_resolution.status_code == 422, no_resolution.text
            assert [e["field"] for e in no_resolution.json()["errors"]] == ["resolution"]
            with_levels = await head.post(
                f"/v1/cases/{case_id}/assessments",
                json={
                    "outcome": "sdp",
                    "consent": "not_required",
                    "resolution": "KDN RB 2026/3",
                    "levels": [level(card, 0, "emergency", "hostility")],
                },
            )
            assert with_levels.status_code == 422, with_levels.text
            assert "ru-ba" in with_levels.json()["errors"][0]["message"]
            assessed = await post(
                head,
                f"/v1/cases/{case_id}/assessments",
                {"outcome": "sdp", "consent": "not_required", "resolution": "KDN RB 2026/3"},
            )
        assert assessed["assessments"][-1]["proceeds"] is True
        async with suite.client("caseworker.ba") as worker:
            no_reason = await worker.post(
                f"/v1/appeals/{card['id']}/follow-ups",
                json={"kind": "correction", "corrected_field": "summary", "text": "Fixed"},
            )
            assert no_reason.status_code == 422, no_reason.text
            assert [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
            corrected = await post(
                worker,
                f"/v1/appeals/{card['id']}/follow-ups",
                {
                    "kind": "correction",
                    "corrected_field": "summary",
                    "text": "Signal card: children left alone for three days",
                    "reason": "The school's report gives three days",
                },
            )
    entry, shown = corrected["follow_up"], corrected["appeal"]
    assert entry["journal_number"].startswith("fc-ba-1/2026/")
    assert entry["journal_number"] != card["journal_number"]
    assert entry["appeal_id"] == card["id"] and entry["recorded_by"]
    assert shown["summary"] == "Signal card: children without supervision"
    assert shown["summary_in_force"] == "Signal card: children left alone for three days"
    assert [f["id"] for f in shown["follow_ups"]] == [entry["id"]]
