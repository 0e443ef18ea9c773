"""The SDP data bank: commission decisions (REG-2, REG-3), the registry office's entries (REG-4,
REG-6) and need-to-know reads of families' personal data (REG-1, REG-9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, StrictInt
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    PAGE_TOKEN_DESCRIPTION,
    BirthDate,
    EnumMap,
    FreeText,
    IsoDate,
    Line,
    Obligation,
    PageToken,
    at,
    input_config,
    iso_date,
    page_token_out,
    parse_date,
    when,
)
from kamqor.registry.v1 import registry_pb2 as pb

DecisionKind = TypeAliasType("DecisionKind", Literal["registration", "deregistration", "review"])
ReviewOutcome = TypeAliasType("ReviewOutcome", Literal["keep", "deregister"])
ChangeState = TypeAliasType("ChangeState", Literal["reported", "entered", "void"])
BallotChoice = TypeAliasType("BallotChoice", Literal["for", "against", "abstain"])
DecisionState = TypeAliasType("DecisionState", Literal["recorded", "sent", "received", "entered"])
FamilyState = TypeAliasType("FamilyState", Literal["pending", "registered", "deregistered"])
DocumentKind = TypeAliasType("DocumentKind", Literal["passport", "birth_certificate"])
DECISION_KINDS = EnumMap[pb.DecisionKind.ValueType, DecisionKind](pb.DecisionKind, "DECISION_KIND_")
DECISION_STATES = EnumMap[pb.DecisionState.ValueType, DecisionState](
    pb.DecisionState, "DECISION_STATE_"
)
FAMILY_STATES = EnumMap[pb.FamilyState.ValueType, FamilyState](pb.FamilyState, "FAMILY_STATE_")
DOCUMENT_KINDS = EnumMap[pb.DocumentKind.ValueType, DocumentKind](pb.DocumentKind, "DOCUMENT_KIND_")
BALLOT_CHOICES = EnumMap[pb.BallotChoice.ValueType, BallotChoice](pb.BallotChoice, "BALLOT_CHOICE_")
REVIEW_OUTCOMES = EnumMap[pb.ReviewOutcome.ValueType, ReviewOutcome](
    pb.ReviewOutcome, "REVIEW_OUTCOME_"
)

_PERSON_EXAMPLE = {
    "full_name": "Ivanov Pyotr Sergeevich",
    "birth_date": "2016-02-11",
    "birth_place": "Irkutsk",
    "actual_address": "Irkutsk, Lenina St. 1, apt. 2",
    "document": {"kind": "birth_certificate", "series": "III-ST", "number": "654321"},
    "work_or_study": "School No. 5",
}


# --- requests -------------------------------------------------------------------------------


class DocumentIn(BaseModel):
    """An identity document: passport or birth certificate (REG-1)."""

    model_config = input_config()

    kind: DocumentKind
    series: Line = Field(default="", max_length=20)
    number: Line = Field(min_length=1, max_length=50)
    issued_on: IsoDate | None = None

    def to_proto(self) -> pb.IdentityDocument:
        return pb.IdentityDocument(
            kind=DOCUMENT_KINDS.to_proto(self.kind),
            series=self.series,
            number=self.number,
            issued_on=iso_date(self.issued_on),
        )


class PersonIn(BaseModel):
    """The minor or a member of their family, as REG-1 lists the bank's contents."""

    model_config = input_config()

    full_name: Line = Field(min_length=1, max_length=200)
    relation: Line = Field(
        default="",
        max_length=200,
        examples=["mother"],
        description="Relation to the minor; required for relatives, empty for minors.",
    )
    birth_date: BirthDate = Field(description="Not in the future, at most 120 years ago.")
    birth_place: Line = Field(min_length=1, max_length=500)
    registered_address: Line = Field(default="", max_length=500)
    actual_address: Line = Field(min_length=1, max_length=500)
    document: DocumentIn | None = Field(default=None, description="Omit when there is none.")
    disability: StrictBool = False
    work_or_study: Line = Field(default="", max_length=500, description="Place of work or study.")

    def to_proto(self) -> pb.Person:
        return pb.Person(
            full_name=self.full_name,
            relation=self.relation,
            birth_date=self.birth_date.isoformat(),
            birth_place=self.birth_place,
            registered_address=self.registered_address,
            actual_address=self.actual_address,
            document=self.document.to_proto() if self.document else None,
            disability=self.disability,
            work_or_study=self.work_or_study,
        )


class VoteIn(BaseModel):
    """The vote at the session: a majority of the members present decides (REG-2)."""

    model_config = input_config()

    members_present: StrictInt = Field(ge=1, le=100)
    votes_for: StrictInt = Field(ge=0, le=100)
    votes_against: StrictInt = Field(ge=0, le=100)

    def to_proto(self) -> pb.Vote:
        return pb.Vote(
            members_present=self.members_present,
            votes_for=self.votes_for,
            votes_against=self.votes_against,
        )


class HearingIn(BaseModel):
    """Whom the commission heard and what it studied before deciding (REG-2, seed 002 p. 44):
    the prevention bodies and the parents always; the minor where the minor can give an opinion,
    otherwise `minor_not_heard_reason` says why not (an infant)."""

    model_config = input_config()

    prevention_bodies_heard: StrictBool
    minor_opinion_heard: StrictBool
    parents_opinion_heard: StrictBool
    minor_not_heard_reason: Line = Field(
        default="",
        max_length=500,
        description="Required when `minor_opinion_heard` is false, empty otherwise.",
        examples=["the child is eight months old"],
    )
    documents_reviewed: list[Line] = Field(
        default_factory=list,
        max_length=30,
        description="The documents studied at the session; at least one for a repeat review.",
        examples=[["school report", "police information"]],
    )

    def to_proto(self) -> pb.Hearing:
        return pb.Hearing(
            prevention_bodies_heard=self.prevention_bodies_heard,
            minor_opinion_heard=self.minor_opinion_heard,
            parents_opinion_heard=self.parents_opinion_heard,
            minor_not_heard_reason=self.minor_not_heard_reason,
            documents_reviewed=self.documents_reviewed,
        )


class BallotIn(BaseModel):
    """One member's vote; a member with a conflict of interest abstains (REG-2)."""

    model_config = input_config()

    member_id: Line = Field(min_length=1, max_length=100)
    choice: BallotChoice
    conflict_of_interest: StrictBool = False

    def to_proto(self) -> pb.Ballot:
        return pb.Ballot(
            member_id=self.member_id,
            choice=BALLOT_CHOICES.to_proto(self.choice),
            conflict_of_interest=self.conflict_of_interest,
        )


class Sitting(BaseModel):
    """Mixed into a decision's body: the session it is taken at, with every member's ballot;
    then `vote` is left out and counted from the ballots (REG-2)."""

    session_id: UUID | None = Field(
        default=None, description="The session (`POST /v1/registry/sessions`)."
    )
    ballots: list[BallotIn] = Field(default_factory=list, max_length=100)

    def session_pb(self) -> str:
        return str(self.session_id) if self.session_id else ""

    def ballots_pb(self) -> list[pb.Ballot]:
        return [b.to_proto() for b in self.ballots]


def _vote_pb(vote: VoteIn | None) -> pb.Vote | None:
    return vote.to_proto() if vote else None


_VOTE_EXAMPLE = {"members_present": 7, "votes_for": 5, "votes_against": 1}
_HEARING_EXAMPLE = {
    "prevention_bodies_heard": True,
    "minor_opinion_heard": True,
    "parents_opinion_heard": True,
}


class RegistrationIn(Sitting):
    """A commission's decision to register a family (REG-1..REG-3)."""

    model_config = input_config(
        {
            "decided_on": "2026-03-02",
            "number": "KDN-2026-041",
            "vote": _VOTE_EXAMPLE,
            "hearing": _HEARING_EXAMPLE,
            "grounds": "Neglect of the child's needs, confirmed by the school and the police",
            "responsible_agency_id": "fc-irk-1",
            "responsible_body": "Family support center of Irkutsk",
            "review_on": "2026-07-01",
            "minors": [_PERSON_EXAMPLE],
            "relatives": [],
        }
    )

    decided_on: IsoDate = Field(description="The session date, not in the future.")
    number: Line = Field(min_length=1, max_length=100)
    vote: VoteIn | None = Field(
        default=None, description="The totals, when the decision names no session."
    )
    hearing: HearingIn
    grounds: FreeText = Field(min_length=1, max_length=4000)
    responsible_agency_id: Line = Field(min_length=1, max_length=100, examples=["fc-irk-1"])
    responsible_body: Line = Field(min_length=1, max_length=500)
    review_on: IsoDate = Field(description="Repeat review, at most 6 months after (REG-3).")
    minors: list[PersonIn] = Field(min_length=1, max_length=30)
    relatives: list[PersonIn] = Field(default_factory=list, max_length=30)

    def to_proto(self, idempotency_key: str | None) -> pb.RecordRegistrationDecisionRequest:
        return pb.RecordRegistrationDecisionRequest(
            idempotency_key=idempotency_key or "",
            decided_on=self.decided_on.isoformat(),
            number=self.number,
            vote=_vote_pb(self.vote),
            hearing=self.hearing.to_proto(),
            grounds=self.grounds,
            responsible_agency_id=self.responsible_agency_id,
            responsible_body=self.responsible_body,
            review_on=self.review_on.isoformat(),
            minors=[p.to_proto() for p in self.minors],
            relatives=[p.to_proto() for p in self.relatives],
            session_id=self.session_pb(),
            ballots=self.ballots_pb(),
        )


class DeregistrationIn(Sitting):
    """A commission's decision to deregister a registered family (REG-2, REG-6)."""

    model_config = input_config(
        {
            "family_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "decided_on": "2026-06-01",
            "number": "KDN-2026-107",
            "vote": {"members_present": 5, "votes_for": 3, "votes_against": 0},
            "hearing": _HEARING_EXAMPLE,
            "grounds": "The situation improved: the child attends school, the home is safe",
        }
    )

    family_id: UUID
    decided_on: IsoDate = Field(description="The session date, not in the future.")
    number: Line = Field(min_length=1, max_length=100)
    vote: VoteIn | None = Field(
        default=None, description="The totals, when the decision names no session."
    )
    hearing: HearingIn
    grounds: FreeText = Field(min_length=1, max_length=4000)

    def to_proto(self, idempotency_key: str | None) -> pb.RecordDeregistrationRequest:
        return pb.RecordDeregistrationRequest(
            idempotency_key=idempotency_key or "",
            family_id=str(self.family_id),
            decided_on=self.decided_on.isoformat(),
            number=self.number,
            vote=_vote_pb(self.vote),
            hearing=self.hearing.to_proto(),
            grounds=self.grounds,
            session_id=self.session_pb(),
            ballots=self.ballots_pb(),
        )


class ReviewIn(Sitting):
    """A commission's repeat review of a family on record (REG-3): keep it on record with the
    next review scheduled, or deregister it (REG-6)."""

    model_config = input_config(
        {
            "family_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "decided_on": "2026-08-20",
            "number": "KDN-2026-212",
            "vote": _VOTE_EXAMPLE,
            "hearing": _HEARING_EXAMPLE | {"documents_reviewed": ["responsible body's report"]},
            "grounds": "Preventive work continues: the plan's measures are under way",
            "outcome": "keep",
            "next_review_on": "2027-02-19",
        }
    )

    family_id: UUID
    decided_on: IsoDate = Field(description="The session date, not in the future.")
    number: Line = Field(min_length=1, max_length=100)
    vote: VoteIn | None = Field(
        default=None, description="The totals, when the decision names no session."
    )
    hearing: HearingIn
    grounds: FreeText = Field(min_length=1, max_length=4000)
    outcome: ReviewOutcome
    next_review_on: IsoDate | None = Field(
        default=None,
        description="When kept: the next review, at most 6 months after the session (REG-3).",
    )

    def to_proto(self, idempotency_key: str | None) -> pb.RecordReviewRequest:
        return pb.RecordReviewRequest(
            idempotency_key=idempotency_key or "",
            family_id=str(self.family_id),
            decided_on=self.decided_on.isoformat(),
            number=self.number,
            vote=_vote_pb(self.vote),
            hearing=self.hearing.to_proto(),
            grounds=self.grounds,
            outcome=REVIEW_OUTCOMES.to_proto(self.outcome),
            next_review_on=iso_date(self.next_review_on),
            session_id=self.session_pb(),
            ballots=self.ballots_pb(),
        )


class FieldChangeIn(BaseModel):
    """One changed field: a member's (REG-1) or, without `member_id`, the family's
    `responsible_body`."""

    model_config = input_config()

    member_id: Line | None = Field(default=None, max_length=64)
    field: Line = Field(min_length=1, max_length=50, examples=["actual_address"])
    value: Line = Field(max_length=500)

    def to_proto(self) -> pb.FieldChange:
        return pb.FieldChange(member_id=self.member_id or "", field=self.field, value=self.value)


class ChangeIn(BaseModel):
    """Changed data of a family on record, reported by its responsible body (REG-5)."""

    model_config = input_config(
        {
            "family_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "changed_on": "2026-04-01",
            "fields": [
                {
                    "member_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d90",
                    "field": "actual_address",
                    "value": "Irkutsk, Karla Marksa St. 5, apt. 1",
                }
            ],
        }
    )

    family_id: UUID
    changed_on: IsoDate = Field(description="When the data changed; not in the future.")
    fields: list[FieldChangeIn] = Field(min_length=1, max_length=30)

    def to_proto(self, idempotency_key: str | None) -> pb.ReportChangeRequest:
        return pb.ReportChangeRequest(
            idempotency_key=idempotency_key or "",
            family_id=str(self.family_id),
            changed_on=self.changed_on.isoformat(),
            fields=[f.to_proto() for f in self.fields],
        )


class MemberIn(BaseModel):
    """A commission member present at the session."""

    model_config = input_config()

    member_id: Line = Field(min_length=1, max_length=100, examples=["kdn-irk-member-3"])
    full_name: Line = Field(min_length=1, max_length=200)


class SessionIn(BaseModel):
    """A session of the caller's commission; refused without a quorum (REG-2)."""

    model_config = input_config(
        {
            "held_on": "2026-03-02",
            "composition_size": 9,
            "members_present": [
                {"member_id": "kdn-1", "full_name": "Chair"},
                {"member_id": "kdn-2", "full_name": "Deputy chair"},
                {"member_id": "kdn-3", "full_name": "Secretary"},
                {"member_id": "kdn-4", "full_name": "Member"},
                {"member_id": "kdn-5", "full_name": "Member"},
            ],
        }
    )

    held_on: IsoDate = Field(description="Not in the future.")
    composition_size: StrictInt = Field(ge=1, le=100, description="Members the commission has.")
    members_present: list[MemberIn] = Field(min_length=1, max_length=100)

    def to_proto(self, idempotency_key: str | None) -> pb.OpenSessionRequest:
        return pb.OpenSessionRequest(
            idempotency_key=idempotency_key or "",
            held_on=self.held_on.isoformat(),
            composition_size=self.composition_size,
            members_present=[
                pb.SessionMember(member_id=m.member_id, full_name=m.full_name)
                for m in self.members_present
            ],
        )


# --- responses ------------------------------------------------------------------------------


class Document(BaseModel):
    kind: DocumentKind
    series: str
    number: str
    issued_on: date | None


class Person(BaseModel):
    """Personal data: every read is audited with its purpose (REG-9)."""

    id: str | None = Field(default=None, description="The member's id, which a change names.")
    full_name: str
    relation: str
    birth_date: date
    birth_place: str
    registered_address: str
    actual_address: str
    document: Document | None
    disability: bool
    work_or_study: str

    @classmethod
    def from_proto(cls, msg: pb.Person) -> Person:
        document = None
        if msg.HasField("document"):
            document = Document(
                kind=DOCUMENT_KINDS.from_proto(msg.document.kind),
                series=msg.document.series,
                number=msg.document.number,
                issued_on=parse_date(msg.document.issued_on),
            )
        return cls(
            full_name=msg.full_name,
            relation=msg.relation,
            birth_date=msg.birth_date,
            birth_place=msg.birth_place,
            registered_address=msg.registered_address,
            actual_address=msg.actual_address,
            document=document,
            disability=msg.disability,
            work_or_study=msg.work_or_study,
            id=msg.id or None,
        )


class Vote(BaseModel):
    members_present: int
    votes_for: int
    votes_against: int


class Ballot(BaseModel):
    member_id: str
    choice: BallotChoice
    conflict_of_interest: bool


class Member(BaseModel):
    member_id: str
    full_name: str


class AgendaItem(BaseModel):
    family_id: UUID
    decision_id: UUID
    kind: DecisionKind


class Session(BaseModel):
    """A commission session: the members present, the quorum, the families decided on."""

    id: UUID
    territory: str
    commission_id: str
    held_on: date
    composition_size: int
    quorum: int = Field(description="Members that had to be present (REG-2).")
    members_present: list[Member]
    agenda: list[AgendaItem]
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def from_proto(cls, msg: pb.Session) -> Session:
        return cls(
            id=msg.id,
            territory=msg.territory,
            commission_id=msg.commission_id,
            held_on=msg.held_on,
            composition_size=msg.composition_size,
            quorum=msg.quorum,
            members_present=[
                Member(member_id=m.member_id, full_name=m.full_name) for m in msg.members_present
            ],
            agenda=[
                AgendaItem(
                    family_id=a.family_id,
                    decision_id=a.decision_id,
                    kind=DECISION_KINDS.from_proto(a.kind),
                )
                for a in msg.agenda
            ],
            recorded_by=msg.recorded_by,
            recorded_at=at(msg, "recorded_at"),
        )


class Hearing(BaseModel):
    prevention_bodies_heard: bool
    minor_opinion_heard: bool
    parents_opinion_heard: bool
    minor_not_heard_reason: str
    documents_reviewed: list[str]


class Decision(BaseModel):
    """A commission's registration or deregistration decision on its way into the bank."""

    id: UUID
    family_id: UUID
    territory: str
    kind: DecisionKind
    commission_id: str
    decided_on: date
    number: str
    vote: Vote
    hearing: Hearing
    grounds: str
    state: DecisionState
    recorded_by: str
    recorded_at: datetime
    office_id: str | None = Field(description="The registry office that received it.")
    received_at: datetime | None
    entered_at: datetime | None
    obligations: list[Obligation]
    repeat_review: bool = Field(description="Taken at a repeat review (REG-3).")
    next_review_on: date | None = Field(description="The next review a keeping review set.")
    session_id: UUID | None = Field(description="The session it was taken at.")
    ballots: list[Ballot] = Field(description="Every member's vote, when at a session.")
    sent_by: str | None = Field(description="The commission's secretary who sent it.")
    sent_at: datetime | None = Field(description="When it was sent to the registry office.")

    @classmethod
    def from_proto(cls, msg: pb.Decision) -> Decision:
        return cls(
            id=msg.id,
            family_id=msg.family_id,
            territory=msg.territory,
            kind=DECISION_KINDS.from_proto(msg.kind),
            commission_id=msg.commission_id,
            decided_on=msg.decided_on,
            number=msg.number,
            vote=Vote(
                members_present=msg.vote.members_present,
                votes_for=msg.vote.votes_for,
                votes_against=msg.vote.votes_against,
            ),
            hearing=Hearing(
                prevention_bodies_heard=msg.hearing.prevention_bodies_heard,
                minor_opinion_heard=msg.hearing.minor_opinion_heard,
                parents_opinion_heard=msg.hearing.parents_opinion_heard,
                minor_not_heard_reason=msg.hearing.minor_not_heard_reason,
                documents_reviewed=list(msg.hearing.documents_reviewed),
            ),
            grounds=msg.grounds,
            state=DECISION_STATES.from_proto(msg.state),
            recorded_by=msg.recorded_by,
            recorded_at=at(msg, "recorded_at"),
            office_id=msg.office_id or None,
            received_at=when(msg, "received_at"),
            entered_at=when(msg, "entered_at"),
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            repeat_review=msg.repeat_review,
            next_review_on=parse_date(msg.next_review_on),
            session_id=msg.session_id or None,
            sent_by=msg.sent_by or None,
            sent_at=when(msg, "sent_at"),
            ballots=[
                Ballot(
                    member_id=b.member_id,
                    choice=BALLOT_CHOICES.from_proto(b.choice),
                    conflict_of_interest=b.conflict_of_interest,
                )
                for b in msg.ballots
            ],
        )


class FieldHistory(BaseModel):
    """One entered change of one field (REG-5)."""

    member_id: str | None = Field(description="Empty for the family's own fields.")
    field: str
    old_value: str
    new_value: str
    change_id: UUID
    entered_at: datetime


class FieldChange(BaseModel):
    member_id: str | None
    field: str
    value: str


class Change(BaseModel):
    """A change in a family's data reported by the responsible body (REG-5)."""

    id: UUID
    family_id: UUID
    territory: str
    changed_on: date
    fields: list[FieldChange]
    state: ChangeState = Field(
        description="`void`: the family left the bank before the change was entered."
    )
    reported_by: str
    reporting_agency: str
    reported_at: datetime
    entered_by: str | None
    entered_at: datetime | None
    obligations: list[Obligation]

    @classmethod
    def from_proto(cls, msg: pb.Change) -> Change:
        return cls(
            id=msg.id,
            family_id=msg.family_id,
            territory=msg.territory,
            changed_on=msg.changed_on,
            fields=[
                FieldChange(member_id=f.member_id or None, field=f.field, value=f.value)
                for f in msg.fields
            ],
            state=msg.state,
            reported_by=msg.reported_by,
            reporting_agency=msg.reporting_agency,
            reported_at=at(msg, "reported_at"),
            entered_by=msg.entered_by or None,
            entered_at=when(msg, "entered_at"),
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
        )


class Family(BaseModel):
    """One family's record in the bank (REG-1)."""

    id: UUID
    territory: str
    state: FamilyState
    minors: list[Person]
    relatives: list[Person]
    responsible_agency_id: str
    responsible_body: str
    review_on: date = Field(description="The commission's repeat review (REG-3).")
    registered_at: datetime | None
    deregistered_at: datetime | None
    decisions: list[Decision]
    obligations: list[Obligation] = Field(description="Its repeat reviews (REG-3).")
    history: list[FieldHistory] = Field(description="Every entered change, oldest first.")

    @classmethod
    def from_proto(cls, msg: pb.Family) -> Family:
        return cls(
            id=msg.id,
            territory=msg.territory,
            state=FAMILY_STATES.from_proto(msg.state),
            minors=[Person.from_proto(p) for p in msg.minors],
            relatives=[Person.from_proto(p) for p in msg.relatives],
            responsible_agency_id=msg.responsible_agency_id,
            responsible_body=msg.responsible_body,
            review_on=msg.review_on,
            registered_at=when(msg, "registered_at"),
            deregistered_at=when(msg, "deregistered_at"),
            decisions=[Decision.from_proto(d) for d in msg.decisions],
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            history=[
                FieldHistory(
                    member_id=h.member_id or None,
                    field=h.field,
                    old_value=h.old_value,
                    new_value=h.new_value,
                    change_id=h.change_id,
                    entered_at=at(h, "entered_at"),
                )
                for h in msg.history
            ],
        )


class RegistrationRecorded(BaseModel):
    """The recorded decision and the family it registers, pending entry (REG-4)."""

    decision: Decision
    family: Family

    @classmethod
    def from_proto(cls, msg: pb.RecordRegistrationDecisionResponse) -> RegistrationRecorded:
        return cls(decision=Decision.from_proto(msg.decision), family=Family.from_proto(msg.family))


class FamilySearchIn(BaseModel):
    """A search of the registered families by a member's name or birth date. Personal data never
    go in a URL (they would be kept by access logs and proxies): the search is a body (REG-9)."""

    model_config = input_config(
        {"name": "ivanov", "purpose": "check before a home visit"},
        {"birth_date": "2016-02-11", "purpose": "check before a home visit", "page_size": 20},
    )

    purpose: Line = Field(
        min_length=1,
        max_length=200,
        description="Why the data is read; written to the audit trail (REG-9).",
    )
    name: Line | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        description="Part of any member's full name, case-insensitive.",
    )
    birth_date: BirthDate | None = Field(
        default=None, description="Only families with a member born that day."
    )
    page_size: StrictInt | None = Field(
        default=None, ge=1, le=200, description="Items per page; default 50, at most 200."
    )
    page_token: PageToken | None = Field(default=None, description=PAGE_TOKEN_DESCRIPTION)

    def to_proto(self) -> pb.SearchFamiliesRequest:
        return pb.SearchFamiliesRequest(
            name=self.name or "",
            birth_date=iso_date(self.birth_date),
            purpose=self.purpose,
            page_size=self.page_size or 0,
            page_token=self.page_token or "",
        )


class FamilySummary(BaseModel):
    """One search hit: enough to recognise the family."""

    id: UUID
    members: list[Person]
    responsible_body: str
    review_on: date
    registered_at: datetime | None

    @classmethod
    def from_proto(cls, msg: pb.FamilySummary) -> FamilySummary:
        return cls(
            id=msg.id,
            members=[Person.from_proto(p) for p in msg.members],
            responsible_body=msg.responsible_body,
            review_on=msg.review_on,
            registered_at=when(msg, "registered_at"),
        )


class FamilyPage(BaseModel):
    """One page of registered families of the caller's territory."""

    items: list[FamilySummary]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.SearchFamiliesResponse) -> FamilyPage:
        return cls(
            items=[FamilySummary.from_proto(f) for f in msg.families],
            next_page_token=page_token_out(msg.next_page_token),
        )


class OfficeInbox(BaseModel):
    """What waits for the caller's registry office (REG-4, REG-6): decisions sent and not yet
    received, received and not yet entered, each with its clocks; oldest first."""

    items: list[Decision]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)
    changes: list[Change] = Field(
        description="Changes reported and not yet entered (REG-5); on the first page only."
    )

    @classmethod
    def from_proto(cls, msg: pb.ListOfficeInboxResponse) -> OfficeInbox:
        return cls(
            items=[Decision.from_proto(d) for d in msg.decisions],
            next_page_token=page_token_out(msg.next_page_token),
            changes=[Change.from_proto(c) for c in msg.changes],
        )


# --- information requests (REG-8) and quarterly reports (REG-7, MON-5) --------------------------

InquiryPurpose = TypeAliasType(
    "InquiryPurpose",
    Literal[
        "juvenile_prevention",
        "child_rights_protection",
        "education_support",
        "medical_care",
        "social_support",
        "employment_assistance",
    ],
)
InquiryState = TypeAliasType("InquiryState", Literal["open", "answered"])
ReportLevel = TypeAliasType("ReportLevel", Literal["office", "ministry"])
ExportFormat = TypeAliasType("ExportFormat", Literal["csv", "pdf"])
INQUIRY_STATES = EnumMap[pb.InquiryState.ValueType, InquiryState](pb.InquiryState, "INQUIRY_STATE_")
REPORT_LEVELS = EnumMap[pb.ReportLevel.ValueType, ReportLevel](pb.ReportLevel, "REPORT_LEVEL_")
QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"


class InquiryIn(BaseModel):
    """A prevention body's request for information about a person (REG-8). The purpose must be
    one of the lawful purposes of the caller's body type (police: `juvenile_prevention`;
    guardianship: `child_rights_protection`; education: `education_support`; health:
    `medical_care`; social services and family centers: `social_support`; employment:
    `employment_assistance`), or a 422 naming `purpose`."""

    model_config = input_config(
        {
            "purpose": "juvenile_prevention",
            "reason": "individual preventive work with the minor",
            "subject_full_name": "Ivanov Pyotr Sergeevich",
            "subject_birth_date": "2016-02-11",
        }
    )

    purpose: InquiryPurpose
    reason: FreeText = Field(min_length=1, max_length=500)
    subject_full_name: Line = Field(min_length=1, max_length=200)
    subject_birth_date: BirthDate

    def to_proto(self, idempotency_key: str | None) -> pb.CreateInquiryRequest:
        return pb.CreateInquiryRequest(
            idempotency_key=idempotency_key or "",
            purpose=self.purpose,
            reason=self.reason,
            subject_full_name=self.subject_full_name,
            subject_birth_date=self.subject_birth_date.isoformat(),
        )


class InquiryFamily(BaseModel):
    """A family on record as the answer discloses it: only the purpose's fields are filled."""

    members: list[Person]
    responsible_body: str | None
    grounds: str | None


class InquiryAnswer(BaseModel):
    on_record: bool = Field(description="Whether the person is a member of a family on record.")
    fields: list[str] = Field(description="The fields the purpose allows (REG-8).")
    families: list[InquiryFamily]

    @classmethod
    def from_proto(cls, msg: pb.InquiryAnswer) -> InquiryAnswer:
        return cls(
            on_record=msg.on_record,
            fields=list(msg.fields),
            families=[
                InquiryFamily(
                    members=[Person.from_proto(m) for m in f.members],
                    responsible_body=f.responsible_body or None,
                    grounds=f.grounds or None,
                )
                for f in msg.families
            ],
        )


class Inquiry(BaseModel):
    """An information request (REG-8) with its clock; the person asked about and the answer
    only in the requester's own read of it."""

    id: UUID
    territory: str
    requester_agency: str
    requester_agency_type: str
    purpose: str
    reason: str
    state: InquiryState
    received_at: datetime
    office_id: str | None
    answered_at: datetime | None
    obligations: list[Obligation]
    subject_full_name: str | None = None
    subject_birth_date: date | None = None
    answer: InquiryAnswer | None = None

    @classmethod
    def from_proto(cls, msg: pb.Inquiry) -> Inquiry:
        return cls(
            id=msg.id,
            territory=msg.territory,
            requester_agency=msg.requester_agency,
            requester_agency_type=msg.requester_agency_type,
            purpose=msg.purpose,
            reason=msg.reason,
            state=INQUIRY_STATES.from_proto(msg.state),
            received_at=at(msg, "received_at"),
            office_id=msg.office_id or None,
            answered_at=when(msg, "answered_at"),
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            subject_full_name=msg.subject_full_name or None,
            subject_birth_date=parse_date(msg.subject_birth_date),
            answer=InquiryAnswer.from_proto(msg.answer) if msg.HasField("answer") else None,
        )


class InquiryPage(BaseModel):
    """Requests without the person asked about or the answer (read one for those)."""

    items: list[Inquiry]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(
        cls, msg: pb.ListInquiriesToAnswerResponse | pb.ListOwnInquiriesResponse
    ) -> InquiryPage:
        return cls(
            items=[Inquiry.from_proto(i) for i in msg.inquiries],
            next_page_token=page_token_out(msg.next_page_token),
        )


class QuarterIn(BaseModel):
    """A quarter that has ended; one not yet ended is a 422 naming `quarter` (REG-7)."""

    model_config = input_config({"quarter": "2026-Q4"})

    quarter: Line = Field(pattern=QUARTER_PATTERN, examples=["2026-Q4"])


class QuarterReport(BaseModel):
    """A submitted quarterly report (REG-7): counts only, as of the quarter's end."""

    id: UUID
    territory: str
    quarter: str
    level: ReportLevel
    agency: str
    families_on_record: int
    minors_on_record: int
    families_registered: int = Field(description="Entered during the quarter.")
    families_deregistered: int = Field(description="Removed during the quarter.")
    office_reports: int = Field(description="For the ministry's summary: offices summed.")
    as_of: datetime = Field(description="The quarter's end, local midnight.")
    submitted_by: str
    submitted_at: datetime
    obligations: list[Obligation]

    @classmethod
    def from_proto(cls, msg: pb.QuarterReport) -> QuarterReport:
        return cls(
            id=msg.id,
            territory=msg.territory,
            quarter=msg.quarter,
            level=REPORT_LEVELS.from_proto(msg.level),
            agency=msg.agency,
            families_on_record=msg.families_on_record,
            minors_on_record=msg.minors_on_record,
            families_registered=msg.families_registered,
            families_deregistered=msg.families_deregistered,
            office_reports=msg.office_reports,
            as_of=at(msg, "as_of"),
            submitted_by=msg.submitted_by,
            submitted_at=at(msg, "submitted_at"),
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
        )


class QuarterReportList(BaseModel):
    """The offices' reports of the quarter, then the ministry's summary."""

    items: list[QuarterReport]


class RegistryIndicators(BaseModel):
    """MON-5: families and minors on record at the quarter's end (REG-7). Counts only."""

    territory: str
    quarter: str
    as_of: datetime
    families_on_record: int
    minors_on_record: int

    @classmethod
    def from_proto(cls, msg: pb.ReportRegistryIndicatorsResponse) -> RegistryIndicators:
        return cls(
            territory=msg.territory,
            quarter=msg.quarter,
            as_of=at(msg, "as_of"),
            families_on_record=msg.families_on_record,
            minors_on_record=msg.minors_on_record,
        )
