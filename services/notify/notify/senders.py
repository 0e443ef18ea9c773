"""The channels' wire: a signed webhook POST and an SMTP submission (NTF-7). No database here;
the worker records what these return. Errors are reported by class, never with the notice's
content, which carries personal data."""

from __future__ import annotations

import asyncio
import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from notify import signing
from notify.channels import Email, Smtp, Webhook


@dataclass(frozen=True)
class Outcome:
    ok: bool
    # HTTP status, SMTP reply code, registration number; or the error's class.
    detail: str


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


async def send_webhook(
    client: httpx.AsyncClient,
    channel: Webhook,
    *,
    delivery_id: str,
    body: bytes,
    timestamp: int,
) -> Outcome:
    """POST the notice, signed; delivered on a 2xx answer (the receipt is its status)."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(channel.secret.get_secret_value(), timestamp, body),
        signing.IDEMPOTENCY_HEADER: delivery_id,
    }
    try:
        reply = await client.post(
            channel.url, content=body, headers=headers, timeout=channel.timeout_seconds
        )
    except httpx.HTTPError as exc:
        return Outcome(ok=False, detail=type(exc).__name__)
    return Outcome(ok=200 <= reply.status_code < 300, detail=f"HTTP {reply.status_code}")


def _submit(smtp: Smtp, message: EmailMessage) -> Outcome:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as conn:
        conn.ehlo()
        code, _ = conn.mail(smtp.sender)
        if code != 250:
            return Outcome(ok=False, detail=f"SMTP MAIL {code}")
        for to in message.get_all("To", []):
            code, _ = conn.rcpt(to)
            if code not in (250, 251):
                conn.rset()
                return Outcome(ok=False, detail=f"SMTP RCPT {code}")
        code, reply = conn.data(message.as_bytes())
        # The server's reply to DATA is the receipt: it accepted responsibility for the mail.
        return Outcome(ok=code == 250, detail=f"SMTP {code} {reply.decode(errors='replace')}"[:200])


async def send_email(
    smtp: Smtp, channel: Email, *, delivery_id: str, subject: str, text: str
) -> Outcome:
    """Submit the notice to the agency's mailbox; delivered when the server accepts it (250)."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = channel.to
    # The subject names the rule and ids only: mail subjects end up in logs of every relay.
    message["Subject"] = subject
    message["Message-ID"] = f"<{delivery_id}@kamqor>"
    message.set_content(text)
    try:
        return await asyncio.to_thread(_submit, smtp, message)
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(ok=False, detail=type(exc).__name__)
