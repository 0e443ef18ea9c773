"""The request's digest stored with each idempotency key (a reuse with another request is refused).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from kamqor.schema import add_idempotency_digest, drop_idempotency_digest

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_idempotency_digest()


def downgrade() -> None:
    drop_idempotency_digest()
