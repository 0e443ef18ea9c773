"""Delivery configuration and signatures as plain functions: an unknown channel or a bad entry
is refused at start-up naming the entry; a webhook signature with a wrong secret, a changed
body or a stale timestamp does not verify; backoff and the escalation instant (NTF-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from kamqor.profiles.model import Lead, Notices
from notify import rules, signing
from notify.app import NotifySettings, create_app
from notify.channels import Channels, Email, Letter, Webhook

SECRET = "0123456789abcdef-secret"


def test_an_unknown_channel_is_refused_naming_the_entry() -> None:
    with pytest.raises(ValidationError) as refused:
        Channels.model_validate({"agencies": {"kz-ast/police": [{"kind": "fax", "to": "x"}]}})
    (error,) = refused.value.errors()
    assert error["loc"][:3] == ("agencies", "kz-ast/police", 0)
    assert "fax" in str(error["input"])


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "webhook", "url": "ftp://x", "secret": SECRET},
        {"kind": "webhook", "url": "https://x.example", "secret": "short"},
        {"kind": "email", "to": "not-an-address"},
        {"kind": "letter", "extra": 1},
    ],
)
def test_a_bad_channel_entry_is_refused(entry: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Channels.model_validate({"agencies": {"kz-ast/police": [entry]}})


def test_a_bad_channels_file_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("agencies:\n  kz-ast/police:\n    - {kind: pigeon}\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        create_app(NotifySettings(notify_channels_file=path))


def test_the_recipients_channels_with_a_letter_where_writing_is_required() -> None:
    channels = Channels.model_validate(
        {
            "agencies": {
                "kz-ast/police": [
                    {"kind": "webhook", "url": "https://p.example", "secret": SECRET}
                ],
                "*/police": [{"kind": "email", "to": "duty@police.example"}],
            }
        }
    )
    own = channels.for_recipient(territory="kz-ast", agency_type="police", in_writing=True)
    assert [type(c) for c in own] == [Webhook, Letter]
    other = channels.for_recipient(territory="kz-ala", agency_type="police", in_writing=False)
    assert [type(c) for c in other] == [Email]
    # Nothing configured: a letter, so no notice is ever left without a channel.
    none = channels.for_recipient(territory="kz-ast", agency_type="guardianship", in_writing=False)
    assert [type(c) for c in none] == [Letter]


def test_ntf7_the_webhook_signature_verifies_only_unchanged_and_fresh() -> None:
    body = b'{"notice_id":"n1"}'
    signature = signing.sign(SECRET, 1_700_000_000, body)
    assert signature.startswith("sha256=")
    ok = {"timestamp": "1700000000", "body": body, "signature": signature}
    assert signing.verify(SECRET, now=1_700_000_100, **ok)  # type: ignore[arg-type]
    assert not signing.verify("another-secret-0123", now=1_700_000_100, **ok)  # type: ignore[arg-type]
    assert not signing.verify(
        SECRET, timestamp="1700000000", body=body + b" ", signature=signature, now=1_700_000_100
    )
    assert not signing.verify(
        SECRET, timestamp="1700000001", body=body, signature=signature, now=1_700_000_100
    )
    assert not signing.verify(SECRET, now=1_700_000_000 + 301, **ok)  # type: ignore[arg-type]
    assert not signing.verify(
        SECRET, timestamp="soon", body=body, signature=signature, now=1_700_000_100
    )


def test_ntf7_retries_back_off_then_give_up() -> None:
    waits = [rules.retry_after(n) for n in range(1, rules.MAX_ATTEMPTS + 1)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert all(w is not None and w <= rules.LONGEST_RETRY for w in waits[:-1])
    assert waits[-1] is None


def test_ntf7_escalation_comes_the_profiles_lead_before_the_due_time() -> None:
    created = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    due = created + timedelta(hours=24)
    assert rules.escalate_at(created_at=created, due_at=due, lead=Lead(hours=6)) == due - timedelta(
        hours=6
    )
    assert rules.escalate_at(
        created_at=created, due_at=due, lead=Lead(fraction=0.25)
    ) == due - timedelta(hours=6)
    # A lead longer than the whole term escalates at once, never before the notice exists.
    assert rules.escalate_at(created_at=created, due_at=due, lead=Lead(days=3)) == created
    assert rules.needs_escalation("pending")
    assert not rules.needs_escalation("acknowledged")


def test_the_profiles_notices_block_is_validated() -> None:
    assert Notices().escalate_before == Lead(fraction=0.25)
    with pytest.raises(ValidationError):
        Notices.model_validate({"escalate_before": {"hours": 6, "days": 1}})
    with pytest.raises(ValidationError):
        Notices.model_validate({"escalate_before": {"days": 31}})
    with pytest.raises(ValidationError):
        Notices.model_validate({"acknowledgement_reminder_hours": 0})
