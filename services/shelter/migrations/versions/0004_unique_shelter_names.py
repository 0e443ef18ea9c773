"""A shelter's name is unique in its center, compared without case, width or extra spacing.

Existing shelters get their key computed by the service's own rule. Where a center already has
two shelters of one name (declared before the constraint), the later ones keep their names and
get a key suffixed with their id, so the upgrade never fails; the first keeps the plain key, so
declaring the name again is refused from now on.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shelter.rules import name_key

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "shelters", sa.Column("name_key", sa.String(400), nullable=False, server_default="")
    )
    shelters = sa.table(
        "shelters",
        sa.column("id", sa.String),
        sa.column("center_id", sa.String),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(shelters.c.id, shelters.c.center_id, shelters.c.name)).all()
    seen: set[tuple[str, str]] = set()
    for shelter_id, center_id, name in sorted(rows, key=lambda r: r.id):
        key = name_key(name)
        if (center_id, key) in seen:
            key = f"{key} #{shelter_id}"
        seen.add((center_id, key))
        conn.execute(shelters.update().where(shelters.c.id == shelter_id).values(name_key=key))
    op.create_index(
        "uq_shelters_center_id_name_key", "shelters", ["center_id", "name_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_shelters_center_id_name_key", table_name="shelters")
    op.drop_column("shelters", "name_key")
