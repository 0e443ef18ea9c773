"""Request factories for plans: valid by default, one keyword away from the case under test."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from kamqor.plans.v1 import plans_pb2 as pb
from tests.support import clock


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def measure_draft(**kw: Any) -> pb.MeasureDraft:
    values: dict[str, Any] = {
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "kind": pb.MEASURE_KIND_PEDAGOGICAL,
        "title": "Tutoring in mathematics twice a week",
        "target": "eldest child",
        "deadline": in_days(30),
    }
    values.update(kw)
    return pb.MeasureDraft(**values)


def health_measure(**kw: Any) -> pb.MeasureDraft:
    values: dict[str, Any] = {
        "agency_id": "hlt-ast-1",
        "agency_type": "health",
        "kind": pb.MEASURE_KIND_MEDICAL,
        "title": "Medical examination of the children",
        "target": "",
        "deadline": in_days(20),
    }
    values.update(kw)
    return measure_draft(**values)


def participation_measure(**kw: Any) -> pb.MeasureDraft:
    values: dict[str, Any] = {
        "agency_id": "",
        "agency_type": "",
        "kind": pb.MEASURE_KIND_FAMILY_PARTICIPATION,
        "title": "The mother attends the parenting course",
        "target": "mother",
        "deadline": in_days(45),
    }
    values.update(kw)
    return measure_draft(**values)


def participants() -> list[pb.Participant]:
    """The family and a psychologist drafted it together (PLN-3)."""
    return [
        pb.Participant(role=pb.PARTICIPANT_ROLE_FAMILY, name="Aigerim S. (mother)"),
        pb.Participant(
            role=pb.PARTICIPANT_ROLE_PSYCHOLOGIST, name="Dana K.", organisation="fc-ast-1"
        ),
    ]


def plan_request(**kw: Any) -> pb.CreatePlanRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "case_id": str(uuid.uuid4()),
        "situation": pb.SITUATION_DLS,
        "measures": [measure_draft(), health_measure(), participation_measure()],
        "participants": participants(),
    }
    values.update(kw)
    return pb.CreatePlanRequest(**values)
