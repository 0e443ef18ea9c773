"""Which channels deliver a recipient agency's notices: configuration, not code (NTF-7).

The file (`KAMQOR_NOTIFY_CHANNELS_FILE`, YAML) maps `<territory>/<agency_type>` (or
`*/<agency_type>` for every territory), or one agency's id (`edu-ast-1`: its own system, for
the notices addressed to it by id, NTF-3 and PLN-4), to a list of channels:

    smtp: {host: 127.0.0.1, port: 25, sender: notices@kamqor.example}
    agencies:
      kz-ast/police:
        - {kind: webhook, url: "https://police.example/kamqor/notices", secret: "..."}
        - {kind: email, to: "duty@police.example"}
      "*/guardianship":
        - {kind: letter}
      edu-ast-1:
        - {kind: webhook, url: "https://edu.example/kamqor", secret: "..."}

A notice addressed to an agency by id takes that agency's entry, else its type's. The entry's
key is also who signs the receipts that entry's systems post back (`notify.receipts`): the
webhook's secret authenticates them.

An unknown `kind`, a missing URL or a short secret stops start-up, naming the entry. Where the
profile requires notices in writing (`shelter.notice_in_writing`), a letter is always added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

EMAIL = r"^[^@\s]+@[^@\s]+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Webhook(_Strict):
    kind: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$")
    # HMAC-SHA256 key shared with the agency (`notify.signing`).
    secret: SecretStr = Field(min_length=16)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)


class Email(_Strict):
    kind: Literal["email"]
    to: str = Field(pattern=EMAIL)


class Letter(_Strict):
    kind: Literal["letter"]


ChannelConfig = Annotated[Webhook | Email | Letter, Field(discriminator="kind")]


class Smtp(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str = Field(default="notices@kamqor.local", pattern=EMAIL)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)


class Channels(_Strict):
    smtp: Smtp = Smtp()
    # How often the delivery worker looks for due deliveries, apart from the slower obligation
    # sweep, so a notice goes out within about this long of being created; None: only with the
    # sweep (tests drive it with their own clock).
    poll_seconds: float | None = Field(default=1.0, gt=0)
    agencies: dict[
        Annotated[
            str,
            Field(pattern=r"^((\*|[a-z]{2}(-[a-z]{2,3})?)/[a-z][a-z_-]*|[a-z][a-z0-9_-]*)$"),
        ],
        list[ChannelConfig],
    ] = {}

    def key_for(self, *, territory: str, agency_type: str, agency: str = "") -> str | None:
        """The entry a recipient's notices go through: the agency's own, else its type's in
        its territory, else its type's catch-all; None when nothing is configured."""
        for key in (agency, f"{territory}/{agency_type}", f"*/{agency_type}"):
            if key and self.agencies.get(key):
                return key
        return None

    def for_recipient(
        self, *, territory: str, agency_type: str, in_writing: bool, agency: str = ""
    ) -> list[ChannelConfig]:
        """The recipient's channels (`key_for`); a letter when nothing is configured or the
        profile requires writing."""
        key = self.key_for(territory=territory, agency_type=agency_type, agency=agency)
        found = list(self.agencies[key]) if key else []
        if (in_writing or not found) and not any(isinstance(c, Letter) for c in found):
            found.append(Letter(kind="letter"))
        return found

    def find(
        self, *, territory: str, agency_type: str, kind: str, target: str, agency: str = ""
    ) -> ChannelConfig | None:
        """The configured channel a delivery was created for; None once it was removed."""
        for channel in self.for_recipient(
            territory=territory, agency_type=agency_type, in_writing=False, agency=agency
        ):
            if channel.kind == kind and target_of(channel) == target:
                return channel
        return None

    def receipt_secrets(self, sender: str) -> list[str]:
        """The webhook secrets of entry `sender`: what may sign its systems' receipts."""
        return [
            c.secret.get_secret_value()
            for c in self.agencies.get(sender, [])
            if isinstance(c, Webhook)
        ]


def target_of(channel: ChannelConfig) -> str:
    """Where a delivery goes, as shown to its readers (no secret)."""
    if isinstance(channel, Webhook):
        return channel.url
    if isinstance(channel, Email):
        return channel.to
    return "registry"


def load(path: Path | None) -> Channels:
    if path is None:
        return Channels()
    return Channels.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
