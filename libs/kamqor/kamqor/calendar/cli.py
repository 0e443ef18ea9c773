"""`python -m kamqor.calendar`: due times, term arithmetic and working-day counts from the shell.

    due --profile kz --rule INT-3 --at 2026-03-06T15:00      (bare INT-3 = its primary term)
    add --profile ru-irk --at 2026-04-30T10:00 --working-days 3
    working-days --profile kz --from 2026-01-01 --to 2026-01-31

A naive `--at` is local time in the profile's zone. Instants print as ISO 8601 with the UTC
offset; a term in days ends at 23:59:59.999999 local time (see `terms.py`). Errors print one
line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime

from kamqor.calendar import terms
from kamqor.calendar.errors import TermsError
from kamqor.profiles import Profile, get_profile


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kamqor.calendar",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    due = commands.add_parser("due", help="due instant of a rule's term for an event")
    due.add_argument("--profile", required=True)
    due.add_argument(
        "--rule", required=True, help="INT-3/threat, or a bare rule id for its primary term"
    )
    due.add_argument(
        "--at", required=True, type=_instant, help="the event; naive = profile's local time"
    )

    add = commands.add_parser("add", help="add a term to an instant in the profile's calendar")
    add.add_argument("--profile", required=True)
    add.add_argument("--at", required=True, type=_instant)
    amount = add.add_mutually_exclusive_group(required=True)
    for flag in ("working-days", "days", "hours", "months"):
        amount.add_argument(f"--{flag}", type=int, metavar="N")

    count = commands.add_parser("working-days", help="working days from..to, both included")
    count.add_argument("--profile", required=True)
    count.add_argument("--from", dest="start", required=True, type=_day)
    count.add_argument("--to", dest="end", required=True, type=_day)
    return parser


def _localise(at: datetime, profile: Profile) -> datetime:
    return at.replace(tzinfo=profile.zone) if at.tzinfo is None else at


def _add(args: argparse.Namespace, profile: Profile) -> datetime:
    at = _localise(args.at, profile)
    version = profile.at(at)
    calendar, zone = version.calendar(at), version.zone
    if args.working_days is not None:
        return terms.add_working_days(at, args.working_days, calendar=calendar, zone=zone)
    if args.days is not None:
        return terms.add_days(at, args.days, calendar=calendar, zone=zone)
    if args.months is not None:
        return terms.add_months(at, args.months, calendar=calendar, zone=zone)
    return terms.add_hours(at, args.hours, zone=zone)


def run(args: argparse.Namespace) -> str:
    profile = get_profile(args.profile)
    if args.command == "due":
        deadline = profile.due(args.rule, _localise(args.at, profile))
        if "+provisional:" in deadline.calendar_version:
            # stdout stays one instant for scripts; the caveat goes beside it.
            sys.stderr.write(
                f"note: provisional, no decree published yet ({deadline.calendar_version})\n"
            )
        return deadline.due_at.isoformat()
    if args.command == "add":
        return _add(args, profile).isoformat()
    return str(profile.calendar.working_days_between(args.start, args.end))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        line = run(args)
    except (TermsError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(line + "\n")
    return 0
