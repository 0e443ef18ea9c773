"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import grpc

from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.protoconv import parse_date, ts
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc
from kamqor.runtime import Wiring
from registry import rules, service
from registry.models import Decision, FamilyMember
from registry.servicer.reporting import ReportingServicer

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (
    pb.RecordRegistrationDecisionRequest.DESCRIPTOR.fields_by_name["grounds"],
    pb.RecordDeregistrationRequest.DESCRIPTOR.fields_by_name["grounds"],
    pb.RecordReviewRequest.DESCRIPTOR.fields_by_name["grounds"],
    pb.CreateInquiryRequest.DESCRIPTOR.fields_by_name["reason"],
)

_DOCUMENTS = {
    pb.DOCUMENT_KIND_PASSPORT: rules.DocumentKind.PASSPORT,
    pb.DOCUMENT_KIND_BIRTH_CERTIFICATE: rules.DocumentKind.BIRTH_CERTIFICATE,
}
_DOCUMENT_PB = {v: k for k, v in _DOCUMENTS.items()}
_KIND_PB = {
    rules.DecisionKind.REGISTRATION: pb.DECISION_KIND_REGISTRATION,
    rules.DecisionKind.DEREGISTRATION: pb.DECISION_KIND_DEREGISTRATION,
    rules.DecisionKind.REVIEW: pb.DECISION_KIND_REVIEW,
}
_CHOICES = {
    pb.BALLOT_CHOICE_FOR: rules.BallotChoice.FOR,
    pb.BALLOT_CHOICE_AGAINST: rules.BallotChoice.AGAINST,
    pb.BALLOT_CHOICE_ABSTAIN: rules.BallotChoice.ABSTAIN,
}
_CHOICE_PB = {v: k for k, v in _CHOICES.items()}
_OUTCOMES = {
    pb.REVIEW_OUTCOME_KEEP: rules.ReviewOutcome.KEEP,
    pb.REVIEW_OUTCOME_DEREGISTER: rules.ReviewOutcome.DEREGISTER,
}
_DECISION_STATE_PB = {
    rules.DecisionState.RECORDED: pb.DECISION_STATE_RECORDED,
    rules.DecisionState.SENT: pb.DECISION_STATE_SENT,
    rules.DecisionState.RECEIVED: pb.DECISION_STATE_RECEIVED,
    rules.DecisionState.ENTERED: pb.DECISION_STATE_ENTERED,
}
_FAMILY_STATE_PB = {
    rules.FamilyState.PENDING: pb.FAMILY_STATE_PENDING,
    rules.FamilyState.REGISTERED: pb.FAMILY_STATE_REGISTERED,
    rules.FamilyState.DEREGISTERED: pb.FAMILY_STATE_DEREGISTERED,
}


def _date(value: str, field: str) -> date:
    parsed = parse_date(value, field=field)
    assert parsed is not None
    return parsed


def _person_in(msg: pb.Person, field: str) -> rules.PersonIn:
    document = None
    if msg.HasField("document"):
        kind = _DOCUMENTS.get(msg.document.kind)
        if kind is None:
            raise Invalid(
                f"{field}.document.kind",
                f"must be one of {sorted(k.value for k in rules.DocumentKind)}",
            )
        document = rules.Document(
            kind=kind,
            series=msg.document.series,
            number=msg.document.number,
            issued_on=parse_date(
                msg.document.issued_on, field=f"{field}.document.issued_on", required=False
            ),
        )
    return rules.PersonIn(
        full_name=msg.full_name,
        relation=msg.relation,
        birth_date=_date(msg.birth_date, f"{field}.birth_date"),
        birth_place=msg.birth_place,
        registered_address=msg.registered_address,
        actual_address=msg.actual_address,
        document=document,
        disability=msg.disability,
        work_or_study=msg.work_or_study,
    )


def _vote(msg: pb.Vote) -> rules.Vote:
    return rules.Vote(
        members_present=msg.members_present,
        votes_for=msg.votes_for,
        votes_against=msg.votes_against,
    )


def _hearing(msg: pb.Hearing) -> rules.Hearing:
    return rules.Hearing(
        prevention_bodies_heard=msg.prevention_bodies_heard,
        minor_opinion_heard=msg.minor_opinion_heard,
        parents_opinion_heard=msg.parents_opinion_heard,
        minor_not_heard_reason=msg.minor_not_heard_reason,
        documents_reviewed=tuple(msg.documents_reviewed),
    )


def _ballots(msgs: Sequence[pb.Ballot]) -> list[rules.Ballot]:
    return [
        rules.Ballot(
            member_id=b.member_id,
            choice=_CHOICES.get(b.choice),
            conflict_of_interest=b.conflict_of_interest,
        )
        for b in msgs
    ]


def _ballot_pb(row: dict[str, object]) -> pb.Ballot:
    return pb.Ballot(
        member_id=str(row["member_id"]),
        choice=_CHOICE_PB[rules.BallotChoice(str(row["choice"]))],
        conflict_of_interest=bool(row["conflict_of_interest"]),
    )


def _session_pb(view: service.SessionView) -> pb.Session:
    s = view.sitting
    return pb.Session(
        id=s.id,
        territory=s.territory,
        commission_id=s.commission_id,
        held_on=s.held_on.isoformat(),
        composition_size=s.composition_size,
        members_present=[
            pb.SessionMember(member_id=m["member_id"], full_name=m["full_name"]) for m in s.members
        ],
        quorum=s.quorum,
        agenda=[
            pb.AgendaItem(
                family_id=d.family_id,
                decision_id=d.id,
                kind=_KIND_PB[rules.DecisionKind(d.kind)],
            )
            for d in view.agenda
        ],
        recorded_by=s.recorded_by,
        recorded_at=ts(s.recorded_at),
    )


def _change_pb(view: service.ChangeView) -> pb.Change:
    c = view.change
    return pb.Change(
        id=c.id,
        family_id=c.family_id,
        territory=c.territory,
        changed_on=c.changed_on.isoformat(),
        fields=[
            pb.FieldChange(member_id=f["member_id"], field=f["field"], value=f["value"])
            for f in c.fields
        ],
        state=c.state,
        reported_by=c.reported_by,
        reporting_agency=c.reporting_agency,
        reported_at=ts(c.reported_at),
        entered_by=c.entered_by,
        entered_at=ts(c.entered_at),
        obligations=[obligations.to_pb(o) for o in view.obligations],
    )


def _person_pb(m: FamilyMember) -> pb.Person:
    document = None
    if m.document_kind:
        document = pb.IdentityDocument(
            kind=_DOCUMENT_PB[rules.DocumentKind(m.document_kind)],
            series=m.document_series,
            number=m.document_number,
            issued_on=m.document_issued_on.isoformat() if m.document_issued_on else "",
        )
    return pb.Person(
        full_name=m.full_name,
        relation=m.relation,
        birth_date=m.birth_date.isoformat(),
        birth_place=m.birth_place,
        registered_address=m.registered_address,
        actual_address=m.actual_address,
        document=document,
        disability=m.disability,
        work_or_study=m.work_or_study,
        id=m.id,
    )


def _decision_pb(view: service.DecisionView) -> pb.Decision:
    d: Decision = view.decision
    return pb.Decision(
        id=d.id,
        family_id=d.family_id,
        territory=d.territory,
        kind=_KIND_PB[rules.DecisionKind(d.kind)],
        commission_id=d.commission_id,
        decided_on=d.decided_on.isoformat(),
        number=d.number,
        vote=pb.Vote(
            members_present=d.members_present, votes_for=d.votes_for, votes_against=d.votes_against
        ),
        hearing=pb.Hearing(
            prevention_bodies_heard=d.prevention_bodies_heard,
            minor_opinion_heard=d.minor_opinion_heard,
            parents_opinion_heard=d.parents_opinion_heard,
            minor_not_heard_reason=d.minor_not_heard_reason,
            documents_reviewed=d.documents_reviewed,
        ),
        grounds=d.grounds,
        state=_DECISION_STATE_PB[rules.DecisionState(d.state)],
        recorded_by=d.recorded_by,
        recorded_at=ts(d.recorded_at),
        office_id=d.office_id,
        received_at=ts(d.received_at),
        entered_at=ts(d.entered_at),
        obligations=[obligations.to_pb(o) for o in view.obligations],
        repeat_review=d.repeat_review,
        next_review_on=d.next_review_on.isoformat() if d.next_review_on else "",
        session_id=d.session_id,
        ballots=[_ballot_pb(b) for b in d.ballots],
        sent_by=d.sent_by,
        sent_at=ts(d.sent_at),
    )


def _family_pb(view: service.FamilyView) -> pb.Family:
    f = view.family
    return pb.Family(
        id=f.id,
        territory=f.territory,
        state=_FAMILY_STATE_PB[rules.FamilyState(f.state)],
        minors=[_person_pb(m) for m in view.members if m.is_minor],
        relatives=[_person_pb(m) for m in view.members if not m.is_minor],
        responsible_agency_id=f.responsible_agency_id,
        responsible_body=f.responsible_body,
        review_on=f.review_on.isoformat(),
        registered_at=ts(f.registered_at),
        deregistered_at=ts(f.deregistered_at),
        decisions=[_decision_pb(d) for d in view.decisions],
        obligations=[obligations.to_pb(o) for o in view.obligations],
        history=[
            pb.FieldHistory(
                member_id=h.member_id,
                field=h.field,
                old_value=h.old_value,
                new_value=h.new_value,
                change_id=h.change_id,
                entered_at=ts(h.entered_at),
            )
            for h in view.history
        ],
    )


def _summary_pb(hit: service.FamilySummary) -> pb.FamilySummary:
    f = hit.family
    return pb.FamilySummary(
        id=f.id,
        members=[_person_pb(m) for m in hit.members],
        responsible_body=f.responsible_body,
        review_on=f.review_on.isoformat(),
        registered_at=ts(f.registered_at),
    )


class RegistryServicer(ReportingServicer, registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def RecordRegistrationDecision(
        self, request: pb.RecordRegistrationDecisionRequest, context: Ctx
    ) -> pb.RecordRegistrationDecisionResponse:
        decided_on = _date(request.decided_on, "decided_on")
        review_on = _date(request.review_on, "review_on")
        minors = [_person_in(p, f"minors[{i}]") for i, p in enumerate(request.minors)]
        relatives = [_person_in(p, f"relatives[{i}]") for i, p in enumerate(request.relatives)]
        async with self._w.transaction() as session:
            view = await service.record_registration_decision(
                session,
                principal=current_principal(),
                decided_on=decided_on,
                number=request.number,
                vote=_vote(request.vote),
                hearing=_hearing(request.hearing),
                grounds=request.grounds,
                responsible_agency_id=request.responsible_agency_id,
                responsible_body=request.responsible_body,
                review_on=review_on,
                minors=minors,
                relatives=relatives,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
                session_id=request.session_id,
                ballots=_ballots(request.ballots),
            )
        return pb.RecordRegistrationDecisionResponse(
            decision=_decision_pb(view.decisions[0]), family=_family_pb(view)
        )

    async def ReceiveDecision(
        self, request: pb.ReceiveDecisionRequest, context: Ctx
    ) -> pb.ReceiveDecisionResponse:
        async with self._w.transaction() as session:
            view = await service.receive_decision(
                session, principal=current_principal(), decision_id=request.decision_id
            )
        return pb.ReceiveDecisionResponse(decision=_decision_pb(view))

    async def EnterFamily(
        self, request: pb.EnterFamilyRequest, context: Ctx
    ) -> pb.EnterFamilyResponse:
        async with self._w.transaction() as session:
            view = await service.enter_family(
                session, principal=current_principal(), decision_id=request.decision_id
            )
        return pb.EnterFamilyResponse(family=_family_pb(view))

    async def GetFamily(self, request: pb.GetFamilyRequest, context: Ctx) -> pb.GetFamilyResponse:
        async with self._w.transaction() as session:
            view = await service.get_family(
                session,
                principal=current_principal(),
                family_id=request.family_id,
                purpose=request.purpose,
            )
        return pb.GetFamilyResponse(family=_family_pb(view))

    async def RecordDeregistration(
        self, request: pb.RecordDeregistrationRequest, context: Ctx
    ) -> pb.RecordDeregistrationResponse:
        decided_on = _date(request.decided_on, "decided_on")
        async with self._w.transaction() as session:
            view = await service.record_deregistration(
                session,
                principal=current_principal(),
                family_id=request.family_id,
                decided_on=decided_on,
                number=request.number,
                vote=_vote(request.vote),
                hearing=_hearing(request.hearing),
                grounds=request.grounds,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
                session_id=request.session_id,
                ballots=_ballots(request.ballots),
            )
        return pb.RecordDeregistrationResponse(decision=_decision_pb(view))

    async def RemoveFamily(
        self, request: pb.RemoveFamilyRequest, context: Ctx
    ) -> pb.RemoveFamilyResponse:
        async with self._w.transaction() as session:
            view = await service.remove_family(
                session, principal=current_principal(), decision_id=request.decision_id
            )
        return pb.RemoveFamilyResponse(decision=_decision_pb(view))

    async def RecordReview(
        self, request: pb.RecordReviewRequest, context: Ctx
    ) -> pb.RecordReviewResponse:
        decided_on = _date(request.decided_on, "decided_on")
        outcome = _OUTCOMES.get(request.outcome)
        if outcome is None:
            raise Invalid(
                "outcome", f"must be one of {sorted(o.value for o in rules.ReviewOutcome)}"
            )
        next_review_on = parse_date(request.next_review_on, field="next_review_on", required=False)
        async with self._w.transaction() as session:
            view = await service.record_review(
                session,
                principal=current_principal(),
                family_id=request.family_id,
                decided_on=decided_on,
                number=request.number,
                vote=_vote(request.vote),
                hearing=_hearing(request.hearing),
                grounds=request.grounds,
                outcome=outcome,
                next_review_on=next_review_on,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
                session_id=request.session_id,
                ballots=_ballots(request.ballots),
            )
        return pb.RecordReviewResponse(decision=_decision_pb(view))

    async def OpenSession(
        self, request: pb.OpenSessionRequest, context: Ctx
    ) -> pb.OpenSessionResponse:
        held_on = _date(request.held_on, "held_on")
        members = [
            rules.SessionMember(member_id=m.member_id, full_name=m.full_name)
            for m in request.members_present
        ]
        async with self._w.transaction() as session:
            view = await service.open_session(
                session,
                principal=current_principal(),
                held_on=held_on,
                composition_size=request.composition_size,
                members_present=members,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.OpenSessionResponse(session=_session_pb(view))

    async def GetSession(
        self, request: pb.GetSessionRequest, context: Ctx
    ) -> pb.GetSessionResponse:
        async with self._w.transaction() as session:
            view = await service.get_session(
                session, principal=current_principal(), session_id=request.session_id
            )
        return pb.GetSessionResponse(session=_session_pb(view))

    async def SendDecision(
        self, request: pb.SendDecisionRequest, context: Ctx
    ) -> pb.SendDecisionResponse:
        async with self._w.transaction() as session:
            view = await service.send_decision(
                session, principal=current_principal(), decision_id=request.decision_id
            )
        return pb.SendDecisionResponse(decision=_decision_pb(view))

    async def ListOfficeInbox(
        self, request: pb.ListOfficeInboxRequest, context: Ctx
    ) -> pb.ListOfficeInboxResponse:
        async with self._w.transaction() as session:
            views, token, changes = await service.list_office_inbox(
                session,
                principal=current_principal(),
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListOfficeInboxResponse(
            decisions=[_decision_pb(v) for v in views],
            next_page_token=token,
            changes=[_change_pb(c) for c in changes],
        )

    async def ReportChange(
        self, request: pb.ReportChangeRequest, context: Ctx
    ) -> pb.ReportChangeResponse:
        changed_on = _date(request.changed_on, "changed_on")
        fields = [
            rules.FieldChange(member_id=f.member_id, field=f.field, value=f.value)
            for f in request.fields
        ]
        async with self._w.transaction() as session:
            view = await service.report_change(
                session,
                principal=current_principal(),
                family_id=request.family_id,
                changed_on=changed_on,
                fields=fields,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.ReportChangeResponse(change=_change_pb(view))

    async def EnterChange(
        self, request: pb.EnterChangeRequest, context: Ctx
    ) -> pb.EnterChangeResponse:
        async with self._w.transaction() as session:
            view = await service.enter_change(
                session, principal=current_principal(), change_id=request.change_id
            )
        return pb.EnterChangeResponse(change=_change_pb(view))

    async def SearchFamilies(
        self, request: pb.SearchFamiliesRequest, context: Ctx
    ) -> pb.SearchFamiliesResponse:
        birth_date = parse_date(request.birth_date, field="birth_date", required=False)
        async with self._w.transaction() as session:
            hits, token = await service.search_families(
                session,
                principal=current_principal(),
                name=request.name,
                birth_date=birth_date,
                purpose=request.purpose,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.SearchFamiliesResponse(
            families=[_summary_pb(h) for h in hits], next_page_token=token
        )
