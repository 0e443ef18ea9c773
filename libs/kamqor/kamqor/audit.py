"""The audit trail: every read or change of a person's data (REG-9).

Who, which agency, when, what, and why. One row per call: a read of a page of records is one row
naming every record read (`entities`), written in the same transaction as the read and never
skipped; `touching(entity)` finds the rows of one record either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, String, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.db import UTCDateTime, stage
from kamqor.ids import new_id


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: str = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100)
    agency: str = Field(max_length=100)
    action: str = Field(max_length=20)
    # The record (`stay/<id>`), or for a page `<kind>/*` with the records in `entities`.
    entity: str = Field(max_length=200, index=True)
    purpose: str = Field(max_length=200)
    entities: list[str] = Field(default_factory=list, sa_type=ARRAY(String(200)))


def record(
    session: AsyncSession, *, principal: Principal, action: str, entity: str, purpose: str
) -> None:
    """Stage an audit row in the caller's transaction: it commits exactly when the access does."""
    stage(
        session,
        AuditRecord(
            id=new_id(),
            at=utcnow(),
            actor=principal.subject,
            agency=principal.agency,
            action=action,
            entity=entity,
            purpose=purpose,
        ),
    )


def record_many(
    session: AsyncSession,
    *,
    principal: Principal,
    action: str,
    entities: Sequence[str],
    purpose: str,
) -> None:
    """One audit row for a read of several records (a page): `<kind>/*` naming them all. A
    single record gets an ordinary row; none, no row (no person's data was read)."""
    if len(entities) == 1:
        record(session, principal=principal, action=action, entity=entities[0], purpose=purpose)
        return
    if not entities:
        return
    kinds = {e.partition("/")[0] for e in entities}
    stage(
        session,
        AuditRecord(
            id=new_id(),
            at=utcnow(),
            actor=principal.subject,
            agency=principal.agency,
            action=action,
            entity=f"{kinds.pop()}/*" if len(kinds) == 1 else "*",
            purpose=purpose,
            entities=list(entities),
        ),
    )


def touching(entity: str) -> ColumnElement[bool]:
    """Where-clause for the audit rows of one record: its own rows and the pages naming it."""
    return or_(col(AuditRecord.entity) == entity, col(AuditRecord.entities).contains([entity]))
