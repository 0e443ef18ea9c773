"""DDL of the kit's tables (outbox, inbox, audit, idempotency, obligations), for service migrations.

Each service's first migration calls `create_kit_tables()`, so the kit's schema is written once.
A later change to a kit table adds a function here and a migration in every service that calls it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)


def create_kit_tables() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("traceparent", sa.String(200)),
        sa.Column("tracestate", sa.String(500)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(150), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("result_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "obligations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("responsible_agency", sa.String(100), nullable=False),
        sa.Column("responsible_person", sa.String(100), nullable=False, server_default=""),
        sa.Column("arose_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("approaching_at", TS, nullable=False),
        sa.Column("next_check_at", TS),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("met_at", TS),
        sa.Column("on_time", sa.Boolean()),
        sa.Column("profile", sa.String(20), nullable=False),
        sa.Column("profile_version", sa.String(50), nullable=False),
        sa.Column("calendar_version", sa.String(50), nullable=False),
        sa.Column("approaching_sent_at", TS),
        sa.Column("overdue_sent_at", TS),
    )
    op.create_index("ix_obligations_sweep", "obligations", ["state", "next_check_at"])
    op.create_index("ix_obligations_rule", "obligations", ["rule"])
    op.create_index("ix_obligations_subject", "obligations", ["subject"])
    op.create_index("ix_obligations_responsible_agency", "obligations", ["responsible_agency"])


def add_replanning() -> None:
    """Obligations keep their term (kind, amount) and a longer calendar version, which marks a
    provisional calendar; `obligation_replans` records each due time moved by new calendar data."""
    op.alter_column(
        "obligations", "calendar_version", type_=sa.String(120), existing_nullable=False
    )
    op.add_column(
        "obligations",
        sa.Column("term_kind", sa.String(30), nullable=False, server_default=""),
    )
    op.add_column("obligations", sa.Column("term_amount", sa.Integer()))
    op.create_table(
        "obligation_replans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("obligation_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("old_due_at", TS, nullable=False),
        sa.Column("new_due_at", TS, nullable=False),
        sa.Column("old_calendar_version", sa.String(120), nullable=False),
        sa.Column("new_calendar_version", sa.String(120), nullable=False),
    )
    op.create_index("ix_obligation_replans_obligation_id", "obligation_replans", ["obligation_id"])


def add_idempotency_digest() -> None:
    """The request's SHA-256 stored with its idempotency key (kit `idempotency`); keys stored
    before have none ("") and match any request."""
    op.add_column(
        "idempotency_keys",
        sa.Column("request_digest", sa.String(64), nullable=False, server_default=""),
    )


def drop_idempotency_digest() -> None:
    op.drop_column("idempotency_keys", "request_digest")


def add_audit_entities() -> None:
    """One audit row per call (kit `audit.record_many`): a page's row names every record read;
    the GIN index finds a record's rows among the pages."""
    op.add_column(
        "audit_log",
        sa.Column(
            "entities",
            sa.ARRAY(sa.String(200)),
            nullable=False,
            server_default=sa.text("'{}'::varchar[]"),
        ),
    )
    op.create_index("ix_audit_log_entities", "audit_log", ["entities"], postgresql_using="gin")


def drop_audit_entities() -> None:
    op.drop_index("ix_audit_log_entities", "audit_log")
    op.drop_column("audit_log", "entities")
