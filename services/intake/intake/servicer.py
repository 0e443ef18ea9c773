"""gRPC servicer: proto to domain and back, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from intake import rules, service
from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.intake.v1 import intake_pb2_grpc
from kamqor.protoconv import page_size, parse_date, ts
from kamqor.runtime import Wiring

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = (pb.RegisterAppealRequest.DESCRIPTOR.fields_by_name["summary"],)

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


def _person(msg: pb.Person, i: int) -> rules.PersonIn:
    relation = _RELATIONS.get(msg.relation)
    if relation is None:
        raise Invalid(f"persons[{i}].relation", "is required")
    birth = parse_date(msg.birth_date, field=f"persons[{i}].birth_date", required=False)
    return rules.PersonIn(full_name=msg.full_name, relation=relation, birth_date=birth)


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
    )


def _appeal_pb(view: service.AppealView) -> pb.Appeal:
    a = view.appeal
    return pb.Appeal(
        id=a.id,
        journal_number=a.journal_number,
        center_id=a.center_id,
        territory=a.territory,
        channel=_CHANNEL_PB[rules.Channel(a.channel)],
        registered_at=ts(a.registered_at),
        summary=a.summary,
        persons=[
            pb.Person(
                full_name=p.full_name,
                relation=_RELATION_PB[rules.Relation(p.relation)],
                birth_date=p.birth_date.isoformat() if p.birth_date else "",
            )
            for p in view.persons
        ],
        threat_to_life=a.threat_to_life,
        domestic_violence=a.domestic_violence,
        obligations=[obligations.to_pb(o) for o in view.obligations],
        registered_by=a.registered_by,
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
