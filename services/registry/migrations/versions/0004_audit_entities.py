"""One audit row per call: a page's read names every record in `audit_log.entities` (REG-9).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from kamqor.schema import add_audit_entities, drop_audit_entities

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_audit_entities()


def downgrade() -> None:
    drop_audit_entities()
