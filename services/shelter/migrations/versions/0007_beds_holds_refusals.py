"""Beds and the bed board, holds for expected arrivals, refusals and the waiting list (SHL-6),
decisions keeping a stay past its cap (SHL-1), bed-days per resident and local date (SHL-5).

Every existing shelter gets its `capacity` beds, and each active stay takes as many of them as it
has persons, so the board matches the occupancy counted before.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from kamqor.profiles import get_profile
from kamqor.schema import TS
from kamqor.territories import territory as territory_of

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stays", sa.Column("referral_document", sa.String(100), nullable=False, server_default="")
    )
    op.add_column(
        "stays", sa.Column("redirected_to", sa.String(300), nullable=False, server_default="")
    )
    for column in ("specialist_name", "specialist_contact"):
        op.add_column("stays", sa.Column(column, sa.String(200), nullable=False, server_default=""))
    for column in ("address", "contact"):
        op.add_column(
            "shelters", sa.Column(column, sa.String(300), nullable=False, server_default="")
        )
    # The admission's local date in the territory: the first bed-day (SHL-5).
    op.add_column("stays", sa.Column("admitted_on", sa.Date()))
    bind = op.get_bind()
    for (code,) in bind.execute(sa.text("SELECT DISTINCT territory FROM stays")).all():
        zone = get_profile(territory_of(code).profile).zone.key
        bind.execute(
            sa.text(
                "UPDATE stays SET admitted_on = (admitted_at AT TIME ZONE :zone)::date "
                "WHERE territory = :code"
            ),
            {"zone": zone, "code": code},
        )
    op.alter_column("stays", "admitted_on", nullable=False)
    op.create_table(
        "beds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shelter_id", sa.String(64), sa.ForeignKey("shelters.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("stay_id", sa.String(64)),
        sa.Column("hold_id", sa.String(64)),
        sa.Column("out_of_service_reason", sa.String(300), nullable=False, server_default=""),
        sa.UniqueConstraint("shelter_id", "number", name="uq_beds_shelter_number"),
    )
    # Free beds are taken by the lowest number; a stay's or hold's beds are found by it.
    op.create_index("ix_beds_shelter_state", "beds", ["shelter_id", "state", "number"])
    op.create_index(
        "ix_beds_stay", "beds", ["stay_id"], postgresql_where=sa.text("stay_id IS NOT NULL")
    )
    op.create_index(
        "ix_beds_hold", "beds", ["hold_id"], postgresql_where=sa.text("hold_id IS NOT NULL")
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shelter_id", sa.String(64), sa.ForeignKey("shelters.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("waitlist_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    # The sweeper reads the active holds due to expire, so its cost follows what is due.
    op.create_index(
        "ix_holds_active_expiry",
        "holds",
        ["expires_at"],
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "waitlist",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shelter_id", sa.String(64), sa.ForeignKey("shelters.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("adult_name", sa.String(200), nullable=False),
        sa.Column("adult_birth_date", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("queued_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("hold_id", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_waitlist_queue", "waitlist", ["shelter_id", "state", "queued_at", "id"])
    op.create_table(
        "refusals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shelter_id", sa.String(64), sa.ForeignKey("shelters.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("adult_name", sa.String(200), nullable=False),
        sa.Column("adult_birth_date", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
        sa.Column("referred_to", sa.String(300), nullable=False, server_default=""),
        sa.Column("waitlist_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("refused_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        # The admission's idempotency key: a retried full admission records one refusal.
        sa.Column("request_key", sa.String(300), nullable=False, server_default=""),
    )
    op.create_index("ix_refusals_shelter", "refusals", ["shelter_id", "refused_at", "id"])
    op.create_index("ix_refusals_territory", "refusals", ["territory", "refused_at"])
    op.create_index(
        "uq_refusals_request",
        "refusals",
        ["center_id", "request_key"],
        unique=True,
        postgresql_where=sa.text("request_key <> ''"),
    )
    op.create_table(
        "stay_decisions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("stay_id", sa.String(64), sa.ForeignKey("stays.id"), nullable=False),
        sa.Column("decision_number", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("previous_end_at", TS, nullable=False),
        sa.Column("new_end_at", TS, nullable=False),
    )
    op.create_index("ix_stay_decisions_stay", "stay_decisions", ["stay_id"])
    op.create_table(
        "bed_days",
        sa.Column("stay_id", sa.String(64), sa.ForeignKey("stays.id"), primary_key=True),
        # 0 the adult, 1.. the minors in admission order.
        sa.Column("resident", sa.Integer(), primary_key=True),
        sa.Column("local_date", sa.Date(), primary_key=True),
        sa.Column("shelter_id", sa.String(64), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
    )
    op.create_index(
        "ix_bed_days_territory_date", "bed_days", ["territory", "local_date", "shelter_id"]
    )
    _backfill_beds()


def _backfill_beds() -> None:
    bind = op.get_bind()
    shelters = bind.execute(sa.text("SELECT id, capacity FROM shelters")).all()
    for shelter_id, capacity in shelters:
        stays = bind.execute(
            sa.text(
                "SELECT id, persons FROM stays WHERE shelter_id = :s AND state = 'active' "
                "ORDER BY admitted_at, id"
            ),
            {"s": shelter_id},
        ).all()
        owners = [stay_id for stay_id, persons in stays for _ in range(persons)]
        rows = [
            {
                "id": str(uuid.uuid4()),
                "shelter_id": shelter_id,
                "number": n + 1,
                "state": "occupied" if n < len(owners) else "free",
                "stay_id": owners[n] if n < len(owners) else None,
            }
            for n in range(max(capacity, len(owners)))
        ]
        if rows:
            bind.execute(
                sa.text(
                    "INSERT INTO beds (id, shelter_id, number, state, stay_id) "
                    "VALUES (:id, :shelter_id, :number, :state, :stay_id)"
                ),
                rows,
            )


def downgrade() -> None:
    for table in ("bed_days", "stay_decisions", "refusals", "waitlist", "holds", "beds"):
        op.drop_table(table)
    for column in (
        "admitted_on",
        "redirected_to",
        "referral_document",
        "specialist_name",
        "specialist_contact",
    ):
        op.drop_column("stays", column)
    for column in ("address", "contact"):
        op.drop_column("shelters", column)
