"""Demo data for `make run`: one crisis shelter per demo territory, loaded through the gateway
as the centers' heads would, so it passes the same checks as real use.

`DEMO_LOGINS` is the one list of demo logins: `make run` prints it (`login_lines`) and the
README's table is its `readme_table()` (tests/devstack/test_readme.py keeps them equal and checks
every login against the realm file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

DEMO_PASSWORD = "demo"
DEMO_SHELTERS = {"head.ast": "Astana crisis shelter", "head.ala": "Almaty crisis shelter"}
# Every `.ast` login below also exists as `.ala` (Almaty, territory kz-ala).
ALMATY_TWIN = (".ast", ".ala")


@dataclass(frozen=True)
class DemoLogin:
    users: tuple[str, ...]
    role: str


DEMO_LOGINS = (
    DemoLogin(("hotline.ast",), "hotline operator (contact center 111), Astana"),
    DemoLogin(("intake.ast",), "intake operator of family center `fc-ast-1`"),
    DemoLogin(("shelter.ast",), "shelter operator of `fc-ast-1`"),
    DemoLogin(("caseworker.ast", "head.ast"), "case worker, center head of `fc-ast-1`"),
    DemoLogin(
        ("police.ast", "guardianship.ast", "education.ast", "health.ast"),
        "agency coordinators (police, guardianship, education, health), Astana",
    ),
    DemoLogin(("commission.ast",), "juvenile affairs commission member"),
    DemoLogin(("analyst.ast", "auditor.ast"), "analyst (aggregates only), auditor (access logs)"),
    DemoLogin(
        (
            "commission.irk",
            "registry.irk",
            "caseworker.irk",
            "head.irk",
            "police.irk",
            "guardianship.irk",
            "education.irk",
        ),
        "Irkutsk region (profile `ru-irk`, where the SDP data bank rules apply)",
    ),
    DemoLogin(
        (
            "caseworker.khm",
            "head.khm",
            "senior.khm",
            "education.khm",
            "teacher.khm",
            "health.khm",
            "social.khm",
            "analyst.khm",
        ),
        "Yugra (profile `ru-khm`: social accompaniment; `senior.khm` is case worker and head)",
    ),
    DemoLogin(
        ("caseworker.ba", "head.ba", "commission.ba", "education.ba"),
        "Bashkortostan (profile `ru-ba`: the commission approves and sets the term)",
    ),
)


def demo_usernames() -> list[str]:
    """Every login named in `DEMO_LOGINS`, with the `.ala` twin of each `.ast` one."""
    names = [user for row in DEMO_LOGINS for user in row.users]
    twins = [n.replace(*ALMATY_TWIN) for n in names if n.endswith(ALMATY_TWIN[0])]
    return names + twins


def readme_table() -> str:
    """The README's demo login table (Markdown)."""
    lines = ["| user | role |", "|---|---|"]
    for row in DEMO_LOGINS:
        lines.append(f"| {', '.join(f'`{u}`' for u in row.users)} | {row.role} |")
    return "\n".join(lines) + "\n"


def login_lines() -> list[str]:
    """What `make run` prints: one line per row, users then role."""
    heading = (
        f"Demo logins (password: {DEMO_PASSWORD}; each {ALMATY_TWIN[0]} login also exists as "
        f"{ALMATY_TWIN[1]} for Almaty):"
    )
    rows = [(", ".join(row.users), row.role.replace("`", "")) for row in DEMO_LOGINS]
    width = max(len(users) for users, _ in rows if len(users) <= 40)
    out = [heading]
    for users, role in rows:
        if len(users) > width:
            out += [f"  {users}", f"  {'':<{width}}  {role}"]
        else:
            out.append(f"  {users:<{width}}  {role}")
    return out


def load_demo_data(gateway_url: str, token: Callable[[str], str]) -> None:
    """Idempotent: a shelter that already exists (same name) is not created again.

    `token(username)` gives a demo user's access token (e.g. `KeycloakServer.token`)."""
    for username, name in DEMO_SHELTERS.items():
        headers = {"Authorization": f"Bearer {token(username)}"}
        with httpx.Client(base_url=gateway_url, headers=headers, timeout=20) as client:
            listed = client.get("/v1/shelters")
            listed.raise_for_status()
            if any(s["name"] == name for s in listed.json()["items"]):
                continue
            created = client.post(
                "/v1/shelters",
                json={"name": name, "capacity": 12},
                headers={"Idempotency-Key": f"demo-{username}"},
            )
            if created.status_code != 409:  # 409: it exists after all (a concurrent run)
                created.raise_for_status()
