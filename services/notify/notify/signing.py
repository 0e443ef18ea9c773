"""Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` (NTF-7).

Headers of every webhook delivery:
- `X-Kamqor-Timestamp`: Unix seconds when it was signed;
- `X-Kamqor-Signature`: `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`;
- `Idempotency-Key`: the delivery's id, the same on every retry, so a receiver applies it once.
A receiver refuses a bad signature or a timestamp older than `TOLERANCE`, which stops replays.

The agencies' systems sign the receipts they post back the same way, and name the
channels-file entry whose secret they sign with in `X-Kamqor-Sender` (`notify.receipts`).
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Kamqor-Timestamp"
SIGNATURE_HEADER = "X-Kamqor-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SENDER_HEADER = "X-Kamqor-Sender"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, *, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    """Whether `signature` is ours for this body and the timestamp is fresh."""
    try:
        at = int(timestamp)
    except ValueError:
        return False
    if abs(now - at) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, at, body), signature)
