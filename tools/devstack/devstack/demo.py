"""Demo data for `make run`: one crisis shelter per demo territory, loaded through the gateway
as the centers' heads would, so it passes the same checks as real use."""

from __future__ import annotations

import httpx

from devstack.keycloak import KeycloakServer

DEMO_SHELTERS = {"head.ast": "Astana crisis shelter", "head.ala": "Almaty crisis shelter"}
DEMO_LOGINS = (
    ("hotline.ast", "hotline operator (111), Astana; .ala for Almaty"),
    ("intake.ast", "intake operator of family center fc-ast-1"),
    ("shelter.ast", "shelter operator of fc-ast-1"),
    ("caseworker.ast", "case worker of fc-ast-1"),
    ("head.ast", "center head of fc-ast-1"),
    ("police.ast", "police coordinator, Astana"),
    ("guardianship.ast", "guardianship coordinator, Astana"),
    ("education.ast", "education coordinator, Astana"),
    ("commission.ast", "juvenile affairs commission member"),
    ("analyst.ast", "analyst (aggregates only)"),
    ("auditor.ast", "auditor (access logs)"),
    ("commission.irk", "commission member, Irkutsk (registry, REG-*)"),
    ("registry.irk", "registry office, Irkutsk"),
    ("caseworker.irk", "case worker, Irkutsk; also head.irk, education.irk, police.irk"),
)


def load_demo_data(gateway_url: str, keycloak: KeycloakServer) -> None:
    """Idempotent: a shelter that already exists (same name) is not created again."""
    for username, name in DEMO_SHELTERS.items():
        headers = {"Authorization": f"Bearer {keycloak.token(username)}"}
        with httpx.Client(base_url=gateway_url, headers=headers, timeout=20) as client:
            listed = client.get("/v1/shelters")
            listed.raise_for_status()
            if any(s["name"] == name for s in listed.json()["items"]):
                continue
            client.post(
                "/v1/shelters",
                json={"name": name, "capacity": 12},
                headers={"Idempotency-Key": f"demo-{username}"},
            ).raise_for_status()
