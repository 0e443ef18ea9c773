"""ListNotices through a real gRPC channel on a real PostgreSQL, NATS and Keycloak: the police's
inbox newest first or the earliest due first, page by page without a gap or a repeat (ties broken
by id), with the state filter holding on every page; a token of another order is refused.

The notices are written straight into notify's table (their creation from admissions is tested
end to end elsewhere); only their listing is under test here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from kamqor.ids import new_id
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.runtime import ServiceApp
from notify.app import create_app
from notify.models import Notice
from notify.rules import NoticeState
from tests.shelter.test_service import details
from tests.support.services import bearer, channel_to, running_service

BASE = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def notify_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_app, name="notify", postgres=postgres, nats_server=nats_server, keycloak=keycloak
    ) as app:
        yield app


@pytest.fixture(scope="module")
async def stub(notify_app: ServiceApp) -> AsyncIterator[notify_pb2_grpc.NotifyServiceStub]:
    async with channel_to(notify_app) as channel:
        yield notify_pb2_grpc.NotifyServiceStub(channel)


@pytest.fixture(scope="module")
def police(keycloak) -> str:  # type: ignore[no-untyped-def]
    return keycloak.token("police.ast")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def inbox(notify_app: ServiceApp) -> dict[str, str]:
    """Notices to Astana's police: name -> id. `tie_*` share a creation instant and a due time;
    `done` is acknowledged."""
    rows = {
        # name: (created, due, state)
        "old_late_due": (0, 30, NoticeState.PENDING),
        "tie_a": (1, 10, NoticeState.PENDING),
        "tie_b": (1, 10, NoticeState.PENDING),
        "new_early_due": (2, 5, NoticeState.PENDING),
        "done": (3, 1, NoticeState.ACKNOWLEDGED),
    }
    subject = f"stay/{uuid.uuid4()}"
    ids: dict[str, str] = {}
    assert notify_app.wiring is not None
    async with notify_app.wiring.transaction() as session:
        for name, (created, due, state) in rows.items():
            ids[name] = new_id()
            session.add(
                Notice(
                    id=ids[name],
                    rule="SHL-3",
                    recipient_agency_type="police",
                    territory="kz-ast",
                    sender_agency="fc-ast-1",
                    subject=subject,
                    text=name,
                    created_at=BASE + timedelta(hours=created),
                    due_at=BASE + timedelta(hours=due),
                    state=state,
                    source_event_id=new_id(),
                )
            )
    ids["subject"] = subject
    return ids


async def every_page(stub, token: str, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    page_token = ""
    while True:
        reply = await stub.ListNotices(
            pb.ListNoticesRequest(page_size=1, page_token=page_token, **kw),
            metadata=bearer(token),
        )
        ids += [n.id for n in reply.notices]
        page_token = reply.next_page_token
        if not page_token:
            return ids


async def test_newest_first_across_pages_with_the_state_filter(stub, police, inbox) -> None:  # type: ignore[no-untyped-def]
    ids = await every_page(stub, police, subjects=[inbox["subject"]], state=pb.NOTICE_STATE_PENDING)
    tie = sorted([inbox["tie_a"], inbox["tie_b"]], reverse=True)
    assert ids == [inbox["new_early_due"], *tie, inbox["old_late_due"]]


async def test_the_earliest_due_first_across_pages(stub, police, inbox) -> None:  # type: ignore[no-untyped-def]
    ids = await every_page(
        stub, police, subjects=[inbox["subject"]], order=pb.NOTICE_ORDER_DUE_FIRST
    )
    tie = sorted([inbox["tie_a"], inbox["tie_b"]])
    assert ids == [inbox["done"], inbox["new_early_due"], *tie, inbox["old_late_due"]]


async def test_a_token_of_another_order_is_refused(stub, police, inbox) -> None:  # type: ignore[no-untyped-def]
    first = await stub.ListNotices(
        pb.ListNoticesRequest(page_size=1, subjects=[inbox["subject"]]), metadata=bearer(police)
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListNotices(
            pb.ListNoticesRequest(
                page_size=1,
                subjects=[inbox["subject"]],
                page_token=first.next_page_token,
                order=pb.NOTICE_ORDER_DUE_FIRST,
            ),
            metadata=bearer(police),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused.value) == ("invalid", ["page_token"])
