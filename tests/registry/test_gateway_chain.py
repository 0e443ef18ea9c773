"""Irkutsk's data bank end to end through the gateway, with the realm's ru-irk users and real
tokens: a commission session with every member's vote (REG-2), the secretary sending the
decision (REG-4, NTF-6), the registry office's inbox, receipt and entry, a change reported and
entered with its history (REG-5), a repeat review keeping the family (REG-3), another
deregistering it, and its removal from every search (REG-6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.harness import Suite, running_suite
from tests.registry.factories import today
from tests.support.factories import years_ago

pytestmark = pytest.mark.e2e

MEMBERS = [f"kdn-{i}" for i in range(1, 6)]


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def ok(resp: Any, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    return body


def hearing(**kw: Any) -> dict[str, Any]:
    return {
        "prevention_bodies_heard": True,
        "minor_opinion_heard": True,
        "parents_opinion_heard": True,
        "documents_reviewed": ["report of the responsible body"],
    } | kw


def ballots(*choices: str, conflict: str = "") -> list[dict[str, Any]]:
    return [
        {"member_id": m, "choice": c, "conflict_of_interest": m == conflict}
        for m, c in zip(MEMBERS, choices, strict=True)
    ]


async def session(commission: Any) -> str:
    body = {
        "held_on": today().isoformat(),
        "composition_size": 9,
        "members_present": [{"member_id": m, "full_name": f"Member {m}"} for m in MEMBERS],
    }
    opened = ok(await commission.post("/v1/registry/sessions", json=body), 201)
    assert opened["quorum"] == 5
    return str(opened["id"])


async def test_irkutsk_from_the_session_to_the_removal(suite: Suite) -> None:
    surname = f"Gateway{uuid.uuid4().hex[:6]}"
    search = {"name": f"{surname} pyotr", "purpose": "check before a home visit"}
    infant = {
        "full_name": f"{surname} Pyotr",
        "birth_date": years_ago(1),
        "birth_place": "Irkutsk",
        "actual_address": "Irkutsk, Lenina St. 1, apt. 2",
    }
    async with suite.client("commission.irk") as commission:
        # REG-2: without a quorum the session is refused.
        small = {
            "held_on": today().isoformat(),
            "composition_size": 11,
            "members_present": [{"member_id": m, "full_name": m} for m in MEMBERS],
        }
        resp = await commission.post("/v1/registry/sessions", json=small)
        assert resp.status_code == 409
        assert resp.json()["type"] == "https://kamqor.dev/problems/no-quorum"
        session_id = await session(commission)
        registration = {
            "decided_on": today().isoformat(),
            "number": f"KDN-{uuid.uuid4().hex[:6]}",
            "session_id": session_id,
            "ballots": ballots("for", "for", "for", "against", "abstain", conflict="kdn-5"),
            # An infant cannot give an opinion: the reason is recorded instead.
            "hearing": hearing(
                minor_opinion_heard=False, minor_not_heard_reason="the child is one year old"
            ),
            "grounds": "Neglect of the child's needs",
            "responsible_agency_id": "fc-irk-1",
            "responsible_body": "Family support center of Irkutsk",
            "review_on": (today() + timedelta(days=150)).isoformat(),
            "minors": [infant],
        }
        # A vote by someone not present names the field.
        stranger = registration | {
            "ballots": [
                *ballots("for", "for", "for", "for", "for"),
                {"member_id": "x", "choice": "for"},
            ]
        }
        resp = await commission.post("/v1/registry/decisions", json=stranger)
        assert resp.status_code == 422, resp.text
        assert [e["field"] for e in resp.json()["errors"]] == ["ballots[5].member_id"]
        recorded = ok(await commission.post("/v1/registry/decisions", json=registration), 201)
        decision, family_id = recorded["decision"], recorded["family"]["id"]
        assert decision["vote"] == {"members_present": 5, "votes_for": 3, "votes_against": 1}
        assert decision["ballots"][4] == {
            "member_id": "kdn-5",
            "choice": "abstain",
            "conflict_of_interest": True,
        }
        agenda = ok(await commission.get(f"/v1/registry/sessions/{session_id}"))["agenda"]
        assert agenda == [
            {"family_id": family_id, "decision_id": decision["id"], "kind": "registration"}
        ]
        # REG-4, NTF-6: the secretary sends it.
        sent = ok(await commission.post(f"/v1/registry/decisions/{decision['id']}/send"))
        assert sent["state"] == "sent" and sent["sent_at"] is not None

    async with suite.client("registry.irk") as office:
        inbox = ok(await office.get("/v1/registry/inbox"))
        assert decision["id"] in [d["id"] for d in inbox["items"]]
        ok(await office.post(f"/v1/registry/decisions/{decision['id']}/receive"))
        family = ok(await office.post(f"/v1/registry/decisions/{decision['id']}/enter"))
    assert family["state"] == "registered"
    minor_id = family["minors"][0]["id"]

    # REG-5: the responsible body reports a change; the office enters it; the history is kept.
    async with suite.client("caseworker.irk") as caseworker:
        change = {
            "family_id": family_id,
            "changed_on": today().isoformat(),
            "fields": [{"member_id": minor_id, "field": "work_or_study", "value": "Nursery No. 3"}],
        }
        reported = ok(await caseworker.post("/v1/registry/changes", json=change), 201)
    async with suite.client("registry.irk") as office:
        inbox = ok(await office.get("/v1/registry/inbox"))
        assert reported["id"] in [c["id"] for c in inbox["changes"]]
        ok(await office.post(f"/v1/registry/changes/{reported['id']}/enter"))
        read = ok(
            await office.get(
                f"/v1/registry/families/{family_id}", params={"purpose": "REG-5 check"}
            )
        )
    assert read["minors"][0]["work_or_study"] == "Nursery No. 3"
    assert [(h["field"], h["new_value"]) for h in read["history"]] == [
        ("work_or_study", "Nursery No. 3")
    ]

    async with suite.client("commission.irk") as commission:
        session_id = await session(commission)
        review = {
            "family_id": family_id,
            "decided_on": today().isoformat(),
            "number": f"KDN-R-{uuid.uuid4().hex[:6]}",
            "session_id": session_id,
            "ballots": ballots("for", "for", "for", "for", "against"),
            "hearing": hearing(
                minor_opinion_heard=False, minor_not_heard_reason="the child is one year old"
            ),
            "grounds": "Preventive work continues",
            "outcome": "keep",
            "next_review_on": (today() + timedelta(days=200)).isoformat(),
        }
        # REG-3: a next review past six months is refused, naming the field.
        resp = await commission.post("/v1/registry/reviews", json=review)
        assert resp.status_code == 422, resp.text
        assert [e["field"] for e in resp.json()["errors"]] == ["next_review_on"]
        review["next_review_on"] = (today() + timedelta(days=90)).isoformat()
        kept = ok(await commission.post("/v1/registry/reviews", json=review), 201)
        assert (kept["kind"], kept["repeat_review"]) == ("review", True)
        deregister = review | {"outcome": "deregister", "next_review_on": None}
        ended = ok(await commission.post("/v1/registry/reviews", json=deregister), 201)
        assert ended["kind"] == "deregistration"
        ok(await commission.post(f"/v1/registry/decisions/{ended['id']}/send"))
    async with suite.client("registry.irk") as office:
        ok(await office.post(f"/v1/registry/decisions/{ended['id']}/receive"))
        ok(await office.post(f"/v1/registry/decisions/{ended['id']}/remove"))
    async with suite.client("caseworker.irk") as caseworker:
        found = ok(await caseworker.post("/v1/registry/families:search", json=search))
        assert family_id not in [f["id"] for f in found["items"]]
        resp = await caseworker.post("/v1/registry/changes", json=change)
        assert resp.status_code == 409
        assert resp.json()["type"] == "https://kamqor.dev/problems/not-registered"
