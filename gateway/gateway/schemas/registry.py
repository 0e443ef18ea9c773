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

DecisionKind = TypeAliasType("DecisionKind", Literal["registration", "deregistration"])
DecisionState = TypeAliasType("DecisionState", Literal["recorded", "received", "entered"])
FamilyState = TypeAliasType("FamilyState", Literal["pending", "registered", "deregistered"])
DocumentKind = TypeAliasType("DocumentKind", Literal["passport", "birth_certificate"])
DECISION_KINDS = EnumMap[pb.DecisionKind.ValueType, DecisionKind](pb.DecisionKind, "DECISION_KIND_")
DECISION_STATES = EnumMap[pb.DecisionState.ValueType, DecisionState](
    pb.DecisionState, "DECISION_STATE_"
)
FAMILY_STATES = EnumMap[pb.FamilyState.ValueType, FamilyState](pb.FamilyState, "FAMILY_STATE_")
DOCUMENT_KINDS = EnumMap[pb.DocumentKind.ValueType, DocumentKind](pb.DocumentKind, "DOCUMENT_KIND_")

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
    """Whom the commission heard before deciding; all three are required (REG-2)."""

    model_config = input_config()

    prevention_bodies_heard: StrictBool
    minor_opinion_heard: StrictBool
    parents_opinion_heard: StrictBool

    def to_proto(self) -> pb.Hearing:
        return pb.Hearing(
            prevention_bodies_heard=self.prevention_bodies_heard,
            minor_opinion_heard=self.minor_opinion_heard,
            parents_opinion_heard=self.parents_opinion_heard,
        )


_VOTE_EXAMPLE = {"members_present": 7, "votes_for": 5, "votes_against": 1}
_HEARING_EXAMPLE = {
    "prevention_bodies_heard": True,
    "minor_opinion_heard": True,
    "parents_opinion_heard": True,
}


class RegistrationIn(BaseModel):
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
    vote: VoteIn
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
            vote=self.vote.to_proto(),
            hearing=self.hearing.to_proto(),
            grounds=self.grounds,
            responsible_agency_id=self.responsible_agency_id,
            responsible_body=self.responsible_body,
            review_on=self.review_on.isoformat(),
            minors=[p.to_proto() for p in self.minors],
            relatives=[p.to_proto() for p in self.relatives],
        )


class DeregistrationIn(BaseModel):
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
    vote: VoteIn
    hearing: HearingIn
    grounds: FreeText = Field(min_length=1, max_length=4000)

    def to_proto(self, idempotency_key: str | None) -> pb.RecordDeregistrationRequest:
        return pb.RecordDeregistrationRequest(
            idempotency_key=idempotency_key or "",
            family_id=str(self.family_id),
            decided_on=self.decided_on.isoformat(),
            number=self.number,
            vote=self.vote.to_proto(),
            hearing=self.hearing.to_proto(),
            grounds=self.grounds,
        )


# --- responses ------------------------------------------------------------------------------


class Document(BaseModel):
    kind: DocumentKind
    series: str
    number: str
    issued_on: date | None


class Person(BaseModel):
    """Personal data: every read is audited with its purpose (REG-9)."""

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
        )


class Vote(BaseModel):
    members_present: int
    votes_for: int
    votes_against: int


class Hearing(BaseModel):
    prevention_bodies_heard: bool
    minor_opinion_heard: bool
    parents_opinion_heard: bool


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
            ),
            grounds=msg.grounds,
            state=DECISION_STATES.from_proto(msg.state),
            recorded_by=msg.recorded_by,
            recorded_at=at(msg, "recorded_at"),
            office_id=msg.office_id or None,
            received_at=when(msg, "received_at"),
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
