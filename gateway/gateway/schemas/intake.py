"""The electronic journal of appeals (INT-2) and the obligations each entry opens (INT-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, cast
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    BirthDate,
    EnumMap,
    FreeText,
    IsoDate,
    Line,
    Obligation,
    at,
    input_config,
    iso_date,
    page_token_out,
    parse_date,
    when,
)
from kamqor.intake.v1 import intake_pb2 as pb

Channel = TypeAliasType(
    "Channel",
    Literal[
        "hotline_111",
        "in_person",
        "phone",
        "online",
        "state_system",
        "report",
        "media",
        "mobile_group",
        "signal_card",
    ],
)
Relation = TypeAliasType("Relation", Literal["applicant", "mother", "father", "child", "other"])
CHANNELS = EnumMap[pb.Channel.ValueType, Channel](pb.Channel, "CHANNEL_")
RELATIONS = EnumMap[pb.Relation.ValueType, Relation](pb.Relation, "RELATION_")
AppealOrder = TypeAliasType(
    "AppealOrder", Literal["newest_first", "oldest_first", "journal_number"]
)
APPEAL_ORDERS = EnumMap[pb.AppealOrder.ValueType, AppealOrder](pb.AppealOrder, "APPEAL_ORDER_")
IdentityDocumentKind = TypeAliasType(
    "IdentityDocumentKind",
    Literal["passport", "id_card", "birth_certificate", "residence_permit", "other"],
)
IDENTITY_DOCUMENT_KINDS = EnumMap[pb.DocumentKind.ValueType, IdentityDocumentKind](
    pb.DocumentKind, "DOCUMENT_KIND_"
)
MatchedBy = TypeAliasType("MatchedBy", Literal["identifier", "operator", "new"])
MATCHED_BY = EnumMap[pb.MatchedBy.ValueType, MatchedBy](pb.MatchedBy, "MATCHED_BY_")
CaseState = TypeAliasType("CaseState", Literal["open", "closed"])
CASE_STATES = EnumMap[pb.CaseState.ValueType, CaseState](pb.CaseState, "CASE_STATE_")
TriageKind = TypeAliasType(
    "TriageKind",
    Literal["consultation", "redirect", "primary_assessment", "identification_redirect"],
)
TRIAGE_KINDS = EnumMap[pb.TriageKind.ValueType, TriageKind](pb.TriageKind, "TRIAGE_KIND_")


class TriageIn(BaseModel):
    """A triage action on a journal entry (INT-3, INT-4, INT-7)."""

    model_config = input_config(
        {
            "kind": "primary_assessment",
            "in_dls": True,
            "note": "Rent arrears, eviction notice; needs assessment follows.",
        },
        {"kind": "redirect", "organisation": "police-ast", "note": "Threats by a neighbour."},
    )

    kind: TriageKind = Field(
        description="`consultation` and `redirect` meet INT-3/redirect (1 working day); "
        "`primary_assessment` INT-3/primary (3) or, under a threat, INT-3/threat (1); "
        "`identification_redirect` INT-7 (2)."
    )
    organisation: Line | None = Field(
        default=None,
        max_length=100,
        description="The competent organisation's agency id; required for redirections.",
    )
    in_dls: StrictBool | None = Field(
        default=None, description="Primary assessment: is the family in a DLS (required)."
    )
    note: FreeText = Field(default="", max_length=4000)
    immediate_measures: FreeText = Field(
        default="",
        max_length=4000,
        description="Required for the primary assessment of a threat to life or health (INT-4).",
    )

    def to_proto(self, appeal_id: UUID, idempotency_key: str | None) -> pb.RecordTriageRequest:
        request = pb.RecordTriageRequest(
            idempotency_key=idempotency_key or "",
            appeal_id=str(appeal_id),
            kind=TRIAGE_KINDS.to_proto(self.kind),
            organisation=self.organisation or "",
            note=self.note,
            immediate_measures=self.immediate_measures,
        )
        if self.in_dls is not None:
            request.in_dls = self.in_dls
        return request


class TriageAction(BaseModel):
    """A triage action that followed a journal entry; never edited."""

    id: UUID
    kind: TriageKind
    at: datetime
    by: str
    organisation: str | None
    in_dls: bool | None
    note: str
    immediate_measures: str
    mobile_group_id: UUID | None = Field(description="The mobile group a threat engaged (INT-4).")

    @classmethod
    def from_proto(cls, msg: pb.TriageAction) -> TriageAction:
        return cls(
            id=msg.id,
            kind=TRIAGE_KINDS.from_proto(msg.kind),
            at=at(msg, "at"),
            by=msg.by,
            organisation=msg.organisation or None,
            in_dls=msg.in_dls if msg.HasField("in_dls") else None,
            note=msg.note,
            immediate_measures=msg.immediate_measures,
            mobile_group_id=msg.mobile_group_id or None,
        )


FollowUpKind = TypeAliasType("FollowUpKind", Literal["information", "correction"])
FOLLOW_UP_KINDS = EnumMap[pb.FollowUpKind.ValueType, FollowUpKind](
    pb.FollowUpKind, "FOLLOW_UP_KIND_"
)
CorrectedField = TypeAliasType("CorrectedField", Literal["summary", "channel"])
CORRECTED_FIELDS = EnumMap[pb.CorrectedField.ValueType, CorrectedField](
    pb.CorrectedField, "CORRECTED_FIELD_"
)


class JournalFollowUpIn(BaseModel):
    """A later journal entry about an appeal (INT-2): further information, or a correction of
    its summary or channel saying why. The corrected entry is never rewritten."""

    model_config = input_config(
        {"kind": "information", "text": "The school confirms the child missed two weeks."},
        {
            "kind": "correction",
            "corrected_field": "channel",
            "channel": "hotline_111",
            "reason": "The call came through the hotline, not by phone to the center.",
        },
    )

    kind: FollowUpKind
    text: FreeText = Field(
        default="",
        max_length=4000,
        description="Information: the new information; a summary correction: the corrected "
        "summary.",
    )
    corrected_field: CorrectedField | None = Field(
        default=None, description="A correction: what it corrects."
    )
    channel: Channel | None = Field(
        default=None, description="A channel correction: the right one."
    )
    reason: FreeText = Field(
        default="", max_length=1000, description="A correction: why (required)."
    )

    def to_proto(self, appeal_id: UUID, idempotency_key: str | None) -> pb.FollowUpAppealRequest:
        return pb.FollowUpAppealRequest(
            idempotency_key=idempotency_key or "",
            appeal_id=str(appeal_id),
            kind=FOLLOW_UP_KINDS.to_proto(self.kind),
            text=self.text,
            corrected_field=(
                CORRECTED_FIELDS.to_proto(self.corrected_field)
                if self.corrected_field
                else pb.CORRECTED_FIELD_UNSPECIFIED
            ),
            channel=CHANNELS.to_proto(self.channel) if self.channel else pb.CHANNEL_UNSPECIFIED,
            reason=self.reason,
        )


class JournalFollowUp(BaseModel):
    """A later journal entry about an appeal, numbered in the center's journal; never edited."""

    id: UUID
    journal_number: str = Field(examples=["fc-ast-1/2026/000043"])
    kind: FollowUpKind
    appeal_id: UUID = Field(description="The entry it refers to.")
    text: str
    corrected_field: CorrectedField | None
    channel: Channel | None
    reason: str
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def from_proto(cls, msg: pb.JournalFollowUp) -> JournalFollowUp:
        return cls(
            id=msg.id,
            journal_number=msg.journal_number,
            kind=FOLLOW_UP_KINDS.from_proto(msg.kind),
            appeal_id=msg.appeal_id,
            text=msg.text,
            corrected_field=(
                CORRECTED_FIELDS.from_proto(msg.corrected_field) if msg.corrected_field else None
            ),
            channel=CHANNELS.from_proto(msg.channel) if msg.channel else None,
            reason=msg.reason,
            recorded_at=at(msg, "recorded_at"),
            recorded_by=msg.recorded_by,
        )


class IdentityDocument(BaseModel):
    """A document a person is known by."""

    model_config = input_config()

    kind: IdentityDocumentKind
    number: Line = Field(min_length=1, max_length=40, examples=["045123987"])

    def to_proto(self) -> pb.IdentityDocument:
        return pb.IdentityDocument(
            kind=IDENTITY_DOCUMENT_KINDS.to_proto(self.kind), number=self.number
        )

    @classmethod
    def from_proto(cls, msg: pb.IdentityDocument) -> IdentityDocument:
        return cls(kind=IDENTITY_DOCUMENT_KINDS.from_proto(msg.kind), number=msg.number)


class AppealPersonIn(BaseModel):
    """Someone the appeal is about."""

    model_config = input_config()

    full_name: Line = Field(min_length=1, max_length=200, examples=["Aigerim Nurlanovna S."])
    relation: Relation
    birth_date: BirthDate | None = Field(
        default=None, description="Omit when unknown; not in the future, at most 120 years ago."
    )
    iin: Line | None = Field(
        default=None,
        pattern=r"^[0-9]{12}$",
        description="Kazakhstan's IIN: 12 digits; the service checks its check digit and that "
        "its birth date is `birth_date`.",
        examples=["880302450135"],
    )
    snils: Line | None = Field(
        default=None,
        pattern=r"^[0-9]{3}-?[0-9]{3}-?[0-9]{3}[ -]?[0-9]{2}$",
        description="Russia's SNILS, `XXX-XXX-XXX YY` or 11 digits; the service checks its "
        "check digits.",
        examples=["112-233-445 95"],
    )
    documents: list[IdentityDocument] = Field(default_factory=list, max_length=10)


class AppealIn(BaseModel):
    """A new appeal or piece of information, registered before anything else happens (INT-2)."""

    model_config = input_config(
        {
            "channel": "hotline_111",
            "summary": "Neighbour reports children left alone for two days.",
            "persons": [
                {"full_name": "Dana K.", "relation": "mother"},
                {"full_name": "Arman K.", "relation": "child", "birth_date": "2017-04-02"},
            ],
            "threat_to_life": False,
            "domestic_violence": True,
        }
    )

    channel: Channel
    summary: FreeText = Field(min_length=1, max_length=4000)
    persons: list[AppealPersonIn] = Field(max_length=30)
    threat_to_life: StrictBool = Field(
        default=False, description="A direct threat to life or health (INT-3: 1 working day)."
    )
    domestic_violence: StrictBool = False
    family_id: UUID | None = Field(
        default=None,
        description="A known family of the territory to attach the appeal to (e.g. one of the "
        "`likely_families` offered before); omitted: found by a person's IIN/SNILS, or new.",
    )

    def to_proto(self, idempotency_key: str | None) -> pb.RegisterAppealRequest:
        return pb.RegisterAppealRequest(
            idempotency_key=idempotency_key or "",
            channel=CHANNELS.to_proto(self.channel),
            summary=self.summary,
            persons=[
                pb.Person(
                    full_name=p.full_name,
                    relation=RELATIONS.to_proto(p.relation),
                    birth_date=iso_date(p.birth_date),
                    iin=p.iin or "",
                    snils=p.snils or "",
                    documents=[d.to_proto() for d in p.documents],
                )
                for p in self.persons
            ],
            threat_to_life=self.threat_to_life,
            domestic_violence=self.domestic_violence,
            family_id=str(self.family_id) if self.family_id else "",
        )


class AppealPerson(BaseModel):
    """Someone an appeal is about, and the family member they are."""

    full_name: str
    relation: Relation
    birth_date: date | None
    person_id: UUID | None = Field(description="The family member; null on older entries.")
    iin: str | None
    snils: str | None
    documents: list[IdentityDocument]


class FamilyMatch(BaseModel):
    """A known family an appeal's person may belong to: a similar name and the same birth date.
    Offered, never joined by itself: register with its `family_id` or merge the families."""

    family_id: UUID
    person_index: int = Field(description="Index of the appeal's person that matched.")
    full_name: str
    birth_date: date | None
    score: float = Field(description="Similarity of the normalised names, 0..1.")


class Appeal(BaseModel):
    """One entry of the electronic journal."""

    id: UUID
    journal_number: str = Field(examples=["fc-ast-1/2026/000042"])
    center_id: str
    territory: str
    channel: Channel
    registered_at: datetime
    summary: str
    persons: list[AppealPerson]
    threat_to_life: bool
    domestic_violence: bool
    obligations: list[Obligation]
    registered_by: str
    family_id: UUID | None = Field(description="After merges, the family it went into.")
    matched_by: MatchedBy | None = Field(
        description="How the family was found: a known IIN/SNILS, the operator, or a new one."
    )
    likely_families: list[FamilyMatch] = Field(
        description="Known families that may be the same (in the registration's answer only)."
    )
    case_id: UUID | None = Field(description="The case the appeal opened or joined.")
    opened_case: bool = Field(description="Whether this appeal opened its case.")
    triage: list[TriageAction] = Field(description="Triage actions since, oldest first.")
    follow_ups: list[JournalFollowUp] = Field(
        description="Later journal entries about this one (information, corrections), oldest "
        "first; `summary` and `channel` stay as registered."
    )
    summary_in_force: str = Field(description="The latest correction's summary, else `summary`.")
    channel_in_force: Channel = Field(
        description="The latest correction's channel, else `channel`."
    )

    @classmethod
    def from_proto(cls, msg: pb.Appeal) -> Appeal:
        return cls(
            id=msg.id,
            journal_number=msg.journal_number,
            center_id=msg.center_id,
            territory=msg.territory,
            channel=CHANNELS.from_proto(msg.channel),
            registered_at=at(msg, "registered_at"),
            summary=msg.summary,
            persons=[
                AppealPerson(
                    full_name=p.full_name,
                    relation=RELATIONS.from_proto(p.relation),
                    birth_date=parse_date(p.birth_date),
                    person_id=p.person_id or None,
                    iin=p.iin or None,
                    snils=p.snils or None,
                    documents=[IdentityDocument.from_proto(d) for d in p.documents],
                )
                for p in msg.persons
            ],
            threat_to_life=msg.threat_to_life,
            domestic_violence=msg.domestic_violence,
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            registered_by=msg.registered_by,
            family_id=msg.family_id or None,
            matched_by=MATCHED_BY.from_proto(msg.matched_by) if msg.matched_by else None,
            likely_families=[
                FamilyMatch(
                    family_id=m.family_id,
                    person_index=m.person_index,
                    full_name=m.full_name,
                    birth_date=parse_date(m.birth_date),
                    score=m.score,
                )
                for m in msg.likely_families
            ],
            case_id=msg.case_id or None,
            opened_case=msg.opened_case,
            triage=[TriageAction.from_proto(t) for t in msg.triage],
            follow_ups=[JournalFollowUp.from_proto(f) for f in msg.follow_ups],
            summary_in_force=msg.summary_in_force or msg.summary,
            channel_in_force=CHANNELS.from_proto(msg.channel_in_force or msg.channel),
        )


class AppealPage(BaseModel):
    """One page of the journal in the requested order."""

    items: list[Appeal]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListAppealsResponse) -> AppealPage:
        return cls(
            items=[Appeal.from_proto(a) for a in msg.appeals],
            next_page_token=page_token_out(msg.next_page_token),
        )


class FamilyRecordMember(BaseModel):
    """A member of a family."""

    id: UUID
    full_name: str
    relation: Relation
    birth_date: date | None
    iin: str | None
    snils: str | None
    documents: list[IdentityDocument]
    family_id: UUID = Field(description="The record the member came with (before a merge).")


class FamilyRecord(BaseModel):
    """The family appeals are about, with every record merged into it."""

    id: UUID
    territory: str
    created_at: datetime
    members: list[FamilyRecordMember]
    merged_family_ids: list[UUID]
    appeal_ids: list[UUID]

    @classmethod
    def from_proto(cls, msg: pb.Family) -> FamilyRecord:
        return cls(
            id=msg.id,
            territory=msg.territory,
            created_at=at(msg, "created_at"),
            members=[
                FamilyRecordMember(
                    id=m.id,
                    full_name=m.full_name,
                    relation=RELATIONS.from_proto(m.relation),
                    birth_date=parse_date(m.birth_date),
                    iin=m.iin or None,
                    snils=m.snils or None,
                    documents=[IdentityDocument.from_proto(d) for d in m.documents],
                    family_id=m.family_id,
                )
                for m in msg.members
            ],
            merged_family_ids=list(msg.merged_family_ids),
            appeal_ids=list(msg.appeal_ids),
        )


class FamilyMergeIn(BaseModel):
    """Merge another record of the same family into this one (undoable)."""

    model_config = input_config(
        {"merged_family_id": "0192f7e1-4c1a-7cc3-9d5e-3b1f0c2a9e41", "reason": "Same mother."}
    )

    merged_family_id: UUID
    reason: FreeText = Field(min_length=1, max_length=1000)


class FamilyMerge(BaseModel):
    """A merge of two records of one family; `undone_at` once separated again."""

    id: UUID
    kept_family_id: UUID
    merged_family_id: UUID
    reason: str
    merged_at: datetime
    merged_by: str
    undone_at: datetime | None
    undone_by: str | None

    @classmethod
    def from_proto(cls, msg: pb.FamilyMergeRecord) -> FamilyMerge:
        return cls(
            id=msg.id,
            kept_family_id=msg.kept_family_id,
            merged_family_id=msg.merged_family_id,
            reason=msg.reason,
            merged_at=at(msg, "merged_at"),
            merged_by=msg.merged_by,
            undone_at=when(msg, "undone_at"),
            undone_by=msg.undone_by or None,
        )


class FamilyMergeResult(BaseModel):
    """The merge and the family as it is now."""

    merge: FamilyMerge
    family: FamilyRecord


Outcome = TypeAliasType("Outcome", Literal["dls", "sdp", "risk_of_dls", "none"])
OUTCOMES = EnumMap[pb.Outcome.ValueType, Outcome](pb.Outcome, "OUTCOME_")
Consent = TypeAliasType("Consent", Literal["given", "refused", "not_required"])
CONSENTS = EnumMap[pb.Consent.ValueType, Consent](pb.Consent, "CONSENT_")


class PersonSupportLevel(BaseModel):
    """INT-6: a family member's support level with the signs found, codes of the territory's
    profile catalogue."""

    model_config = input_config()

    person_id: UUID = Field(description="A member's id (`FamilyRecordMember.id`).")
    level: Line = Field(min_length=1, max_length=50, examples=["emergency"])
    signs: list[Annotated[Line, StringConstraints(min_length=1, max_length=50)]] = Field(
        min_length=1, max_length=20, examples=[["hostility"]]
    )


class AssessmentIn(BaseModel):
    """An assessment of an open case (INT-5, INT-6)."""

    model_config = input_config(
        {
            "outcome": "dls",
            "consent": "given",
            "support_contract": "SC-2026/117",
            "levels": [
                {
                    "person_id": "0192f7e1-4c1a-7cc3-9d5e-3b1f0c2a9e41",
                    "level": "crisis",
                    "signs": ["neglect"],
                }
            ],
        }
    )

    outcome: Outcome
    consent: Consent = Field(
        description="A DLS proceeds only on consent (`given`); a refusal is recorded."
    )
    support_contract: Line = Field(
        default="", max_length=100, description="Required with consent where the profile says."
    )
    resolution: Line = Field(
        default="", max_length=100, description="The commission's resolution an SDP proceeds on."
    )
    notes: FreeText = Field(default="", max_length=4000)
    levels: list[PersonSupportLevel] = Field(
        default_factory=list,
        max_length=30,
        description="Where the profile has support levels and support follows: one per person.",
    )

    def to_proto(self, case_id: UUID, idempotency_key: str | None) -> pb.AssessCaseRequest:
        return pb.AssessCaseRequest(
            idempotency_key=idempotency_key or "",
            case_id=str(case_id),
            outcome=OUTCOMES.to_proto(self.outcome),
            consent=CONSENTS.to_proto(self.consent),
            support_contract=self.support_contract,
            resolution=self.resolution,
            notes=self.notes,
            levels=[
                pb.SupportLevel(person_id=str(lv.person_id), level=lv.level, signs=lv.signs)
                for lv in self.levels
            ],
        )


class Assessment(BaseModel):
    """One assessment of a case; `proceeds` when support follows."""

    id: UUID
    outcome: Outcome
    consent: Consent
    support_contract: str | None
    resolution: str | None
    notes: str
    assessed_at: datetime
    assessed_by: str
    levels: list[PersonSupportLevel]
    proceeds: bool

    @classmethod
    def from_proto(cls, msg: pb.Assessment) -> Assessment:
        return cls(
            id=msg.id,
            outcome=OUTCOMES.from_proto(msg.outcome),
            consent=CONSENTS.from_proto(msg.consent),
            support_contract=msg.support_contract or None,
            resolution=msg.resolution or None,
            notes=msg.notes,
            assessed_at=at(msg, "assessed_at"),
            assessed_by=msg.assessed_by,
            levels=[
                PersonSupportLevel(person_id=lv.person_id, level=lv.level, signs=list(lv.signs))
                for lv in msg.levels
            ],
            proceeds=msg.proceeds,
        )


class CaseWorker(BaseModel):
    """A case's responsible case worker (INT-9), and the caseload when assigned."""

    worker: str
    level: str | None = Field(description="The case's support level; null where none is set.")
    caseload: int = Field(description="The worker's open cases at that level, this one included.")
    recommended: int | None = Field(description="The profile's recommendation for the level.")
    over_recommendation: bool
    assigned_at: datetime
    assigned_by: str = Field(description="Who decided.")

    @classmethod
    def from_proto(cls, msg: pb.CaseWorkerAssignment) -> CaseWorker:
        return cls(
            worker=msg.worker,
            level=msg.level or None,
            caseload=msg.caseload,
            recommended=msg.recommended if msg.HasField("recommended") else None,
            over_recommendation=msg.over_recommendation,
            assigned_at=at(msg, "assigned_at"),
            assigned_by=msg.assigned_by,
        )


class CaseWorkerIn(BaseModel):
    """The case worker to make responsible for the case (INT-9)."""

    model_config = input_config({"worker": "caseworker.ast"})

    worker: Line = Field(min_length=1, max_length=100, description="The worker's username.")


class HomeVisitIn(BaseModel):
    """The case worker's home inspection report (INT-8)."""

    model_config = input_config(
        {"visited_on": "2026-11-20", "findings": "Two rooms, heated; food in the fridge."}
    )

    visited_on: IsoDate = Field(description="From the case's opening day, not in the future.")
    findings: FreeText = Field(min_length=1, max_length=4000)


class HomeVisit(BaseModel):
    """A home inspection report in the case file (INT-8)."""

    id: UUID
    visited_on: date
    findings: str
    recorded_at: datetime
    recorded_by: str


class Case(BaseModel):
    """What appeals open or join: one open case per family at a time; plans, shelter stays and
    registry decisions refer to it."""

    id: UUID
    territory: str
    center_id: str
    family_id: UUID = Field(description="The family as it is now (after merges).")
    state: CaseState
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    appeal_ids: list[UUID]
    assessments: list[Assessment]
    worker: CaseWorker | None
    home_visits: list[HomeVisit]

    @classmethod
    def from_proto(cls, msg: pb.Case) -> Case:
        return cls(
            id=msg.id,
            territory=msg.territory,
            center_id=msg.center_id,
            family_id=msg.family_id,
            state=CASE_STATES.from_proto(msg.state),
            opened_at=at(msg, "opened_at"),
            opened_by=msg.opened_by,
            closed_at=when(msg, "closed_at"),
            closed_by=msg.closed_by or None,
            close_reason=msg.close_reason or None,
            appeal_ids=list(msg.appeal_ids),
            assessments=[Assessment.from_proto(a) for a in msg.assessments],
            worker=CaseWorker.from_proto(msg.worker) if msg.HasField("worker") else None,
            home_visits=[
                HomeVisit(
                    id=v.id,
                    visited_on=date.fromisoformat(v.visited_on),
                    findings=v.findings,
                    recorded_at=at(v, "recorded_at"),
                    recorded_by=v.recorded_by,
                )
                for v in msg.home_visits
            ],
        )


class CaseCloseIn(BaseModel):
    """Why the case is closed."""

    model_config = input_config({"reason": "The family no longer needs support."})

    reason: FreeText = Field(min_length=1, max_length=1000)


GroupAgencyType = TypeAliasType(
    "GroupAgencyType", Literal["education", "health", "police", "social_protection"]
)


class MobileGroupMember(BaseModel):
    """A member agency's representative in a mobile group (INT-4)."""

    model_config = input_config()

    agency_type: GroupAgencyType
    agency: Line = Field(min_length=1, max_length=100, examples=["police-ast"])
    representative: Line = Field(min_length=1, max_length=200, examples=["Captain S. Amanov"])


class MobileGroupIn(BaseModel):
    """The composition of the caller's territory's mobile group for a calendar year (INT-4):
    representatives of education, health and police at least."""

    model_config = input_config(
        {
            "year": 2027,
            "approved_on": "2026-12-20",
            "order_number": "No. 45",
            "members": [
                {"agency_type": "education", "agency": "edu-ast", "representative": "A. B."},
                {"agency_type": "health", "agency": "health-ast", "representative": "C. D."},
                {"agency_type": "police", "agency": "police-ast", "representative": "E. F."},
            ],
        }
    )

    year: int = Field(ge=1900, le=9999, description="The year of approved_on or the next one.")
    approved_on: IsoDate = Field(description="The approving order's date; not in the future.")
    order_number: Line = Field(min_length=1, max_length=100)
    members: list[MobileGroupMember] = Field(min_length=1, max_length=30)

    def to_proto(self) -> pb.ApproveMobileGroupRequest:
        return pb.ApproveMobileGroupRequest(
            year=self.year,
            approved_on=self.approved_on.isoformat(),
            order_number=self.order_number,
            members=[
                pb.MobileGroupMember(
                    agency_type=m.agency_type, agency=m.agency, representative=m.representative
                )
                for m in self.members
            ],
        )


class MobileGroup(BaseModel):
    """A territory's mobile group of one calendar year (INT-4)."""

    id: UUID
    territory: str
    year: int
    approved_on: date
    order_number: str
    approved_by: str
    members: list[MobileGroupMember]

    @classmethod
    def from_proto(cls, msg: pb.MobileGroup) -> MobileGroup:
        return cls(
            id=msg.id,
            territory=msg.territory,
            year=msg.year,
            approved_on=date.fromisoformat(msg.approved_on),
            order_number=msg.order_number,
            approved_by=msg.approved_by,
            members=[
                MobileGroupMember(
                    agency_type=cast(GroupAgencyType, m.agency_type),
                    agency=m.agency,
                    representative=m.representative,
                )
                for m in msg.members
            ],
        )


class CaseWorkerAssigned(BaseModel):
    """The case with its new responsible worker; `warning` past the recommended caseload."""

    case: Case
    warning: str | None


class CaseloadRow(BaseModel):
    """MON-4: one worker's open cases at one level against the recommendation."""

    worker: str
    level: str | None
    cases: int
    recommended: int | None
    over: bool
    assigned_over: int = Field(description="Of them, assigned past the recommendation.")


class CaseloadReport(BaseModel):
    """MON-4 for the caller's territory, by worker and level."""

    rows: list[CaseloadRow]

    @classmethod
    def from_proto(cls, msg: pb.GetCaseloadReportResponse) -> CaseloadReport:
        return cls(
            rows=[
                CaseloadRow(
                    worker=r.worker,
                    level=r.level or None,
                    cases=r.cases,
                    recommended=r.recommended if r.HasField("recommended") else None,
                    over=r.over,
                    assigned_over=r.assigned_over,
                )
                for r in msg.rows
            ]
        )


class JournalFollowUpResult(BaseModel):
    """The entry written and the appeal with all its follow-ups."""

    follow_up: JournalFollowUp
    appeal: Appeal


LevelDirection = TypeAliasType("LevelDirection", Literal["worse", "better"])
LEVEL_DIRECTIONS = EnumMap[pb.LevelDirection.ValueType, LevelDirection](
    pb.LevelDirection, "LEVEL_DIRECTION_"
)


class AcceptedFamilies(BaseModel):
    """Families accepted for support with one channel, situation and level (MON-2)."""

    channel: Channel | None = Field(description="Of the appeal that opened the case.")
    outcome: Outcome = Field(description="`dls` or `sdp`.")
    level: str | None = Field(
        description="The family's level at acceptance (its members' most intensive); null "
        "where the profile sets none."
    )
    families: int


class PersonsAtLevel(BaseModel):
    """Persons accepted for support at one level (INT-6)."""

    level: str
    persons: int


class IntakeLevelChange(BaseModel):
    """Support-level changes from one level to another recorded by the period's assessments."""

    from_level: str
    to_level: str
    direction: LevelDirection | None = Field(
        description="`worse`: to a more intensive level; `better`: away from it."
    )
    persons: int
    families: int


class IntakeIndicators(BaseModel):
    """MON-2, first half, over `[from, to)` in one territory; aggregates only."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day of the period (inclusive).")
    to: date = Field(description="Day after the period (exclusive).")
    territory: str = Field(examples=["kz-ast"])
    as_of: datetime
    families_accepted: int = Field(description="Distinct families accepted in the period.")
    accepted: list[AcceptedFamilies] = Field(description="By channel, situation and level.")
    by_outcome: dict[str, int] = Field(description="Families accepted per situation.")
    by_channel: dict[str, int] = Field(description="Families accepted per channel.")
    persons_accepted: list[PersonsAtLevel]
    level_changes: list[IntakeLevelChange]

    @classmethod
    def from_proto(
        cls, msg: pb.ReportIntakeIndicatorsResponse, *, from_: date, to: date
    ) -> IntakeIndicators:
        accepted = [
            AcceptedFamilies(
                channel=CHANNELS.from_proto(r.channel) if r.channel else None,
                outcome=OUTCOMES.from_proto(r.outcome),
                level=r.level or None,
                families=r.families,
            )
            for r in msg.accepted
        ]
        by_outcome: dict[str, int] = {}
        by_channel: dict[str, int] = {}
        for row in accepted:
            by_outcome[row.outcome] = by_outcome.get(row.outcome, 0) + row.families
            channel = row.channel or "unknown"
            by_channel[channel] = by_channel.get(channel, 0) + row.families
        return cls(
            from_=from_,
            to=to,
            territory=msg.territory,
            as_of=at(msg, "as_of"),
            families_accepted=msg.families_accepted,
            accepted=accepted,
            by_outcome=by_outcome,
            by_channel=by_channel,
            persons_accepted=[
                PersonsAtLevel(level=r.level, persons=r.persons) for r in msg.persons_accepted
            ],
            level_changes=[
                IntakeLevelChange(
                    from_level=c.from_level,
                    to_level=c.to_level,
                    direction=LEVEL_DIRECTIONS.from_proto(c.direction) if c.direction else None,
                    persons=c.persons,
                    families=c.families,
                )
                for c in msg.level_changes
            ],
        )
