"""Which channels deliver a recipient agency's notices: configuration, not code (NTF-7).

The file (`KAMQOR_NOTIFY_CHANNELS_FILE`, YAML) maps `<territory>/<agency_type>` (or
`*/<agency_type>` for every territory) to a list of channels:

    smtp: {host: 127.0.0.1, port: 25, sender: notices@kamqor.example}
    agencies:
      kz-ast/police:
        - {kind: webhook, url: "https://police.example/kamqor/notices", secret: "..."}
        - {kind: email, to: "duty@police.example"}
      "*/guardianship":
        - {kind: letter}

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
        Annotated[str, Field(pattern=r"^(\*|[a-z]{2}(-[a-z]{2,3})?)/[a-z][a-z_-]*$")],
        list[ChannelConfig],
    ] = {}

    def for_recipient(
        self, *, territory: str, agency_type: str, in_writing: bool
    ) -> list[ChannelConfig]:
        """The recipient's channels, its territory's entry before the catch-all; a letter when
        nothing is configured or the profile requires writing."""
        found = list(
            self.agencies.get(f"{territory}/{agency_type}")
            or self.agencies.get(f"*/{agency_type}")
            or []
        )
        if (in_writing or not found) and not any(isinstance(c, Letter) for c in found):
            found.append(Letter(kind="letter"))
        return found

    def find(
        self, *, territory: str, agency_type: str, kind: str, target: str
    ) -> ChannelConfig | None:
        """The configured channel a delivery was created for; None once it was removed."""
        for channel in self.for_recipient(
            territory=territory, agency_type=agency_type, in_writing=False
        ):
            if channel.kind == kind and target_of(channel) == target:
                return channel
        return None


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
