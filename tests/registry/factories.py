"""Factories for the data bank: valid by default, one keyword away from the case under test."""

# ruff: noqa: RUF001 - Russian names and addresses are the test data, Cyrillic on purpose

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from kamqor.auth import Principal
from kamqor.registry.v1 import registry_pb2 as pb
from registry import rules
from tests.support import clock


def today() -> date:
    """Irkutsk's date by the domain clock (the data bank's rules are ru-irk's)."""
    return clock.today(clock.IRKUTSK)


def principal(
    username: str, roles: tuple[str, ...], agency: str, agency_type: str, territory: str = "ru-irk"
) -> Principal:
    return Principal(
        subject=f"{username}-subject",
        username=username,
        roles=frozenset(roles),
        agency=agency,
        agency_type=agency_type,
        territory=territory,
        client_id="tests",
        token="not-a-token",
    )


# ru-irk people the demo realm does not have yet (see the report): built here for use cases.
COMMISSION = principal("commission.irk", ("commission-member",), "com-irk-1", "commission")
OFFICE = principal("registry.irk", ("agency-assignee",), "reg-irk-1", "registry_office")
CASEWORKER = principal("caseworker.irk", ("case-worker",), "fc-irk-1", "family_center")
AUDITOR = principal("auditor.irk", ("auditor",), "min-irk-1", "ministry")
ANALYST = principal("analyst.irk", ("analyst",), "min-irk-1", "ministry")
SCHOOL = principal("education.irk", ("agency-coordinator",), "edu-irk-1", "education")


def _years_back(years: int) -> date:
    day = today()
    return day.replace(year=day.year - years, day=min(day.day, 28))


def years_ago(years: int) -> date:
    return _years_back(years) - timedelta(days=3)


def minor(name: str = "Иванов Пётр Сергеевич", **kw: Any) -> rules.PersonIn:
    values: dict[str, Any] = {
        "full_name": name,
        "relation": "",
        "birth_date": years_ago(10),
        "birth_place": "г. Иркутск",
        "registered_address": "г. Иркутск, ул. Ленина, д. 1, кв. 2",
        "actual_address": "г. Иркутск, ул. Ленина, д. 1, кв. 2",
        "document": rules.Document(
            rules.DocumentKind.BIRTH_CERTIFICATE, "III-СТ", "654321", years_ago(10) + timedelta(9)
        ),
        "disability": False,
        "work_or_study": "МБОУ СОШ № 5",
    }
    values.update(kw)
    return rules.PersonIn(**values)


def mother(name: str = "Иванова Мария Петровна", **kw: Any) -> rules.PersonIn:
    values: dict[str, Any] = {
        "relation": "мать",
        "birth_date": years_ago(35),
        "document": rules.Document(rules.DocumentKind.PASSPORT, "2510", "123456", years_ago(15)),
        "work_or_study": "не работает",
    }
    values.update(kw)
    return minor(name, **values)


def registration(**kw: Any) -> dict[str, Any]:
    """Keyword arguments of `service.record_registration_decision`, minus session and principal."""
    values: dict[str, Any] = {
        "decided_on": today(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": rules.Vote(members_present=7, votes_for=5, votes_against=1),
        "hearing": rules.Hearing(True, True, True),
        "grounds": "Neglect of the child's needs, confirmed by the school and the police",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Центр помощи семье и детям г. Иркутска",
        "review_on": today() + timedelta(days=120),
        "minors": [minor()],
        "relatives": [mother()],
        "idempotency_key": uuid.uuid4().hex,
        # What the servicer passes: a digest of the request (one per factory call, so a retry
        # with the same keyword arguments is the same request).
        "request_digest": uuid.uuid4().hex,
    }
    values.update(kw)
    return values


def deregistration(family_id: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "family_id": family_id,
        "decided_on": today(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": rules.Vote(members_present=5, votes_for=3, votes_against=0),
        "hearing": rules.Hearing(True, True, True),
        "grounds": "The situation improved: the child attends school, the home is safe",
        "idempotency_key": uuid.uuid4().hex,
        "request_digest": uuid.uuid4().hex,
    }
    values.update(kw)
    return values


def person_pb(p: rules.PersonIn) -> pb.Person:
    return pb.Person(
        full_name=p.full_name,
        relation=p.relation,
        birth_date=p.birth_date.isoformat(),
        birth_place=p.birth_place,
        registered_address=p.registered_address,
        actual_address=p.actual_address,
        document=None
        if p.document is None
        else pb.IdentityDocument(
            kind=pb.DOCUMENT_KIND_PASSPORT
            if p.document.kind == rules.DocumentKind.PASSPORT
            else pb.DOCUMENT_KIND_BIRTH_CERTIFICATE,
            series=p.document.series,
            number=p.document.number,
            issued_on=p.document.issued_on.isoformat() if p.document.issued_on else "",
        ),
        disability=p.disability,
        work_or_study=p.work_or_study,
    )


def registration_request(**kw: Any) -> pb.RecordRegistrationDecisionRequest:
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "decided_on": today().isoformat(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": pb.Vote(members_present=7, votes_for=5, votes_against=1),
        "hearing": pb.Hearing(
            prevention_bodies_heard=True, minor_opinion_heard=True, parents_opinion_heard=True
        ),
        "grounds": "Neglect of the child's needs",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Центр помощи семье и детям г. Иркутска",
        "review_on": (today() + timedelta(days=120)).isoformat(),
        "minors": [person_pb(minor())],
        "relatives": [person_pb(mother())],
    }
    values.update(kw)
    return pb.RecordRegistrationDecisionRequest(**values)


def review_request(family_id: str, **kw: Any) -> pb.RecordReviewRequest:
    """A repeat review that keeps the family on record (REG-3), decided today."""
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "family_id": family_id,
        "decided_on": today().isoformat(),
        "number": f"KDN-R-{uuid.uuid4().hex[:6]}",
        "vote": pb.Vote(members_present=6, votes_for=4, votes_against=1),
        "hearing": pb.Hearing(
            prevention_bodies_heard=True,
            minor_opinion_heard=True,
            parents_opinion_heard=True,
            documents_reviewed=["report of the responsible body"],
        ),
        "grounds": "Preventive work continues",
        "outcome": pb.REVIEW_OUTCOME_KEEP,
        "next_review_on": (today() + timedelta(days=90)).isoformat(),
    }
    values.update(kw)
    return pb.RecordReviewRequest(**values)


def review_json(family_id: str) -> dict[str, Any]:
    """The same review as the gateway's `POST /v1/registry/reviews` body."""
    return {
        "family_id": family_id,
        "decided_on": today().isoformat(),
        "number": f"KDN-R-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 6, "votes_for": 4, "votes_against": 1},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
            "documents_reviewed": ["report of the responsible body"],
        },
        "grounds": "Preventive work continues",
        "outcome": "keep",
        "next_review_on": (today() + timedelta(days=90)).isoformat(),
    }


def session_request(
    held_on: date | None = None, present: list[str] | None = None, size: int = 9
) -> pb.OpenSessionRequest:
    """A session of the caller's commission (REG-2): by default 5 of 9 members, a quorum."""
    members = present if present is not None else [f"kdn-{i}" for i in range(1, 6)]
    return pb.OpenSessionRequest(
        idempotency_key=uuid.uuid4().hex,
        held_on=(held_on or today()).isoformat(),
        composition_size=size,
        members_present=[pb.SessionMember(member_id=m, full_name=f"Member {m}") for m in members],
    )


def session_json() -> dict[str, Any]:
    """The same session as the gateway's `POST /v1/registry/sessions` body."""
    return {
        "held_on": today().isoformat(),
        "composition_size": 9,
        "members_present": [
            {"member_id": f"kdn-{i}", "full_name": f"Member kdn-{i}"} for i in range(1, 6)
        ],
    }


def change_request(family_id: str, **kw: Any) -> pb.ReportChangeRequest:
    """A change of the family's responsible body (REG-5), changed today."""
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "family_id": family_id,
        "changed_on": today().isoformat(),
        "fields": [pb.FieldChange(field="responsible_body", value="Центр г. Ангарска")],
    }
    values.update(kw)
    return pb.ReportChangeRequest(**values)


def change_json(family_id: str) -> dict[str, Any]:
    """The same change as the gateway's `POST /v1/registry/changes` body."""
    return {
        "family_id": family_id,
        "changed_on": today().isoformat(),
        "fields": [{"field": "responsible_body", "value": "Центр г. Ангарска"}],
    }


def ended_quarter() -> str:
    """The last quarter that has ended by the domain clock, e.g. `2026-Q3` (REG-7)."""
    day = today()
    number = (day.month - 1) // 3
    return f"{day.year - 1}-Q4" if number == 0 else f"{day.year}-Q{number}"


def inquiry_request(**kw: Any) -> pb.CreateInquiryRequest:
    """A police request about a minor, for its lawful purpose (REG-8)."""
    values: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "purpose": "juvenile_prevention",
        "reason": "individual preventive work with the minor",
        "subject_full_name": "Иванов Пётр Сергеевич",
        "subject_birth_date": years_ago(10).isoformat(),
    }
    values.update(kw)
    return pb.CreateInquiryRequest(**values)


def inquiry_json() -> dict[str, Any]:
    """The same request as the gateway's `POST /v1/registry/inquiries` body."""
    request = inquiry_request()
    return {
        "purpose": request.purpose,
        "reason": request.reason,
        "subject_full_name": request.subject_full_name,
        "subject_birth_date": request.subject_birth_date,
    }
