"""Signed receipts from the recipient agencies' systems (NTF-7): the use case behind the
gateway's public `POST /v1/notices/receipts`.

How it authenticates: the signature IS the authentication, no bearer token. The agency's system
signs exactly as our outgoing webhooks are signed (`notify.signing`): `X-Kamqor-Signature` is
`sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, over the raw body bytes, with the
webhook secret of the channels-file entry it names in `X-Kamqor-Sender` (an agency id such as
`edu-ast-1`, or `kz-ast/police`; `notify.channels`). The gateway cannot check it (it holds no
secret): it forwards the headers and the raw body, and only this service, which holds the
channels file, verifies them; the kit's interceptor lets this one method through without a
bearer token for that reason (`app.SIGNED_METHODS`).

Replays: a timestamp outside `signing.TOLERANCE_SECONDS` of now is refused, and each receipt id
is recorded once: the same receipt again returns what it recorded and changes nothing; the same
id for another notice is a conflict. A receipt for a notice that is not the sender's (another
agency's, or none at all) is refused as "not found" alike, so a sender cannot probe for notices.
Every refusal comes before anything is written.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Invalid, NotFound, Unauthenticated
from notify import rules, service, signing
from notify.channels import Channels
from notify.models import Notice, Receipt

# The role a signing system acts in, for the audit trail only (it holds no token).
SIGNER_ROLE = "partner-system"


@dataclass(frozen=True)
class ReceiptBody:
    receipt_id: str
    notice_id: str


@dataclass(frozen=True)
class Recorded:
    receipt: Receipt
    notice: Notice
    # False when this receipt id was recorded before (a retry or a replay).
    first: bool


def parse_body(body: bytes) -> ReceiptBody:
    """The receipt's JSON object: `receipt_id` (the sender's own UUID) and `notice_id`."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid("body", "a JSON object in UTF-8") from None
    if not isinstance(data, dict):
        raise Invalid("body", "a JSON object")
    unknown = sorted(set(data) - {"receipt_id", "notice_id"})
    if unknown:
        raise Invalid(unknown[0], "unknown field")
    return ReceiptBody(
        receipt_id=_uuid(data.get("receipt_id"), "receipt_id"),
        notice_id=_uuid(data.get("notice_id"), "notice_id"),
    )


def _uuid(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(field, "required, a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid(field, "not a UUID") from None


def authenticate(
    channels: Channels, *, sender: str, timestamp: str, signature: str, body: bytes, now: datetime
) -> datetime:
    """The signing time of a receipt signed with one of `sender`'s webhook secrets; refused
    (unauthenticated) otherwise. One message for an unknown sender and a bad signature, so the
    answer does not tell which senders exist."""
    if not sender or not timestamp or not signature:
        raise Unauthenticated(
            f"a signed receipt needs {signing.SENDER_HEADER}, {signing.TIMESTAMP_HEADER} and "
            f"{signing.SIGNATURE_HEADER}"
        )
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Unauthenticated(f"{signing.TIMESTAMP_HEADER} is not Unix seconds") from None
    if abs(now.timestamp() - signed_at) > signing.TOLERANCE_SECONDS:
        raise Unauthenticated(
            f"{signing.TIMESTAMP_HEADER} is more than {signing.TOLERANCE_SECONDS} s from now "
            "(stale or replayed)"
        )
    if not any(
        signing.verify(
            secret, timestamp=timestamp, body=body, signature=signature, now=now.timestamp()
        )
        for secret in channels.receipt_secrets(sender)
    ):
        raise Unauthenticated(f"{signing.SIGNATURE_HEADER} does not verify for this sender")
    return datetime.fromtimestamp(signed_at, tz=UTC)


async def record_receipt(
    session: AsyncSession,
    *,
    channels: Channels,
    sender: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: datetime | None = None,
) -> Recorded:
    """Authenticate the receipt, then record it and the recipient's acknowledgement (NTF-7)
    once; a repeat returns the first record."""
    now = now or utcnow()
    signed_at = authenticate(
        channels, sender=sender, timestamp=timestamp, signature=signature, body=body, now=now
    )
    parsed = parse_body(body)
    earlier = await session.get(Receipt, parsed.receipt_id)
    if earlier is not None:
        if earlier.notice_id != parsed.notice_id or earlier.sender != sender:
            raise Conflict(
                "receipt_id was already used for another notice", code="receipt-id-reused"
            )
        notice = await session.get(Notice, earlier.notice_id)
        assert notice is not None  # a foreign key
        return Recorded(receipt=earlier, notice=notice, first=False)
    notice = await session.get(Notice, parsed.notice_id, with_for_update=True)
    if notice is None or sender != channels.key_for(
        territory=notice.territory,
        agency_type=notice.recipient_agency_type,
        agency=notice.recipient_agency,
    ):
        raise NotFound("no notice with this notice_id is addressed to this sender")
    receipt = Receipt(
        id=parsed.receipt_id,
        notice_id=notice.id,
        sender=sender,
        signed_at=signed_at,
        received_at=now,
    )
    session.add(receipt)
    agency = notice.recipient_agency or sender
    signer = Principal(
        subject=f"receipt/{receipt.id}",
        username="",
        roles=frozenset({SIGNER_ROLE}),
        agency=agency,
        agency_type=notice.recipient_agency_type,
        territory=notice.territory,
        client_id=sender,
        token="",
    )
    if notice.state != rules.NoticeState.ACKNOWLEDGED:
        service.mark_acknowledged(session, notice, agency=agency, by=signer.subject, now=now)
    audit.record(
        session,
        principal=signer,
        action="update",
        entity=f"notice/{notice.id}",
        purpose="NTF-7 receipt",
    )
    return Recorded(receipt=receipt, notice=notice, first=True)
