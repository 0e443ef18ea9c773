"""The audit trail: every read or change of a person's data (REG-9).

Who, which agency, when, what, and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.db import UTCDateTime
from kamqor.ids import new_id


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: str = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100)
    agency: str = Field(max_length=100)
    action: str = Field(max_length=20)
    entity: str = Field(max_length=200, index=True)
    purpose: str = Field(max_length=200)


def record(
    session: AsyncSession, *, principal: Principal, action: str, entity: str, purpose: str
) -> None:
    """Stage an audit row in the caller's transaction: it commits exactly when the access does."""
    session.add(
        AuditRecord(
            id=new_id(),
            at=utcnow(),
            actor=principal.subject,
            agency=principal.agency,
            action=action,
            entity=entity,
            purpose=purpose,
        )
    )
