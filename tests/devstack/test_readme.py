"""What the README promises a newcomer: the demo logins it lists are the ones `make run` prints
(one source, `devstack.demo.DEMO_LOGINS`) and exist in the realm with the password it names, and
its calendar commands work as written after `make setup`."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from devstack.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_usernames, login_lines, readme_table
from devstack.keycloak import default_realm_file, repo_root

ROOT = repo_root()
README = (ROOT / "README.md").read_text()


def _generated_table() -> str:
    found = re.search(r"<!-- demo-logins:[^>]*-->\n(.*?)<!-- /demo-logins -->", README, re.S)
    assert found, "README.md lost its demo-logins markers"
    return found.group(1)


def test_the_readme_table_is_what_demo_logins_renders() -> None:
    assert _generated_table() == readme_table(), (
        "README.md's demo login table differs from DEMO_LOGINS: paste "
        "`.venv/bin/python -c 'from devstack.demo import readme_table; print(readme_table())'`"
    )


def test_make_run_prints_every_demo_login() -> None:
    printed = "\n".join(login_lines())
    for row in DEMO_LOGINS:
        for user in row.users:
            assert re.search(rf"(^|[ ,]){re.escape(user)}(,|  |$)", printed, re.M), user


def test_every_demo_login_exists_in_the_realm_with_the_demo_password() -> None:
    realm = json.loads(default_realm_file().read_text())
    users = {u["username"]: u for u in realm["users"]}
    for name in demo_usernames():  # the `.ala` twin of every `.ast` login included
        assert name in users, f"{name} is listed as a demo login but not in the realm"
        user = users[name]
        assert user["enabled"] and not user.get("requiredActions")
        passwords = [c["value"] for c in user["credentials"] if c["type"] == "password"]
        assert passwords == [DEMO_PASSWORD], name


def _calendar_commands() -> list[str]:
    return re.findall(r"^(\.venv/bin/python -m kamqor\.calendar .+)$", README, re.M)


def test_the_readme_documents_the_calendar_through_the_venv() -> None:
    commands = _calendar_commands()
    assert {c.split()[3] for c in commands} == {"due", "add", "working-days"}
    assert "uv run python -m kamqor.calendar" not in README  # uv may not be on PATH


@pytest.mark.parametrize("command", _calendar_commands())
def test_each_documented_calendar_command_works_as_written(command: str) -> None:
    argv = shlex.split(command)
    assert Path(ROOT / argv[0]).exists()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
