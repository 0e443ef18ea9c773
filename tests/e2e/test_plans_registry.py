"""Plans and the SDP data bank end to end through the gateway, with real tokens from Keycloak.

Astana: a case worker drafts a plan with an education and a health measure, the center head
approves it (PLN-4, PLN-5), each agency sees only its own measure (PLN-15), the education
coordinator designates a teacher (PLN-6), who reports (PLN-7), and the case worker completes it
(PLN-9). Irkutsk: the commission records a registration decision by a majority (REG-2, REG-3),
the registry office receives and enters it (REG-4), a case worker finds the family by name with
a purpose, and nobody in Kazakhstan can see it (REG-9)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from kamqor.clock import utcnow
from kamqor.profiles import get_profile
from tests.e2e.harness import Suite, running_suite
from tests.support.factories import years_ago

pytestmark = pytest.mark.e2e

KZ = get_profile("kz")
# PLN-3: the plan is drafted with the family.
FAMILY = [{"role": "family", "name": "Aigerim S. (mother)"}]
IRK = get_profile("ru-irk")


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def today_in(zone: Any) -> date:
    return utcnow().astimezone(zone).date()


def mine(page: httpx.Response, plan_id: str) -> list[dict[str, Any]]:
    assert page.status_code == 200, page.text
    return [m for m in page.json()["items"] if m["plan_id"] == plan_id]


async def test_plan_from_draft_to_a_completed_measure(suite: Suite) -> None:
    """PLN-2, PLN-4, PLN-5, PLN-6, PLN-7, PLN-9, PLN-15 through the gateway."""
    today = today_in(KZ.zone)
    education = {
        "kind": "pedagogical",
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "title": "Tutoring in mathematics twice a week",
        "target": "eldest child",
        "deadline": (today + timedelta(days=30)).isoformat(),
    }
    health = {
        "kind": "medical",
        "agency_id": "hlt-ast-1",
        "agency_type": "health",
        "title": "Medical examination of the children",
        "deadline": (today + timedelta(days=20)).isoformat(),
    }

    # 1. The case worker drafts the plan (PLN-1, PLN-2); a retry with the key returns it again.
    body = {
        "case_id": str(uuid.uuid4()),
        "situation": "dls",
        "measures": [education, health],
        "participants": FAMILY,
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with suite.client("caseworker.ast") as caseworker:
        resp = await caseworker.post("/v1/plans", json=body, headers=key)
        assert resp.status_code == 201, resp.text
        plan = resp.json()
        assert resp.headers["location"] == f"/v1/plans/{plan['id']}"
        again = await caseworker.post("/v1/plans", json=body, headers=key)
        assert (again.status_code, again.json()["id"]) == (201, plan["id"])
    assert (plan["state"], plan["center_id"], plan["territory"]) == ("draft", "fc-ast-1", "kz-ast")
    assert [m["state"] for m in plan["measures"]] == ["draft", "draft"]

    # 2. The agencies see nothing of a draft; the caseworker cannot approve her own plan.
    async with suite.client("education.ast") as coordinator:
        assert mine(await coordinator.get("/v1/measures"), plan["id"]) == []
        assert (await coordinator.get(f"/v1/plans/{plan['id']}")).status_code == 403
    async with suite.client("caseworker.ast") as caseworker:
        resp = await caseworker.post(
            f"/v1/plans/{plan['id']}/approve", json={"decision": "Protocol 1"}
        )
        assert resp.status_code == 403
        # The draft goes to the approving body (PLN-4).
        resp = await caseworker.post(f"/v1/plans/{plan['id']}/submit")
        assert (resp.status_code, resp.json()["state"]) == (200, "submitted"), resp.text

    # 3. The center head approves it (PLN-4 in kz: the center); each measure is sent at once
    #    (PLN-5) and its agency owes a responsible person within 2 working days (PLN-6).
    async with suite.client("head.ast") as head:
        resp = await head.post(
            f"/v1/plans/{plan['id']}/approve", json={"decision": "Working group protocol 12"}
        )
        assert resp.status_code == 200, resp.text
        approved = resp.json()
        assert (approved["state"], approved["approval_decision"]) == (
            "approved",
            "Working group protocol 12",
        )
        again = await head.post(f"/v1/plans/{plan['id']}/approve", json={"decision": "x"})
        assert (again.status_code, again.json()["type"]) == (
            409,
            "https://kamqor.dev/problems/plan-approved",
        )
    by_agency = {m["agency_id"]: m for m in approved["measures"]}
    for measure in by_agency.values():
        assert measure["state"] == "sent" and measure["sent_at"] is not None
        rules = {o["rule"]: o for o in measure["obligations"]}
        # Sent at approval; met once notify delivers the measure's notice (plans.consumers).
        assert rules["PLN-5"]["state"] == "open"
        designate = rules["PLN-6"]
        assert (designate["state"], designate["responsible_agency"]) == (
            "open",
            measure["agency_id"],
        )
        sent_at = datetime.fromisoformat(measure["sent_at"])
        assert datetime.fromisoformat(designate["due_at"]) == KZ.due("PLN-6", sent_at).due_at

    # 4. Each agency sees its own measure and nothing else of the plan (PLN-15).
    education_id, health_id = by_agency["edu-ast-1"]["id"], by_agency["hlt-ast-1"]["id"]
    async with (
        suite.client("education.ast") as coordinator,
        suite.client("health.ast") as doctor,
        suite.client("education.ala") as elsewhere,
    ):
        seen = mine(await coordinator.get("/v1/measures?state=sent"), plan["id"])
        assert [m["id"] for m in seen] == [education_id]
        assert seen[0]["title"] == education["title"]
        assert [m["id"] for m in mine(await doctor.get("/v1/measures"), plan["id"])] == [health_id]
        assert mine(await elsewhere.get("/v1/measures"), plan["id"]) == []
        # Nor may one agency act on another's measure: it does not exist for them.
        resp = await coordinator.post(
            f"/v1/measures/{health_id}/assignee", json={"assignee": "teacher.ast"}
        )
        assert resp.status_code == 404

        # 5. The education coordinator designates the teacher (PLN-6), within its term.
        resp = await coordinator.post(
            f"/v1/measures/{education_id}/assignee", json={"assignee": "teacher.ast"}
        )
        assert resp.status_code == 200, resp.text
        assigned = resp.json()
    assert (assigned["state"], assigned["assignee"]) == ("assigned", "teacher.ast")
    designate = next(o for o in assigned["obligations"] if o["rule"] == "PLN-6")
    assert (designate["state"], designate["on_time"]) == ("met", True)

    # 6. The teacher reports execution to the center by the deadline (PLN-7).
    async with suite.client("teacher.ast") as teacher:
        assert [m["id"] for m in mine(await teacher.get("/v1/measures"), plan["id"])] == [
            education_id
        ]
        resp = await teacher.post(
            f"/v1/measures/{education_id}/report",
            json={"report": "Eight lessons given; grades up from 3 to 4"},
        )
        assert resp.status_code == 200, resp.text
        reported = resp.json()
    assert (reported["state"], reported["reported_on_time"]) == ("reported", True)

    # 7. The case worker completes it with the date (PLN-9); the health measure, not yet
    #    reported, cannot be completed.
    async with suite.client("caseworker.ast") as caseworker:
        resp = await caseworker.post(
            f"/v1/measures/{education_id}/complete", json={"completed_on": today.isoformat()}
        )
        assert resp.status_code == 200, resp.text
        assert (resp.json()["state"], resp.json()["completed_on"]) == (
            "completed",
            today.isoformat(),
        )
        resp = await caseworker.post(
            f"/v1/measures/{health_id}/complete", json={"completed_on": today.isoformat()}
        )
        assert resp.status_code == 409
        final = (await caseworker.get(f"/v1/plans/{plan['id']}")).json()
    states = {m["agency_id"]: m["state"] for m in final["measures"]}
    assert states == {"edu-ast-1": "completed", "hlt-ast-1": "sent"}


def person(full_name: str, *, age: int, relation: str = "") -> dict[str, Any]:
    return {
        "full_name": full_name,
        "relation": relation,
        "birth_date": years_ago(age),
        "birth_place": "Irkutsk",
        "registered_address": "Irkutsk, Lenina St. 1, apt. 2",
        "actual_address": "Irkutsk, Lenina St. 1, apt. 2",
        "work_or_study": "School No. 5" if age < 18 else "",
    }


def registration(surname: str, *, votes_for: int = 5) -> dict[str, Any]:
    today = today_in(IRK.zone)
    return {
        "decided_on": today.isoformat(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 7, "votes_for": votes_for, "votes_against": 1},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
        },
        "grounds": "Neglect of the child's needs, confirmed by the school and the police",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family support center of Irkutsk",
        "review_on": (today + timedelta(days=120)).isoformat(),
        "minors": [person(f"{surname} Pyotr Sergeevich", age=10)],
        "relatives": [person(f"{surname}a Maria Petrovna", age=35, relation="mother")],
    }


async def test_irkutsk_registry_round_trip(suite: Suite) -> None:
    """REG-2, REG-3, REG-4, REG-9 through the gateway with the realm's ru-irk users."""
    surname = f"Zvyagin{uuid.uuid4().hex[:6]}"
    search = {"name": f"{surname} pyotr", "purpose": "check before a home visit"}

    # 1. Without a majority of the members present nothing is decided, nothing written (REG-2).
    async with suite.client("commission.irk") as commission:
        resp = await commission.post(
            "/v1/registry/decisions", json=registration(surname, votes_for=3)
        )
        assert resp.status_code == 409, resp.text
        assert resp.json()["type"] == "https://kamqor.dev/problems/no-majority"

        # 2. With a majority, the decision is recorded and the family is pending; the review is
        #    scheduled (REG-3) and the commission owes the office the decision (REG-4).
        resp = await commission.post(
            "/v1/registry/decisions",
            json=registration(surname),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert resp.status_code == 201, resp.text
    decision, family = resp.json()["decision"], resp.json()["family"]
    assert resp.headers["location"] == f"/v1/registry/families/{family['id']}"
    assert (decision["state"], decision["commission_id"]) == ("recorded", "com-irk-1")
    assert decision["vote"] == {"members_present": 7, "votes_for": 5, "votes_against": 1}
    assert "REG-4/send" in {o["rule"] for o in decision["obligations"]}
    assert (family["state"], family["territory"]) == ("pending", "ru-irk")

    # 3. Not yet entered: the case worker does not find it.
    async with suite.client("caseworker.irk") as caseworker:
        resp = await caseworker.post("/v1/registry/families:search", json=search)
        assert resp.status_code == 200, resp.text
        assert family["id"] not in [f["id"] for f in resp.json()["items"]]

    # 4. The registry office receives it (the commission's term met) and enters it (REG-4).
    async with suite.client("registry.irk") as office:
        resp = await office.post(f"/v1/registry/decisions/{decision['id']}/enter")
        assert resp.status_code == 409  # not received yet
        resp = await office.post(f"/v1/registry/decisions/{decision['id']}/receive")
        assert resp.status_code == 200, resp.text
        received = resp.json()
        assert (received["state"], received["office_id"]) == ("received", "reg-irk-1")
        terms = {o["rule"]: o for o in received["obligations"]}
        assert terms["REG-4/send"]["state"] == "met" and terms["REG-4/send"]["on_time"] is True
        assert terms["REG-4/enter"]["state"] == "open"
        resp = await office.post(f"/v1/registry/decisions/{decision['id']}/enter")
        assert resp.status_code == 200, resp.text
        entered = resp.json()
    assert (entered["id"], entered["state"]) == (family["id"], "registered")
    assert entered["registered_at"] is not None

    # 5. The case worker finds the family by name, saying why, and reads it (REG-9).
    async with suite.client("caseworker.irk") as caseworker:
        resp = await caseworker.post("/v1/registry/families:search", json=search)
        assert resp.status_code == 200, resp.text
        hits = [f for f in resp.json()["items"] if f["id"] == family["id"]]
        assert len(hits) == 1
        assert f"{surname} Pyotr Sergeevich" in [m["full_name"] for m in hits[0]["members"]]
        resp = await caseworker.post("/v1/registry/families:search", json={"name": surname})
        assert resp.status_code == 422  # no purpose, no read
        assert [e["field"] for e in resp.json()["errors"]] == ["purpose"]
        resp = await caseworker.get(
            f"/v1/registry/families/{family['id']}", params={"purpose": "home visit"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["minors"][0]["full_name"] == f"{surname} Pyotr Sergeevich"

    # 6. No need to know: the center head and the analyst are refused at the gateway; nobody in
    #    Kazakhstan sees the family, by search or by id (REG-9): their territory's profile has no
    #    data bank at all, so the service refuses before reading anything (409 no-registry-rule).
    for outsider in ("head.irk", "analyst.irk"):
        async with suite.client(outsider) as client:
            resp = await client.post("/v1/registry/families:search", json=search)
            assert resp.status_code == 403, (outsider, resp.text)
    for outsider in ("caseworker.ast", "commission.ast"):
        async with suite.client(outsider) as client:
            for resp in (
                await client.post("/v1/registry/families:search", json=search),
                await client.get(
                    f"/v1/registry/families/{family['id']}", params={"purpose": "home visit"}
                ),
            ):
                assert resp.status_code == 409, (outsider, resp.text)
                assert resp.json()["type"] == "https://kamqor.dev/problems/no-registry-rule"
                assert surname not in resp.text


async def test_irkutsk_sdp_plan_is_approved_by_the_commission(suite: Suite) -> None:
    """PLN-4 in Irkutsk: an SDP plan by the commission, not the center head; the plan term
    follows the support level (PLN-1, INT-6)."""
    today = today_in(IRK.zone)
    body = {
        "situation": "sdp",
        "support_level": "crisis",
        "participants": FAMILY,
        "measures": [
            {
                "kind": "legal",
                "agency_id": "grd-irk-1",
                "agency_type": "guardianship",
                "title": "Consultation on guardianship rights",
                "deadline": (today + timedelta(days=30)).isoformat(),
            }
        ],
    }
    async with suite.client("caseworker.irk") as caseworker:
        resp = await caseworker.post("/v1/plans", json=body)
        assert resp.status_code == 201, resp.text
        plan = resp.json()
        assert (await caseworker.post(f"/v1/plans/{plan['id']}/submit")).status_code == 200
    async with suite.client("head.irk") as head:
        resp = await head.post(f"/v1/plans/{plan['id']}/approve", json={"decision": "No. 3"})
        assert resp.status_code == 403, resp.text
    async with suite.client("commission.irk") as commission:
        resp = await commission.post(
            f"/v1/plans/{plan['id']}/approve", json={"decision": "KDN resolution 44"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["approved_by"]
    async with suite.client("guardianship.irk") as guardianship:
        seen = mine(await guardianship.get("/v1/measures"), plan["id"])
        assert [m["state"] for m in seen] == ["sent"]
        # Sent with no legal term: Irkutsk's profile sets none for sending or designating; the
        # measure's own deadline is the agency's obligation everywhere (PLN-7).
        assert [o["rule"] for o in seen[0]["obligations"]] == ["PLN-7"]
