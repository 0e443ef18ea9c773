"""Test doubles for the gateway's unit tests: a verifier, fake services, request bodies.

The real verifier is tested against Keycloak in `tests/kit`; here a token is just a name
for a principal. The fake services run in-process on a free port and raise the kit's domain
errors through the kit's own mapping (`status_for`), so the gateway sees what real ones send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from kamqor.auth import AuthError, KeySetUnavailable, Principal, TokenVerifier
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.errors import DomainError
from kamqor.grpcserver import status_for
from kamqor.intake.v1 import intake_pb2, intake_pb2_grpc
from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc

Ctx = grpc.aio.ServicerContext[Any, Any]


def principal(*roles: str, token: str = "token-1") -> Principal:
    return Principal(
        subject=str(uuid.uuid4()),
        username="operator",
        roles=frozenset(roles),
        agency="fc-ast-1",
        agency_type="family_center",
        territory="kz-ast",
        client_id="kamqor-console",
        token=token,
    )


class FakeVerifier(TokenVerifier):
    """Tokens are keys of `principals`; `"expired"` and `"nokeys"` fail like the real one."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        super().__init__(issuer="http://keycloak.invalid/realms/kamqor", audience="kamqor-gateway")
        self.principals = principals

    async def verify(self, token: str) -> Principal:
        if token == "nokeys":
            raise KeySetUnavailable("signing keys unavailable")
        if token not in self.principals:
            raise AuthError("token expired" if token == "expired" else "bad signature")
        return self.principals[token]


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def admitted() -> shelter_pb2.AdmitRequest:
    return shelter_pb2.AdmitRequest(
        shelter_id=str(uuid.uuid4()),
        adult=shelter_pb2.Resident(full_name="Dana K.", birth_date="1990-05-14"),
        referral=shelter_pb2.REFERRAL_HEALTH,
    )


def stay_pb(request: shelter_pb2.AdmitRequest) -> shelter_pb2.Stay:
    return shelter_pb2.Stay(
        id=str(uuid.uuid4()),
        shelter_id=request.shelter_id,
        territory="kz-ast",
        adult=request.adult,
        minors=request.minors,
        referral=request.referral,
        admitted_at=ts(NOW),
        latest_end_at=ts(NOW + timedelta(days=31)),
        state=shelter_pb2.STAY_STATE_ACTIVE,
        appeal_id=request.appeal_id,
        admitted_by="operator",
    )


def notice_pb(**kw: Any) -> notify_pb2.Notice:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "rule": "SHL-3",
        "recipient_agency_type": "police",
        "territory": "kz-ast",
        "subject": f"stay/{uuid.uuid4()}",
        "text": "Admission with minors",
        "created_at": ts(NOW),
        "due_at": ts(NOW + timedelta(hours=24)),
        "state": notify_pb2.NOTICE_STATE_PENDING,
    }
    values.update(kw)
    return notify_pb2.Notice(**values)


@dataclass
class Recorder:
    """What the fake services received, and the error to answer the next call with."""

    calls: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)
    fail_with: DomainError | Exception | None = None
    reply_override: Any = None

    async def record(self, method: str, request: Any, context: Ctx) -> None:
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        self.calls.append((method, request, metadata))
        error, self.fail_with = self.fail_with, None
        if isinstance(error, DomainError):
            code, message, trailing = status_for(error)
            await context.abort(code, message, trailing)
        if error is not None:
            raise error


class FakeShelter(shelter_pb2_grpc.ShelterServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def Admit(self, request: shelter_pb2.AdmitRequest, context: Ctx) -> Any:
        await self.rec.record("Admit", request, context)
        stay = self.rec.reply_override or stay_pb(request)
        return shelter_pb2.AdmitResponse(stay=stay)

    async def GetStay(self, request: shelter_pb2.GetStayRequest, context: Ctx) -> Any:
        await self.rec.record("GetStay", request, context)
        stay = stay_pb(admitted())
        stay.id = request.stay_id
        return shelter_pb2.GetStayResponse(stay=stay)

    async def Discharge(self, request: shelter_pb2.DischargeRequest, context: Ctx) -> Any:
        await self.rec.record("Discharge", request, context)
        stay = stay_pb(admitted())
        stay.id = request.stay_id
        stay.state = shelter_pb2.STAY_STATE_DISCHARGED
        stay.discharged_at.CopyFrom(ts(NOW + timedelta(days=3)))
        stay.discharge_reason = request.reason
        return shelter_pb2.DischargeResponse(stay=stay)

    async def RegisterShelter(
        self, request: shelter_pb2.RegisterShelterRequest, context: Ctx
    ) -> Any:
        await self.rec.record("RegisterShelter", request, context)
        shelter = shelter_pb2.Shelter(
            id=str(uuid.uuid4()),
            center_id="fc-ast-1",
            territory="kz-ast",
            name=request.name,
            capacity=request.capacity,
        )
        return shelter_pb2.RegisterShelterResponse(shelter=shelter)

    async def ListShelters(self, request: shelter_pb2.ListSheltersRequest, context: Ctx) -> Any:
        await self.rec.record("ListShelters", request, context)
        shelter = shelter_pb2.Shelter(
            id=str(uuid.uuid4()), center_id="fc-ast-1", territory="kz-ast", name="A", capacity=3
        )
        return shelter_pb2.ListSheltersResponse(shelters=[shelter])


class FakeIntake(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    def _appeal(self, request: intake_pb2.RegisterAppealRequest) -> intake_pb2.Appeal:
        obligation = deadlines_pb2.Obligation(
            id=str(uuid.uuid4()),
            rule="INT-3/threat",
            subject="appeal/1",
            responsible_agency="fc-ast-1",
            due_at=ts(NOW + timedelta(days=1)),
            state="open",
            profile="kz",
            profile_version="kz-2026.1",
            calendar_version="kz-2026",
        )
        return intake_pb2.Appeal(
            id=str(uuid.uuid4()),
            journal_number="fc-ast-1/2026/000042",
            center_id="fc-ast-1",
            territory="kz-ast",
            channel=request.channel,
            registered_at=ts(NOW),
            summary=request.summary,
            persons=request.persons,
            threat_to_life=request.threat_to_life,
            domestic_violence=request.domestic_violence,
            obligations=[obligation],
            registered_by="operator",
        )

    async def RegisterAppeal(self, request: intake_pb2.RegisterAppealRequest, context: Ctx) -> Any:
        await self.rec.record("RegisterAppeal", request, context)
        return intake_pb2.RegisterAppealResponse(appeal=self._appeal(request))

    async def GetAppeal(self, request: intake_pb2.GetAppealRequest, context: Ctx) -> Any:
        await self.rec.record("GetAppeal", request, context)
        appeal = self._appeal(intake_pb2.RegisterAppealRequest(channel=intake_pb2.CHANNEL_PHONE))
        appeal.id = request.appeal_id
        return intake_pb2.GetAppealResponse(appeal=appeal)

    async def ListAppeals(self, request: intake_pb2.ListAppealsRequest, context: Ctx) -> Any:
        await self.rec.record("ListAppeals", request, context)
        appeal = self._appeal(intake_pb2.RegisterAppealRequest(channel=intake_pb2.CHANNEL_MEDIA))
        return intake_pb2.ListAppealsResponse(appeals=[appeal])


class FakeNotify(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def ListNotices(self, request: notify_pb2.ListNoticesRequest, context: Ctx) -> Any:
        await self.rec.record("ListNotices", request, context)
        return notify_pb2.ListNoticesResponse(notices=[notice_pb()], next_page_token="p2")

    async def ListReminders(self, request: notify_pb2.ListRemindersRequest, context: Ctx) -> Any:
        await self.rec.record("ListReminders", request, context)
        return notify_pb2.ListRemindersResponse()

    async def GetNotice(self, request: notify_pb2.GetNoticeRequest, context: Ctx) -> Any:
        await self.rec.record("GetNotice", request, context)
        return notify_pb2.GetNoticeResponse(notice=notice_pb(id=request.notice_id))

    async def AcknowledgeNotice(
        self, request: notify_pb2.AcknowledgeNoticeRequest, context: Ctx
    ) -> Any:
        await self.rec.record("AcknowledgeNotice", request, context)
        return notify_pb2.AcknowledgeNoticeResponse(
            notice=notice_pb(
                id=request.notice_id,
                state=notify_pb2.NOTICE_STATE_ACKNOWLEDGED,
                acknowledged_at=ts(NOW),
                acknowledged_by_agency="police-ast",
            )
        )


def stay_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "shelter_id": str(uuid.uuid4()),
        "adult": {"full_name": "Dana K.", "birth_date": "1990-05-14"},
        "minors": [
            {"full_name": "Arman K.", "birth_date": "2017-04-02"},
            {"full_name": "Aru K.", "birth_date": "2020-01-09"},
        ],
        "referral": "police",
    }
    body.update(kw)
    return body


def appeal_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "hotline_111",
        "summary": "Children left alone for two days",
        "persons": [{"full_name": "Dana K.", "relation": "mother"}],
    }
    body.update(kw)
    return body
