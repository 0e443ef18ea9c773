"""`python -m kamqor.calendar`: due times of term keys (INT-3/primary, SHL-3) and working-day
counts from the shell."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kamqor.calendar.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_due_int3_bare_rule_is_the_primary_assessment(capsys: pytest.CaptureFixture[str]) -> None:
    """`--rule INT-3` names INT-3/primary: 3 working days from Friday 6 March 2026 (9 March off)."""
    code, out, err = _run(
        capsys, "due", "--profile", "kz", "--rule", "INT-3", "--at", "2026-03-06T15:00"
    )
    assert (code, out, err) == (0, "2026-03-12T23:59:59.999999+05:00\n", "")


def test_due_int3_threat(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "due", "--profile", "kz", "--rule", "INT-3/threat", "--at", "2026-03-06T15:00"
    )
    assert (code, out) == (0, "2026-03-10T23:59:59.999999+05:00\n")


def test_due_shl3_with_an_offset_in_at(capsys: pytest.CaptureFixture[str]) -> None:
    """Term SHL-3, 24 hours: an aware --at keeps its instant and prints in the profile's zone."""
    code, out, _ = _run(
        capsys, "due", "--profile", "kz", "--rule", "SHL-3", "--at", "2026-03-06T15:00+03:00"
    )
    assert (code, out) == (0, "2026-03-07T17:00:00+05:00\n")


@pytest.mark.parametrize(
    ("flag", "n", "expected"),
    [
        ("--working-days", "3", "2026-05-06T23:59:59.999999+08:00"),
        ("--days", "1", "2026-05-04T23:59:59.999999+08:00"),
        ("--hours", "24", "2026-05-01T10:00:00+08:00"),
        ("--months", "1", "2026-06-01T23:59:59.999999+08:00"),
    ],
)
def test_add(capsys: pytest.CaptureFixture[str], flag: str, n: str, expected: str) -> None:
    code, out, _ = _run(capsys, "add", "--profile", "ru-irk", "--at", "2026-04-30T10:00", flag, n)
    assert (code, out) == (0, expected + "\n")


def test_working_days_in_january_2026_kz(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "working-days", "--profile", "kz", "--from", "2026-01-01", "--to", "2026-01-31"
    )
    assert (code, out) == (0, "19\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["due", "--profile", "xx", "--rule", "INT-3", "--at", "2026-03-06"], "unknown profile"),
        (["due", "--profile", "kz", "--rule", "REG-8", "--at", "2026-03-06"], "no term for rule"),
        (["due", "--profile", "kz", "--rule", "INT-3", "--at", "2041-03-06"], "covers 2024-2037"),
        (
            ["working-days", "--profile", "ru-ba", "--from", "2026-01-01", "--to", "2038-01-01"],
            "covers 2024-2037",
        ),
    ],
)
def test_errors_are_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_module_runs_as_a_program_without_traceback() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kamqor.calendar",
            "due",
            "--profile",
            "nope",
            "--rule",
            "INT-3",
            "--at",
            "2026-03-06T15:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert (
        done.stderr.startswith("error: unknown profile 'nope'") and "Traceback" not in done.stderr
    )
