"""One obligation shape for every service: the kit's row through `kamqor.obligations.to_pb`
and the gateway's `Obligation.from_proto` to the REST JSON (a mapping test: no rule is
exercised here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.schemas.common import Obligation as ObligationOut
from kamqor.obligations import Obligation, ObligationState, to_pb

DUE = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


def row(*, met: timedelta | None = None, state: ObligationState | None = None) -> Obligation:
    met_at = DUE + met if met is not None else None
    return Obligation(
        id="o-1",
        rule="REG-4/send",
        subject="decision/d-1",
        territory="ru-irk",
        responsible_agency="com-irk-1",
        responsible_person="secretary",
        arose_at=DUE - timedelta(days=10),
        due_at=DUE,
        approaching_at=DUE - timedelta(days=1),
        state=state or (ObligationState.MET if met_at else ObligationState.OPEN),
        met_at=met_at,
        on_time=None if met_at is None else met_at <= DUE,
        profile="ru",
        profile_version="ru-2026.1",
        calendar_version="ru-2026",
    )


def test_an_open_obligation_has_no_on_time() -> None:
    msg = to_pb(row())
    assert not msg.HasField("on_time") and not msg.HasField("met_at")
    assert ObligationOut.from_proto(msg).model_dump(mode="json") == {
        "id": "o-1",
        "rule": "REG-4/send",
        "subject": "decision/d-1",
        "responsible_agency": "com-irk-1",
        "responsible_person": "secretary",
        "due_at": "2026-03-03T09:30:00Z",
        "state": "open",
        "met_at": None,
        "on_time": None,
        "profile": "ru",
        "profile_version": "ru-2026.1",
        "calendar_version": "ru-2026",
    }


@pytest.mark.parametrize(
    ("met", "on_time"), [(timedelta(hours=-1), True), (timedelta(hours=1), False)]
)
def test_a_met_obligation_says_whether_it_was_on_time(met: timedelta, on_time: bool) -> None:
    msg = to_pb(row(met=met))
    assert msg.HasField("on_time")
    out = ObligationOut.from_proto(msg)
    assert (out.state, out.met_at, out.on_time) == ("met", DUE + met, on_time)


def test_a_cancelled_obligation_has_no_on_time() -> None:
    out = ObligationOut.from_proto(to_pb(row(state=ObligationState.CANCELLED)))
    assert (out.state, out.met_at, out.on_time) == ("cancelled", None, None)
