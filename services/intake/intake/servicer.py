"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from intake import (
    assessments,
    cases,
    families,
    indicators,
    journal,
    mobile_groups,
    models,
    rules,
    service,
    triage,
    workers,
)
from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.intake.v1 import intake_pb2_grpc
from kamqor.protoconv import page_size, parse_date, ts
from kamqor.runtime import Wiring

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (
    pb.RegisterAppealRequest.DESCRIPTOR.fields_by_name["summary"],
    pb.MergeFamiliesRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.CloseCaseRequest.DESCRIPTOR.fields_by_name["reason"],
    pb.RecordTriageRequest.DESCRIPTOR.fields_by_name["note"],
    pb.RecordTriageRequest.DESCRIPTOR.fields_by_name["immediate_measures"],
    pb.AssessCaseRequest.DESCRIPTOR.fields_by_name["notes"],
    pb.RecordHomeVisitRequest.DESCRIPTOR.fields_by_name["findings"],
    pb.FollowUpAppealRequest.DESCRIPTOR.fields_by_name["text"],
    pb.FollowUpAppealRequest.DESCRIPTOR.fields_by_name["reason"],
)

_CHANNELS = {
    pb.CHANNEL_IN_PERSON: rules.Channel.IN_PERSON,
    pb.CHANNEL_PHONE: rules.Channel.PHONE,
    pb.CHANNEL_ONLINE: rules.Channel.ONLINE,
    pb.CHANNEL_HOTLINE_111: rules.Channel.HOTLINE_111,
    pb.CHANNEL_STATE_SYSTEM: rules.Channel.STATE_SYSTEM,
    pb.CHANNEL_REPORT: rules.Channel.REPORT,
    pb.CHANNEL_MEDIA: rules.Channel.MEDIA,
    pb.CHANNEL_MOBILE_GROUP: rules.Channel.MOBILE_GROUP,
    pb.CHANNEL_SIGNAL_CARD: rules.Channel.SIGNAL_CARD,
}
_CHANNEL_PB = {v: k for k, v in _CHANNELS.items()}
_ORDERS = {
    pb.APPEAL_ORDER_UNSPECIFIED: service.AppealOrder.NEWEST_FIRST,
    pb.APPEAL_ORDER_NEWEST_FIRST: service.AppealOrder.NEWEST_FIRST,
    pb.APPEAL_ORDER_OLDEST_FIRST: service.AppealOrder.OLDEST_FIRST,
    pb.APPEAL_ORDER_JOURNAL_NUMBER: service.AppealOrder.JOURNAL_NUMBER,
}
_RELATIONS = {
    pb.RELATION_APPLICANT: rules.Relation.APPLICANT,
    pb.RELATION_MOTHER: rules.Relation.MOTHER,
    pb.RELATION_FATHER: rules.Relation.FATHER,
    pb.RELATION_CHILD: rules.Relation.CHILD,
    pb.RELATION_OTHER: rules.Relation.OTHER,
}
_RELATION_PB = {v: k for k, v in _RELATIONS.items()}
_DOCUMENT_KINDS = {
    pb.DOCUMENT_KIND_PASSPORT: rules.DocumentKind.PASSPORT,
    pb.DOCUMENT_KIND_ID_CARD: rules.DocumentKind.ID_CARD,
    pb.DOCUMENT_KIND_BIRTH_CERTIFICATE: rules.DocumentKind.BIRTH_CERTIFICATE,
    pb.DOCUMENT_KIND_RESIDENCE_PERMIT: rules.DocumentKind.RESIDENCE_PERMIT,
    pb.DOCUMENT_KIND_OTHER: rules.DocumentKind.OTHER,
}
_DOCUMENT_KIND_PB = {v: k for k, v in _DOCUMENT_KINDS.items()}
_MATCHED_BY_PB = {
    families.MatchedBy.IDENTIFIER: pb.MATCHED_BY_IDENTIFIER,
    families.MatchedBy.OPERATOR: pb.MATCHED_BY_OPERATOR,
    families.MatchedBy.NEW: pb.MATCHED_BY_NEW,
}


def _person(msg: pb.Person, i: int) -> rules.PersonIn:
    relation = _RELATIONS.get(msg.relation)
    if relation is None:
        raise Invalid(f"persons[{i}].relation", "is required")
    birth = parse_date(msg.birth_date, field=f"persons[{i}].birth_date", required=False)
    documents = []
    for j, doc in enumerate(msg.documents):
        kind = _DOCUMENT_KINDS.get(doc.kind)
        if kind is None:
            raise Invalid(
                f"persons[{i}].documents[{j}].kind",
                f"must be one of {sorted(k.value for k in rules.DocumentKind)}",
            )
        documents.append(rules.DocumentIn(kind=kind, number=doc.number))
    return rules.PersonIn(
        full_name=msg.full_name,
        relation=relation,
        birth_date=birth,
        iin=msg.iin.strip(),
        snils=msg.snils.strip(),
        documents=tuple(documents),
    )


def _documents_pb(docs: list[models.PersonDocument]) -> list[pb.IdentityDocument]:
    return [
        pb.IdentityDocument(kind=_DOCUMENT_KIND_PB[rules.DocumentKind(d.kind)], number=d.number)
        for d in docs
    ]


def _person_pb(p: models.AppealPerson, family: families.AppealFamilyView | None) -> pb.Person:
    out = pb.Person(
        full_name=p.full_name,
        relation=_RELATION_PB[rules.Relation(p.relation)],
        birth_date=p.birth_date.isoformat() if p.birth_date else "",
    )
    member = family.members.get(p.id) if family else None
    if family is not None and member is not None:
        out.person_id = member.id
        out.iin = member.iin
        out.snils = member.snils
        out.documents.extend(_documents_pb(family.documents.get(p.id, [])))
    return out


def _journal_query(request: pb.ListAppealsRequest) -> service.JournalQuery:
    channel = None
    if request.channel != pb.CHANNEL_UNSPECIFIED:
        channel = _CHANNELS.get(request.channel)
        if channel is None:
            raise Invalid("channel", f"must be one of {sorted(c.value for c in rules.Channel)}")
    order = _ORDERS.get(request.order)
    if order is None:
        raise Invalid("order", f"must be one of {sorted(o.value for o in service.AppealOrder)}")
    return service.JournalQuery(
        channel=channel,
        threat_to_life=request.threat_to_life if request.HasField("threat_to_life") else None,
        registered_from=parse_date(
            request.registered_from, field="registered_from", required=False
        ),
        registered_to=parse_date(request.registered_to, field="registered_to", required=False),
        order=order,
        family_id=request.family_id.strip(),
        case_id=request.case_id.strip(),
    )


_FOLLOW_UP_KINDS = {
    pb.FOLLOW_UP_KIND_INFORMATION: rules.FollowUpKind.INFORMATION,
    pb.FOLLOW_UP_KIND_CORRECTION: rules.FollowUpKind.CORRECTION,
}
_FOLLOW_UP_KIND_PB = {v: k for k, v in _FOLLOW_UP_KINDS.items()}
_CORRECTED_FIELDS = {
    pb.CORRECTED_FIELD_SUMMARY: rules.CorrectedField.SUMMARY,
    pb.CORRECTED_FIELD_CHANNEL: rules.CorrectedField.CHANNEL,
}
_CORRECTED_FIELD_PB = {v: k for k, v in _CORRECTED_FIELDS.items()}


def _follow_up_pb(f: models.JournalFollowUp) -> pb.JournalFollowUp:
    return pb.JournalFollowUp(
        id=f.id,
        journal_number=f.journal_number,
        kind=_FOLLOW_UP_KIND_PB[rules.FollowUpKind(f.kind)],
        appeal_id=f.appeal_id,
        text=f.text,
        corrected_field=(
            _CORRECTED_FIELD_PB[rules.CorrectedField(f.corrected_field)]
            if f.corrected_field
            else pb.CORRECTED_FIELD_UNSPECIFIED
        ),
        channel=_CHANNEL_PB[rules.Channel(f.channel)] if f.channel else pb.CHANNEL_UNSPECIFIED,
        reason=f.reason,
        recorded_at=ts(f.recorded_at),
        recorded_by=f.recorded_by,
    )


def _follow_up_in(request: pb.FollowUpAppealRequest) -> rules.FollowUpIn:
    kind = _FOLLOW_UP_KINDS.get(request.kind)
    if kind is None:
        raise Invalid("kind", f"must be one of {[k.value for k in rules.FollowUpKind]}")
    corrected = None
    if request.corrected_field != pb.CORRECTED_FIELD_UNSPECIFIED:
        corrected = _CORRECTED_FIELDS.get(request.corrected_field)
        if corrected is None:
            raise Invalid(
                "corrected_field", f"must be one of {[f.value for f in rules.CorrectedField]}"
            )
    channel = None
    if request.channel != pb.CHANNEL_UNSPECIFIED:
        channel = _CHANNELS.get(request.channel)
        if channel is None:
            raise Invalid("channel", f"must be one of {sorted(c.value for c in rules.Channel)}")
    return rules.FollowUpIn(
        kind=kind,
        text=request.text,
        corrected_field=corrected,
        channel=channel,
        reason=request.reason,
    )


def _appeal_pb(view: service.AppealView) -> pb.Appeal:
    a = view.appeal
    summary_in_force, channel_in_force = journal.in_force(a, view.follow_ups)
    return pb.Appeal(
        id=a.id,
        journal_number=a.journal_number,
        center_id=a.center_id,
        territory=a.territory,
        channel=_CHANNEL_PB[rules.Channel(a.channel)],
        registered_at=ts(a.registered_at),
        summary=a.summary,
        persons=[_person_pb(p, view.family) for p in view.persons],
        threat_to_life=a.threat_to_life,
        domestic_violence=a.domestic_violence,
        obligations=[obligations.to_pb(o) for o in view.obligations],
        registered_by=a.registered_by,
        family_id=view.family.family_id if view.family else "",
        matched_by=(
            _MATCHED_BY_PB[view.family.matched_by] if view.family else pb.MATCHED_BY_UNSPECIFIED
        ),
        likely_families=[
            pb.FamilyMatch(
                family_id=m.family_id,
                person_index=m.person_index,
                full_name=m.full_name,
                birth_date=m.birth_date.isoformat() if m.birth_date else "",
                score=m.score,
            )
            for m in view.likely
        ],
        case_id=view.case.case_id if view.case else "",
        opened_case=view.case.opened if view.case else False,
        triage=[_triage_pb(t) for t in view.triage],
        follow_ups=[_follow_up_pb(f) for f in view.follow_ups],
        summary_in_force=summary_in_force,
        channel_in_force=_CHANNEL_PB[rules.Channel(channel_in_force)],
    )


_TRIAGE_KINDS = {
    pb.TRIAGE_KIND_CONSULTATION: rules.TriageKind.CONSULTATION,
    pb.TRIAGE_KIND_REDIRECT: rules.TriageKind.REDIRECT,
    pb.TRIAGE_KIND_PRIMARY_ASSESSMENT: rules.TriageKind.PRIMARY_ASSESSMENT,
    pb.TRIAGE_KIND_IDENTIFICATION_REDIRECT: rules.TriageKind.IDENTIFICATION_REDIRECT,
}
_TRIAGE_KIND_PB = {v: k for k, v in _TRIAGE_KINDS.items()}


def _triage_pb(action: models.TriageAction) -> pb.TriageAction:
    out = pb.TriageAction(
        id=action.id,
        kind=_TRIAGE_KIND_PB[rules.TriageKind(action.kind)],
        at=ts(action.at),
        by=action.by,
        organisation=action.organisation,
        note=action.note,
        immediate_measures=action.immediate_measures,
        mobile_group_id=action.mobile_group_id or "",
    )
    if action.in_dls is not None:
        out.in_dls = action.in_dls
    return out


_CASE_STATE_PB = {cases.OPEN: pb.CASE_STATE_OPEN, cases.CLOSED: pb.CASE_STATE_CLOSED}


def _group_pb(view: mobile_groups.GroupView) -> pb.MobileGroup:
    g = view.group
    return pb.MobileGroup(
        id=g.id,
        territory=g.territory,
        year=g.year,
        approved_on=g.approved_on.isoformat(),
        order_number=g.order_number,
        approved_by=g.approved_by,
        members=[
            pb.MobileGroupMember(
                agency_type=m.agency_type, agency=m.agency, representative=m.representative
            )
            for m in view.members
        ],
    )


_OUTCOMES = {
    pb.OUTCOME_DLS: rules.Outcome.DLS,
    pb.OUTCOME_SDP: rules.Outcome.SDP,
    pb.OUTCOME_RISK_OF_DLS: rules.Outcome.RISK_OF_DLS,
    pb.OUTCOME_NONE: rules.Outcome.NONE,
}
_OUTCOME_PB = {v: k for k, v in _OUTCOMES.items()}
_CONSENTS = {
    pb.CONSENT_GIVEN: rules.Consent.GIVEN,
    pb.CONSENT_REFUSED: rules.Consent.REFUSED,
    pb.CONSENT_NOT_REQUIRED: rules.Consent.NOT_REQUIRED,
}
_CONSENT_PB = {v: k for k, v in _CONSENTS.items()}


def _assessment_pb(a: models.CaseAssessment, levels: list[models.AssessmentLevel]) -> pb.Assessment:
    outcome, consent = rules.Outcome(a.outcome), rules.Consent(a.consent)
    return pb.Assessment(
        id=a.id,
        outcome=_OUTCOME_PB[outcome],
        consent=_CONSENT_PB[consent],
        support_contract=a.support_contract,
        resolution=a.resolution,
        notes=a.notes,
        assessed_at=ts(a.assessed_at),
        assessed_by=a.assessed_by,
        levels=[
            pb.SupportLevel(person_id=lv.person_id, level=lv.level, signs=lv.signs) for lv in levels
        ],
        proceeds=rules.proceeds(rules.AssessmentIn(outcome=outcome, consent=consent)),
    )


def _case_pb(view: cases.CaseView) -> pb.Case:
    c = view.case
    return pb.Case(
        id=c.id,
        territory=c.territory,
        center_id=c.center_id,
        family_id=view.family_id,
        state=_CASE_STATE_PB[c.state],
        opened_at=ts(c.opened_at),
        opened_by=c.opened_by,
        closed_at=ts(c.closed_at),
        closed_by=c.closed_by or "",
        close_reason=c.close_reason or "",
        appeal_ids=view.appeal_ids,
        assessments=[_assessment_pb(a, levels) for a, levels in view.assessments],
        worker=_worker_pb(view.worker) if view.worker else None,
        home_visits=[
            pb.HomeVisit(
                id=v.id,
                visited_on=v.visited_on.isoformat(),
                findings=v.findings,
                recorded_at=ts(v.recorded_at),
                recorded_by=v.recorded_by,
            )
            for v in view.home_visits
        ],
    )


def _worker_pb(a: models.CaseAssignment) -> pb.CaseWorkerAssignment:
    return pb.CaseWorkerAssignment(
        worker=a.worker,
        level=a.level,
        caseload=a.caseload,
        recommended=a.recommended,
        over_recommendation=a.over_recommendation,
        assigned_at=ts(a.assigned_at),
        assigned_by=a.assigned_by,
    )


def _family_pb(view: families.FamilyView) -> pb.Family:
    return pb.Family(
        id=view.family.id,
        territory=view.family.territory,
        created_at=ts(view.family.created_at),
        members=[
            pb.FamilyMember(
                id=m.id,
                full_name=m.full_name,
                relation=_RELATION_PB[rules.Relation(m.relation)],
                birth_date=m.birth_date.isoformat() if m.birth_date else "",
                iin=m.iin,
                snils=m.snils,
                documents=_documents_pb(view.documents.get(m.id, [])),
                family_id=m.family_id,
            )
            for m in view.members
        ],
        merged_family_ids=view.merged_family_ids,
        appeal_ids=view.appeal_ids,
    )


def _merge_pb(record: models.FamilyMerge) -> pb.FamilyMergeRecord:
    return pb.FamilyMergeRecord(
        id=record.id,
        kept_family_id=record.kept_family_id,
        merged_family_id=record.merged_family_id,
        reason=record.reason,
        merged_at=ts(record.merged_at),
        merged_by=record.merged_by,
        undone_at=ts(record.undone_at),
        undone_by=record.undone_by or "",
    )


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def RegisterAppeal(
        self, request: pb.RegisterAppealRequest, context: Ctx
    ) -> pb.RegisterAppealResponse:
        channel = _CHANNELS.get(request.channel)
        if channel is None:
            raise Invalid("channel", f"must be one of {sorted(c.value for c in rules.Channel)}")
        persons = [_person(p, i) for i, p in enumerate(request.persons)]
        async with self._w.transaction() as session:
            view = await service.register_appeal(
                session,
                principal=current_principal(),
                channel=channel,
                summary=request.summary,
                persons=persons,
                threat_to_life=request.threat_to_life,
                domestic_violence=request.domestic_violence,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
                family_id=request.family_id.strip(),
            )
        return pb.RegisterAppealResponse(appeal=_appeal_pb(view))

    async def GetAppeal(self, request: pb.GetAppealRequest, context: Ctx) -> pb.GetAppealResponse:
        async with self._w.transaction() as session:
            view = await service.get_appeal(
                session, principal=current_principal(), appeal_id=request.appeal_id
            )
        return pb.GetAppealResponse(appeal=_appeal_pb(view))

    async def ListAppeals(
        self, request: pb.ListAppealsRequest, context: Ctx
    ) -> pb.ListAppealsResponse:
        query = _journal_query(request)
        async with self._w.transaction() as session:
            views, token = await service.list_appeals(
                session,
                principal=current_principal(),
                page_token=request.page_token,
                page_size=page_size(request.page_size),
                query=query,
            )
        return pb.ListAppealsResponse(appeals=[_appeal_pb(v) for v in views], next_page_token=token)

    async def GetFamily(self, request: pb.GetFamilyRequest, context: Ctx) -> pb.GetFamilyResponse:
        async with self._w.transaction() as session:
            view = await families.get_family(
                session, principal=current_principal(), family_id=request.family_id
            )
        return pb.GetFamilyResponse(family=_family_pb(view))

    async def MergeFamilies(
        self, request: pb.MergeFamiliesRequest, context: Ctx
    ) -> pb.MergeFamiliesResponse:
        async with self._w.transaction() as session:
            record, view = await families.merge_families(
                session,
                principal=current_principal(),
                kept_family_id=request.kept_family_id,
                merged_family_id=request.merged_family_id,
                reason=request.reason,
            )
        return pb.MergeFamiliesResponse(merge=_merge_pb(record), family=_family_pb(view))

    async def UndoMerge(self, request: pb.UndoMergeRequest, context: Ctx) -> pb.UndoMergeResponse:
        async with self._w.transaction() as session:
            record = await families.undo_merge(
                session, principal=current_principal(), merge_id=request.merge_id
            )
        return pb.UndoMergeResponse(merge=_merge_pb(record))

    async def GetCase(self, request: pb.GetCaseRequest, context: Ctx) -> pb.GetCaseResponse:
        async with self._w.transaction() as session:
            view = await cases.get_case(
                session, principal=current_principal(), case_id=request.case_id
            )
        return pb.GetCaseResponse(case=_case_pb(view))

    async def CloseCase(self, request: pb.CloseCaseRequest, context: Ctx) -> pb.CloseCaseResponse:
        async with self._w.transaction() as session:
            view = await cases.close_case(
                session,
                principal=current_principal(),
                case_id=request.case_id,
                reason=request.reason,
            )
        return pb.CloseCaseResponse(case=_case_pb(view))

    async def RecordTriage(
        self, request: pb.RecordTriageRequest, context: Ctx
    ) -> pb.RecordTriageResponse:
        kind = _TRIAGE_KINDS.get(request.kind)
        if kind is None:
            raise Invalid("kind", f"must be one of {sorted(k.value for k in rules.TriageKind)}")
        action = rules.TriageIn(
            kind=kind,
            organisation=request.organisation,
            in_dls=request.in_dls if request.HasField("in_dls") else None,
            note=request.note,
            immediate_measures=request.immediate_measures,
        )
        principal = current_principal()
        async with self._w.transaction() as session:
            appeal_id = await triage.record_triage(
                session,
                principal=principal,
                appeal_id=request.appeal_id,
                triage=action,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
            view = await service.get_appeal(
                session, principal=principal, appeal_id=appeal_id, audit_read=False
            )
        return pb.RecordTriageResponse(appeal=_appeal_pb(view))

    async def ApproveMobileGroup(
        self, request: pb.ApproveMobileGroupRequest, context: Ctx
    ) -> pb.ApproveMobileGroupResponse:
        approved_on = parse_date(request.approved_on, field="approved_on", required=True)
        assert approved_on is not None
        members = [
            rules.GroupMemberIn(m.agency_type, m.agency, m.representative) for m in request.members
        ]
        async with self._w.transaction() as session:
            view = await mobile_groups.approve(
                session,
                principal=current_principal(),
                year=request.year,
                approved_on=approved_on,
                order_number=request.order_number,
                members=members,
            )
        return pb.ApproveMobileGroupResponse(group=_group_pb(view))

    async def GetMobileGroup(
        self, request: pb.GetMobileGroupRequest, context: Ctx
    ) -> pb.GetMobileGroupResponse:
        async with self._w.transaction() as session:
            view = await mobile_groups.get(
                session, principal=current_principal(), year=request.year
            )
        return pb.GetMobileGroupResponse(group=_group_pb(view))

    async def AssessCase(
        self, request: pb.AssessCaseRequest, context: Ctx
    ) -> pb.AssessCaseResponse:
        outcome = _OUTCOMES.get(request.outcome)
        if outcome is None:
            raise Invalid("outcome", f"must be one of {sorted(o.value for o in rules.Outcome)}")
        consent = _CONSENTS.get(request.consent)
        if consent is None:
            raise Invalid("consent", f"must be one of {sorted(c.value for c in rules.Consent)}")
        assessment = rules.AssessmentIn(
            outcome=outcome,
            consent=consent,
            support_contract=request.support_contract,
            resolution=request.resolution,
            notes=request.notes,
            levels=tuple(
                rules.LevelIn(person_id=lv.person_id, level=lv.level, signs=tuple(lv.signs))
                for lv in request.levels
            ),
        )
        principal = current_principal()
        async with self._w.transaction() as session:
            case_id = await assessments.assess_case(
                session,
                principal=principal,
                case_id=request.case_id,
                assessment=assessment,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
            view = await cases.get_case(
                session, principal=principal, case_id=case_id, audit_read=False
            )
        return pb.AssessCaseResponse(case=_case_pb(view))

    async def AssignCaseWorker(
        self, request: pb.AssignCaseWorkerRequest, context: Ctx
    ) -> pb.AssignCaseWorkerResponse:
        principal = current_principal()
        async with self._w.transaction() as session:
            assigned = await workers.assign(
                session, principal=principal, case_id=request.case_id, worker=request.worker
            )
            view = await cases.get_case(
                session, principal=principal, case_id=assigned.assignment.case_id, audit_read=False
            )
        return pb.AssignCaseWorkerResponse(case=_case_pb(view), warning=assigned.warning)

    async def GetCaseloadReport(
        self, request: pb.GetCaseloadReportRequest, context: Ctx
    ) -> pb.GetCaseloadReportResponse:
        async with self._w.transaction() as session:
            rows = await workers.caseload_report(session, principal=current_principal())
        return pb.GetCaseloadReportResponse(
            rows=[
                pb.CaseloadRow(
                    worker=r.worker,
                    level=r.level,
                    cases=r.cases,
                    recommended=r.recommended,
                    over=r.over,
                    assigned_over=r.assigned_over,
                )
                for r in rows
            ]
        )

    async def RecordHomeVisit(
        self, request: pb.RecordHomeVisitRequest, context: Ctx
    ) -> pb.RecordHomeVisitResponse:
        visited_on = parse_date(request.visited_on, field="visited_on", required=True)
        assert visited_on is not None
        principal = current_principal()
        async with self._w.transaction() as session:
            case_id = await cases.record_home_visit(
                session,
                principal=principal,
                case_id=request.case_id,
                visited_on=visited_on,
                findings=request.findings,
            )
            view = await cases.get_case(
                session, principal=principal, case_id=case_id, audit_read=False
            )
        return pb.RecordHomeVisitResponse(case=_case_pb(view))

    async def FollowUpAppeal(
        self, request: pb.FollowUpAppealRequest, context: Ctx
    ) -> pb.FollowUpAppealResponse:
        entry = _follow_up_in(request)
        principal = current_principal()
        async with self._w.transaction() as session:
            appeal_id, follow_up_id = await journal.follow_up(
                session,
                principal=principal,
                appeal_id=request.appeal_id,
                entry=entry,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
            view = await service.get_appeal(
                session, principal=principal, appeal_id=appeal_id, audit_read=False
            )
        written = next(f for f in view.follow_ups if f.id == follow_up_id)
        return pb.FollowUpAppealResponse(appeal=_appeal_pb(view), follow_up=_follow_up_pb(written))

    async def ReportIntakeIndicators(
        self, request: pb.ReportIntakeIndicatorsRequest, context: Ctx
    ) -> pb.ReportIntakeIndicatorsResponse:
        async with self._w.transaction() as session:
            found = await indicators.report(
                session,
                principal=current_principal(),
                from_date=request.from_date,
                to_date=request.to_date,
                territory=request.territory,
            )
        return pb.ReportIntakeIndicatorsResponse(
            territory=found.territory,
            period_start=ts(found.start),
            period_end=ts(found.end),
            as_of=ts(found.as_of),
            families_accepted=found.families_accepted,
            accepted=[
                pb.AcceptedRow(
                    channel=_CHANNEL_PB[rules.Channel(channel)]
                    if channel
                    else pb.CHANNEL_UNSPECIFIED,
                    outcome=_OUTCOME_PB[rules.Outcome(outcome)],
                    level=level,
                    families=n,
                )
                for (channel, outcome, level), n in found.accepted.items()
            ],
            persons_accepted=[
                pb.LevelPersons(level=level, persons=n)
                for level, n in found.persons_accepted.items()
            ],
            level_changes=[
                pb.LevelChangeRow(
                    from_level=c.before,
                    to_level=c.after,
                    direction=_DIRECTION_PB[c.direction],
                    persons=c.persons,
                    families=c.families,
                )
                for c in found.level_changes
            ],
        )


_DIRECTION_PB = {
    None: pb.LEVEL_DIRECTION_UNSPECIFIED,
    rules.Direction.WORSE: pb.LEVEL_DIRECTION_WORSE,
    rules.Direction.BETTER: pb.LEVEL_DIRECTION_BETTER,
}
