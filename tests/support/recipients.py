"""The recipient agencies' side of notice delivery, on loopback (NTF-7): a webhook receiver that
checks every HMAC signature and dedupes on the Idempotency-Key, and a real SMTP server
(aiosmtpd) that keeps what it accepts. Shared by notify's delivery tests and the console's
browser tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from devstack.ports import free_port
from kamqor.clock import utcnow
from notify import signing

WEBHOOK_PATH = "/kamqor/notices"


@dataclass
class Receiver:
    """An agency's system: checks every signature, dedupes on the Idempotency-Key."""

    secret: str
    # The receiver's clock for the timestamp check; None: the domain clock at each request
    # (a suite whose notify delivers on its own schedule).
    now: datetime | None = field(default_factory=utcnow)
    fail_next: int = 0
    verified: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            good = signing.verify(
                receiver.secret,
                timestamp=self.headers.get(signing.TIMESTAMP_HEADER, ""),
                body=body,
                signature=self.headers.get(signing.SIGNATURE_HEADER, ""),
                now=(receiver.now or utcnow()).timestamp(),
            )
            with receiver.lock:
                if not good:
                    receiver.refused += 1
                    status = 401
                elif receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    status = 503
                else:
                    key = self.headers[signing.IDEMPOTENCY_HEADER]
                    if key not in receiver.keys:
                        receiver.keys.append(key)
                        receiver.verified.append(json.loads(body))
                    status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # no personal data in test logs either
            pass

    return Handler


@contextmanager
def receiving(receiver: Receiver) -> Iterator[str]:
    """The receiver listening on loopback; yields the webhook URL to configure."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}"
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    """What the SMTP server accepted: (MAIL FROM, RCPT TOs, the raw message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def mail_server(mailbox: Mailbox) -> Iterator[int]:
    """A real SMTP server on loopback delivering into `mailbox`; yields its port."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
