"""Information requests (REG-8): a prevention body asks about a person with a lawful purpose of
its sphere; the registry office answers from the bank within 10 working days of receipt, with
only the fields that purpose allows; the answer goes to the requester alone, and every read of
it is logged (REG-9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations
from kamqor.access import require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound
from kamqor.ids import new_id, parse_id
from kamqor.inputs import check_birth_date
from kamqor.obligations import Obligation
from kamqor.protoconv import page_size as check_page_size
from registry import models, rules
from registry.models import Family, FamilyMember
from registry.models.reporting import (
    Inquiry,
    inquiries_of,
    known_office,
    lock_inquiry,
    matching_families,
    open_inquiries,
)
from registry.rules import inquiries as asking
from registry.service._common import _profile_for
from registry.service._decision_steps import _require_office

OPEN = "open"
ANSWERED = "answered"


@dataclass(frozen=True)
class InquiryView:
    inquiry: Inquiry
    obligations: list[Obligation]
    # The person asked about and the answer: only in the requester's own read.
    disclosed: bool = False


async def create_inquiry(
    session: AsyncSession,
    *,
    principal: Principal,
    purpose: str,
    reason: str,
    subject_full_name: str,
    subject_birth_date: date,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> InquiryView:
    """A prevention body's request, received now: the office's 10 working days start (REG-8)."""
    asking.check_requester(principal)
    key = idempotency.check_key(idempotency_key)
    scope = f"create_inquiry:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await _view(session, earlier)
    profile = _profile_for(principal.territory, asking.INQUIRY_RULE)
    lawful = asking.check_purpose(principal, purpose)
    now = now or utcnow()
    name = rules.check_text(subject_full_name, field="subject_full_name", limit=rules.MAX_NAME)
    check_birth_date(
        subject_birth_date, field="subject_birth_date", today=local_date(now, profile.zone)
    )
    inquiry = Inquiry(
        id=new_id(),
        territory=principal.territory,
        requester_agency=principal.agency,
        requester_agency_type=principal.agency_type,
        requested_by=principal.subject,
        purpose=lawful.code,
        reason=rules.check_text(reason, field="reason", limit=asking.MAX_REASON),
        subject_full_name=name,
        subject_birth_date=subject_birth_date,
        state=OPEN,
        received_at=now,
    )
    session.add(inquiry)
    obligations.open_obligation(
        session,
        rule=asking.INQUIRY_RULE,
        subject=f"inquiry/{inquiry.id}",
        territory=principal.territory,
        arose_at=now,
        # Who answers is the territory's office; the one that does is written in when it does.
        responsible_agency=await known_office(session, principal.territory),
    )
    audit.record(
        session,
        principal=principal,
        action="create",
        entity=f"inquiry/{inquiry.id}",
        purpose=f"REG-8 request: {lawful.code}",
    )
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=inquiry.id)
    await session.flush()
    return await _view(session, inquiry.id)


INBOX_DEFAULT = 50
INBOX_MAX = 200


async def list_to_answer(
    session: AsyncSession, *, principal: Principal, page_size: int, page_token: str
) -> tuple[list[InquiryView], str]:
    """The open requests of the office's territory, oldest first, with their clocks; no
    personal data (the person asked about is read only in the answer)."""
    _require_office(principal)
    _profile_for(principal.territory, asking.INQUIRY_RULE)
    limit = check_page_size(page_size, default=INBOX_DEFAULT, maximum=INBOX_MAX)
    after = _token(page_token)
    rows = await open_inquiries(
        session, territory=principal.territory, after=after, limit=limit + 1
    )
    return await _views(session, rows[:limit]), rows[limit - 1].id if len(rows) > limit else ""


async def answer_inquiry(
    session: AsyncSession, *, principal: Principal, inquiry_id: str, now: datetime | None = None
) -> InquiryView:
    """The office answers from the bank as it stands: the families on record with a member of
    that name and birth date, each member with only the fields the purpose allows (REG-8).
    The REG-8 term is met; the answer is kept for the requester alone."""
    _require_office(principal)
    inquiry = await lock_inquiry(session, parse_id(inquiry_id, field="inquiry_id"))
    if inquiry is None:
        raise NotFound("inquiry not found")
    require_territory(principal, inquiry.territory, entity="inquiry")
    _profile_for(inquiry.territory, asking.INQUIRY_RULE)
    if inquiry.state != OPEN:
        raise Conflict("the inquiry is already answered (REG-8)", code="inquiry-answered")
    lawful = asking.PURPOSES[inquiry.purpose]
    families = await matching_families(
        session,
        territory=inquiry.territory,
        name_key=rules.search_key(inquiry.subject_full_name),
        birth_date=inquiry.subject_birth_date,
    )
    members = await models.members_of_many(session, [f.id for f in families])
    grounds = await _grounds(session, families)
    now = now or utcnow()
    inquiry.answer = {
        "on_record": bool(families),
        "fields": list(lawful.fields),
        "families": [_disclosed(lawful, f, members[f.id], grounds.get(f.id, "")) for f in families],
    }
    inquiry.family_ids = [f.id for f in families]
    inquiry.state = ANSWERED
    inquiry.office_id = principal.agency
    inquiry.answered_by = principal.subject
    inquiry.answered_at = now
    session.add(inquiry)
    for row in await obligations.for_subject(
        session, f"inquiry/{inquiry.id}", rule=asking.INQUIRY_RULE
    ):
        row.responsible_agency = principal.agency
        obligations.meet(session, row, at=now)
    audit.record_many(
        session,
        principal=principal,
        action="read",
        entities=[f"inquiry/{inquiry.id}", *(f"family/{f.id}" for f in families)],
        purpose=f"REG-8 answer: {lawful.code}",
    )
    await session.flush()
    return await _view(session, inquiry.id)


async def list_own(
    session: AsyncSession, *, principal: Principal, page_size: int, page_token: str
) -> tuple[list[InquiryView], str]:
    """The caller agency's requests, newest first, without the person or the answer."""
    asking.check_requester(principal)
    _profile_for(principal.territory, asking.INQUIRY_RULE)
    limit = check_page_size(page_size)
    rows = await inquiries_of(
        session, agency=principal.agency, before=_token(page_token), limit=limit + 1
    )
    return await _views(session, rows[:limit]), rows[limit - 1].id if len(rows) > limit else ""


async def get_inquiry(
    session: AsyncSession, *, principal: Principal, inquiry_id: str
) -> InquiryView:
    """One request of the caller's own agency with its answer: the answer goes only to the
    body that asked (REG-8); to anyone else the request does not exist. Audited (REG-9)."""
    asking.check_requester(principal)
    _profile_for(principal.territory, asking.INQUIRY_RULE)
    inquiry = await session.get(Inquiry, parse_id(inquiry_id, field="inquiry_id"))
    if inquiry is None or inquiry.requester_agency != principal.agency:
        raise NotFound("inquiry not found")
    audit.record_many(
        session,
        principal=principal,
        action="read",
        entities=[f"inquiry/{inquiry.id}", *(f"family/{f}" for f in inquiry.family_ids)],
        purpose=f"REG-8 answer read: {inquiry.purpose}",
    )
    view = await _view(session, inquiry.id)
    return InquiryView(view.inquiry, view.obligations, disclosed=True)


def _disclosed(
    lawful: asking.LawfulPurpose, family: Family, members: list[FamilyMember], grounds: str
) -> dict[str, object]:
    people = [
        asking.disclose(
            lawful,
            {
                "full_name": m.full_name,
                "relation": m.relation,
                "birth_date": m.birth_date.isoformat(),
                "birth_place": m.birth_place,
                "registered_address": m.registered_address,
                "actual_address": m.actual_address,
                "document": {
                    "kind": m.document_kind,
                    "series": m.document_series,
                    "number": m.document_number,
                    "issued_on": m.document_issued_on.isoformat() if m.document_issued_on else "",
                },
                "disability": m.disability,
                "work_or_study": m.work_or_study,
            },
        )
        | {"is_minor": m.is_minor}
        for m in members
    ]
    return {
        "members": people,
        **asking.disclose(
            lawful, {"responsible_body": family.responsible_body, "grounds": grounds}
        ),
    }


async def _grounds(session: AsyncSession, families: list[Family]) -> dict[str, str]:
    """The grounds of each family's registration decision (REG-1)."""
    out: dict[str, str] = {}
    for family in families:
        for d in await models.decisions_of(session, family.id):
            if d.kind == rules.DecisionKind.REGISTRATION:
                out[family.id] = d.grounds
    return out


def _token(page_token: str) -> str:
    try:
        return parse_id(page_token, field="page_token") if page_token else ""
    except Invalid:
        raise Invalid("page_token", "is not a token this list returned") from None


async def _views(session: AsyncSession, rows: list[Inquiry]) -> list[InquiryView]:
    found = await obligations.for_subjects(session, [f"inquiry/{i.id}" for i in rows])
    return [InquiryView(i, found.get(f"inquiry/{i.id}", [])) for i in rows]


async def _view(session: AsyncSession, inquiry_id: str) -> InquiryView:
    inquiry = await session.get(Inquiry, inquiry_id)
    if inquiry is None:
        raise NotFound("inquiry not found")
    return InquiryView(inquiry, await obligations.for_subject(session, f"inquiry/{inquiry.id}"))
