"""Idempotency keys: a retry with the same key returns the first result, never a second write.

As the IETF httpapi Idempotency-Key draft has it, the key is stored with a fingerprint of the
request (SHA-256 of its canonical form): a reuse of the key with a different request is refused
(422 at the gateway), and a twin that arrives while the first is still being processed is
refused too (409), rather than waiting for it or writing twice. A key recorded before the
fingerprint existed has none and matches any request.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from google.protobuf.message import Message
from sqlalchemy import func, select
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.clock import utcnow
from kamqor.db import UTCDateTime, stage
from kamqor.errors import Aborted, Invalid

KEY_FIELD = "idempotency_key"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    # Scoped by operation and agency: two agencies may pick the same key independently.
    scope: str = Field(primary_key=True, max_length=150)
    key: str = Field(primary_key=True, max_length=200)
    result_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # SHA-256 (hex) of the request that first used the key; "" for keys stored before it existed.
    request_digest: str = Field(default="", max_length=64)


def check_key(key: str) -> str:
    key = key.strip()
    if len(key) > 200:
        raise Invalid(KEY_FIELD, "at most 200 characters")
    return key


def request_digest(request: Message) -> str:
    """SHA-256 (hex) of the request's canonical form (deterministic protobuf encoding), its
    idempotency key left out; the same JSON body in any key order or spacing gives the same."""
    canonical = type(request)()
    canonical.CopyFrom(request)
    if KEY_FIELD in canonical.DESCRIPTOR.fields_by_name:
        canonical.ClearField(KEY_FIELD)
    return hashlib.sha256(canonical.SerializeToString(deterministic=True)).hexdigest()


def _lock_id(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def claim(session: AsyncSession, *, scope: str, key: str, digest: str) -> str | None:
    """The result id a previous call with this key produced, or None for a first call (and
    without a key). Holds the key until this transaction ends, so a twin arriving meanwhile
    gets `Aborted` (409) at once; a reuse of the key with another request gets `Invalid` (422).
    """
    if not key:
        return None
    if not digest:
        raise ValueError("an idempotency key needs the digest of its request")
    # Transaction-scoped advisory lock: released by the commit or rollback of this call.
    held = await session.scalar(select(func.pg_try_advisory_xact_lock(_lock_id(scope, key))))
    if not held:
        raise Aborted(
            "a request with this idempotency key is still being processed; retry it later",
            code="idempotency-key-in-flight",
        )
    row = await session.get(IdempotencyRecord, (scope, key))
    if row is None:
        return None
    if row.request_digest and row.request_digest != digest:
        raise Invalid(
            KEY_FIELD,
            "was already used for a different request; use a new key for a new request",
            code="idempotency-key-reused",
        )
    return row.result_id


def remember(session: AsyncSession, *, scope: str, key: str, digest: str, result_id: str) -> None:
    """Stage the key with the request's digest and the result, in the caller's transaction."""
    if key:
        stage(
            session,
            IdempotencyRecord(
                scope=scope,
                key=key,
                result_id=result_id,
                created_at=utcnow(),
                request_digest=digest,
            ),
        )
