"""The notify sweeper: the kit's obligation sweep, then the delivery worker and the NTF-7
escalations before due (SHL-3, NTF-7).

Each notice's term is an obligation, so the kit's sweep emits its approaching and overdue
events. Deliveries are claimed in one short transaction, sent with no transaction open (a slow
agency never holds the consumer's or anyone's locks), and their outcomes recorded in another;
a delivery whose sender died is retried after its lease, and receivers dedupe on its id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import httpx

from kamqor.clock import utcnow
from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper
from kamqor.tasks import cancel_and_wait
from notify import senders, service
from notify.channels import Channels, Email, Webhook
from notify.senders import Outcome

SERVICE = "notify"
log = logging.getLogger(__name__)


class NotifySweeper(Sweeper):
    def __init__(self, wiring: Wiring, channels: Channels) -> None:
        super().__init__(
            service=SERVICE,
            uow=wiring.uow,
            interval_seconds=wiring.settings.sweep_interval_seconds,
            after_commit=wiring.relay.wake,
        )
        self._wiring = wiring
        self._channels = channels

    async def sweep_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        count = await super().sweep_once(now)
        count += await self.deliver_once(now)
        async with self._wiring.uow() as session:
            escalated = await service.escalate_due(session, now=now)
        return count + escalated

    async def run(self) -> None:
        """The kit's sweep loop, and beside it the delivery worker's own, faster loop."""
        poll = self._channels.poll_seconds
        if poll is None:
            await super().run()
            return
        worker = asyncio.create_task(self._deliver_forever(poll), name="notify-deliveries")
        try:
            await super().run()
        finally:
            await cancel_and_wait(worker)

    async def _deliver_forever(self, poll: float) -> None:
        while True:
            try:
                while await self.deliver_once(utcnow()):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notify deliveries: %s", type(exc).__name__)
            await asyncio.sleep(poll)

    async def deliver_once(self, now: datetime) -> int:
        """One round: claim what is due, send it, record each outcome; how many were tried."""
        async with self._wiring.uow() as session:
            jobs = await service.claim_deliveries(session, now=now)
        self._wiring.relay.wake()  # registered letters' NoticeDelivered events
        if not jobs:
            return 0
        async with httpx.AsyncClient() as client:
            for job in jobs:
                outcome, pdf = await self._send(client, job, now)
                async with self._wiring.uow() as session:
                    await service.record_outcome(
                        session,
                        delivery_id=job.delivery_id,
                        ok=outcome.ok,
                        detail=outcome.detail,
                        now=now,
                        letter_pdf=pdf,
                    )
                self._wiring.relay.wake()
        return len(jobs)

    async def _send(
        self, client: httpx.AsyncClient, job: service.DeliveryJob, now: datetime
    ) -> tuple[Outcome, bytes | None]:
        """The outcome, and a registered letter's PDF."""
        channel = self._channels.find(
            territory=job.territory,
            agency_type=job.recipient_agency_type,
            agency=job.recipient_agency,
            kind=job.channel,
            target=job.target,
        )
        if job.registration:
            pdf = await asyncio.to_thread(service.letter_of, job, now=now)
            return Outcome(ok=True, detail=job.registration), pdf
        if isinstance(channel, Webhook):
            sent = await senders.send_webhook(
                client,
                channel,
                delivery_id=job.delivery_id,
                body=senders.webhook_body(job.payload),
                timestamp=int(now.timestamp()),
            )
            return sent, None
        if isinstance(channel, Email):
            mailed = await senders.send_email(
                self._channels.smtp,
                channel,
                delivery_id=job.delivery_id,
                subject=job.subject,
                text=job.text,
            )
            return mailed, None
        # Configuration changed since the notice was created: retried, then escalated.
        log.warning("notify: delivery %s has no configured channel", job.delivery_id)
        return Outcome(ok=False, detail="channel not configured"), None


def build(channels: Channels) -> Callable[[Wiring], Sweeper]:
    def make(wiring: Wiring) -> Sweeper:
        return NotifySweeper(wiring, channels)

    return make
