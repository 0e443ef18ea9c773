"""Factories for request messages: valid by default, one keyword away from the case under test."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from kamqor.intake.v1 import intake_pb2
from kamqor.shelter.v1 import shelter_pb2
from tests.support import clock


def years_ago(years: int, days: int = 0) -> str:
    today = clock.today()
    try:
        d = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        d = today.replace(year=today.year - years, day=28)
    return (d - timedelta(days=days)).isoformat()


def resident(name: str = "Aigerim Nurlanovna", age: int = 34) -> shelter_pb2.Resident:
    return shelter_pb2.Resident(full_name=name, birth_date=years_ago(age))


def admit_request(shelter_id: str, *, minors: int = 2, **kw: Any) -> shelter_pb2.AdmitRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "shelter_id": shelter_id,
        "adult": resident(),
        "minors": [resident(f"Child {i + 1}", age=3 + 4 * i) for i in range(minors)],
        "referral": shelter_pb2.REFERRAL_SELF_APPLICATION,
    }
    values.update(kw)
    return shelter_pb2.AdmitRequest(**values)


def appeal_request(**kw: Any) -> intake_pb2.RegisterAppealRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "channel": intake_pb2.CHANNEL_HOTLINE_111,
        "summary": "Mother with two children, signs of domestic violence, threat to life",
        "persons": [
            intake_pb2.Person(
                full_name="Aigerim Nurlanovna",
                relation=intake_pb2.RELATION_MOTHER,
                birth_date=years_ago(34),
            ),
            intake_pb2.Person(
                full_name="Child One", relation=intake_pb2.RELATION_CHILD, birth_date=years_ago(3)
            ),
            intake_pb2.Person(
                full_name="Child Two", relation=intake_pb2.RELATION_CHILD, birth_date=years_ago(7)
            ),
        ],
        "threat_to_life": True,
        "domestic_violence": True,
    }
    values.update(kw)
    return intake_pb2.RegisterAppealRequest(**values)
