"""People, families and cases through the gateway on the real stack (INT-2): an appeal with an
IIN and a document, the family it joins, a merge undone, its case closed; bad identifiers are a
422 naming the field, a second close a 409."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.harness import Suite, running_suite
from tests.intake.test_families import fresh_iin, unique_birth

pytestmark = pytest.mark.e2e
RNG = random.Random()


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def appeal(persons: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {
        "channel": "in_person",
        "summary": "A mother asks for help after her husband's threats",
        "persons": persons,
        **kw,
    }


async def post_appeal(suite: Suite, body: dict[str, Any], user: str = "intake.ast") -> Any:
    async with suite.client(user) as client:
        return await client.post(
            "/v1/appeals", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )


async def test_int2_an_appeal_with_an_iin_joins_its_family_and_case(suite: Suite) -> None:
    born = unique_birth(RNG)
    iin = fresh_iin(RNG, born)
    mother = {
        "full_name": "Бекова Әсел",
        "relation": "mother",
        "birth_date": born.isoformat(),
        "iin": iin,
        "documents": [{"kind": "id_card", "number": "041122334"}],
    }
    first = await post_appeal(suite, appeal([mother]))
    assert first.status_code == 201, first.text
    first_body = first.json()
    assert first_body["matched_by"] == "new" and first_body["opened_case"] is True
    assert first_body["persons"][0]["iin"] == iin
    assert first_body["persons"][0]["documents"] == [{"kind": "id_card", "number": "041122334"}]
    again = await post_appeal(
        suite, appeal([{**mother, "full_name": "Bekova Asel", "documents": []}]), "hotline.ast"
    )
    assert again.status_code == 201, again.text
    assert again.json()["matched_by"] == "identifier"
    assert again.json()["family_id"] == first_body["family_id"]
    assert again.json()["case_id"] == first_body["case_id"] and not again.json()["opened_case"]

    async with suite.client("caseworker.ast") as worker:
        family = await worker.get(f"/v1/families/{first_body['family_id']}")
        assert family.status_code == 200, family.text
        assert [m["iin"] for m in family.json()["members"]] == [iin]
        case = await worker.get(f"/v1/cases/{first_body['case_id']}")
        assert case.status_code == 200, case.text
        assert case.json()["state"] == "open" and len(case.json()["appeal_ids"]) == 2
        assessed = await worker.post(
            f"/v1/cases/{first_body['case_id']}/assessments",
            json={"outcome": "dls", "consent": "given", "notes": "Needs housing support."},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert assessed.status_code == 200, assessed.text
        assert assessed.json()["assessments"][0]["proceeds"] is True
        no_consent = await worker.post(
            f"/v1/cases/{first_body['case_id']}/assessments",
            json={"outcome": "dls", "consent": "not_required"},
        )
        assert no_consent.status_code == 422, no_consent.text
        assert [e["field"] for e in no_consent.json()["errors"]] == ["consent"]
        closed = await worker.post(
            f"/v1/cases/{first_body['case_id']}/close", json={"reason": "Resolved.\nNo need."}
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed"
        twice = await worker.post(
            f"/v1/cases/{first_body['case_id']}/close", json={"reason": "again"}
        )
        assert twice.status_code == 409, twice.text
    async with suite.client("intake.ala") as other:
        hidden = await other.get(f"/v1/families/{first_body['family_id']}")
        assert hidden.status_code == 404, hidden.text


async def test_int2_a_merge_through_the_gateway_is_undone(suite: Suite) -> None:
    born = unique_birth(RNG).isoformat()
    one = await post_appeal(
        suite, appeal([{"full_name": "Касымова Жанар", "relation": "mother", "birth_date": born}])
    )
    two = await post_appeal(
        suite, appeal([{"full_name": "Kasymova Zhanar", "relation": "mother", "birth_date": born}])
    )
    assert one.status_code == two.status_code == 201, (one.text, two.text)
    kept, merged = one.json()["family_id"], two.json()["family_id"]
    assert [m["family_id"] for m in two.json()["likely_families"]] == [kept]
    async with suite.client("head.ast") as head:
        resp = await head.post(
            f"/v1/families/{kept}/merges",
            json={"merged_family_id": merged, "reason": "The same mother, a Latin spelling."},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["family"]["merged_family_ids"] == [merged]
        merge_id = resp.json()["merge"]["id"]
        undone = await head.post(f"/v1/family-merges/{merge_id}/undo")
        assert undone.status_code == 200, undone.text
        assert undone.json()["undone_at"] is not None
        again = await head.post(f"/v1/family-merges/{merge_id}/undo")
        assert again.status_code == 409, again.text
        separate = await head.get(f"/v1/families/{merged}")
        assert separate.json()["id"] == merged


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"iin": "880302450136", "birth_date": "1988-03-02"}, "persons[0].iin"),
        ({"iin": "88030245013"}, "persons[0].iin"),
        ({"snils": "112-233-445 96"}, "persons[0].snils"),
        ({"documents": [{"kind": "visa", "number": "1"}]}, "persons[0].documents[0].kind"),
    ],
)
async def test_bad_identifiers_are_a_422_naming_the_field(
    suite: Suite, person: dict[str, Any], field: str
) -> None:
    body = appeal([{"full_name": "Someone", "relation": "mother", **person}])
    resp = await post_appeal(suite, body)
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == [field]


async def test_a_child_older_than_its_parent_is_a_422(suite: Suite) -> None:
    body = appeal(
        [
            {"full_name": "Mother", "relation": "mother", "birth_date": "1990-01-01"},
            {"full_name": "Child", "relation": "child", "birth_date": "1985-01-01"},
        ]
    )
    resp = await post_appeal(suite, body)
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == ["persons[1].birth_date"]
