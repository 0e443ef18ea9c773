"""The agency directory: configuration, not code (PLN-2, seed 003 4.2).

The file (`KAMQOR_PLANS_AGENCIES_FILE`, YAML) lists every agency measures may go to:

    agencies:
      - id: edu-ast-1
        territory: kz-ast
        type: education
        name: "School No. 1, Astana"
        competences: [pedagogical, psychological]
        contact: {phone: "+7 7172 000001", email: "school1@edu.example", address: "..."}
        users: [education.ast, teacher.ast]

It is written to the `agencies` table at every start: each listed agency as listed, every other
one inactive (never deleted: measures refer to it). A broken entry stops start-up, naming it.
The use cases read the table, so every replica and every transaction sees the same directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.access import require_role, require_territory
from kamqor.auth import AGENCY_TYPES, Principal
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.protoconv import page_size as check_page_size
from kamqor.territories import territory as territory_of
from plans import rules
from plans.models import agencies as directory
from plans.models.agencies import Agency
from plans.rules import routing

# Who reads the directory: the center drafting and routing measures, and the agencies themselves.
READERS = (*rules.PLAN_READERS, *rules.AGENCY_ROLES)
DEMO_FILE = Path(__file__).resolve().parents[4] / "deploy" / "agencies" / "demo.yaml"
Kind = Literal[tuple(k.value for k in rules.MeasureKind)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+$")
    address: str = Field(default="", max_length=500)


class Entry(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,99}$")
    territory: str
    type: str
    name: str = Field(min_length=1, max_length=300)
    competences: list[Kind] = []  # type: ignore[valid-type]
    contact: Contact = Contact()
    users: list[Annotated[str, Field(min_length=1, max_length=100)]] = []

    @field_validator("territory")
    @classmethod
    def _known_territory(cls, value: str) -> str:
        try:
            territory_of(value)
        except Invalid as exc:  # a pydantic error names the entry
            raise ValueError(exc.reason) from None
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in AGENCY_TYPES:
            raise ValueError(f"must be one of {sorted(AGENCY_TYPES)}")
        return value


class Directory(_Strict):
    agencies: list[Entry] = []

    @model_validator(mode="after")
    def _unique(self) -> Directory:
        seen: set[str] = set()
        for entry in self.agencies:
            if entry.id in seen:
                raise ValueError(f"agency {entry.id} is listed twice")
            seen.add(entry.id)
        return self


def load(path: Path) -> Directory:
    return Directory.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


async def sync(session: AsyncSession, found: Directory, *, now: datetime | None = None) -> int:
    """Write the directory to the table (see the module's doc); returns how many agencies were
    retired because the file no longer lists them."""
    rows: list[dict[str, object]] = [
        {
            "id": e.id,
            "territory": e.territory,
            "agency_type": e.type,
            "name": e.name,
            "competences": list(e.competences),
            "phone": e.contact.phone,
            "email": e.contact.email,
            "address": e.contact.address,
            "users": list(dict.fromkeys(e.users)),
        }
        for e in found.agencies
    ]
    return await directory.upsert(session, rows, at=now or utcnow())


async def check_agencies(
    session: AsyncSession,
    drafts: Sequence[rules.MeasureIn],
    *,
    territory: str,
    center_id: str,
    first_index: int = 0,
) -> list[rules.MeasureIn]:
    """Each measure's agency exists in the plan's territory, is active and competent for the
    measure's kind (PLN-2); its type comes from the directory. The family's own participation
    stays with the center (`rules.check_measures`). Errors name `measures[i]`, counted from
    `first_index`."""
    found = await directory.in_territory(
        session, territory, {d.agency_id.strip() for d in drafts if d.agency_id.strip()}
    )
    out: list[rules.MeasureIn] = []
    for i, d in enumerate(drafts, start=first_index):
        if d.kind == rules.MeasureKind.FAMILY_PARTICIPATION and d.agency_id == center_id:
            out.append(d)
            continue
        agency_type = routing.check_routable(
            found.get(d.agency_id.strip()),
            kind=d.kind,
            territory=territory,
            given_type=d.agency_type,
            field=f"measures[{i}]",
        )
        out.append(
            rules.MeasureIn(
                agency_id=d.agency_id.strip(),
                agency_type=agency_type,
                kind=d.kind,
                title=d.title,
                target=d.target,
                deadline=d.deadline,
            )
        )
    return out


async def list_agencies(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: rules.MeasureKind | None,
    include_inactive: bool,
    page_size: int,
    page_token: str,
) -> tuple[list[Agency], str]:
    """The caller's territory's agencies in id order, those competent for `kind` only when
    given; one page and the next page's token ('' at the end)."""
    require_role(principal, *READERS)
    limit = check_page_size(page_size)
    rows = await directory.page(
        session,
        territory=principal.territory,
        kind=kind.value if kind is not None else None,
        include_inactive=include_inactive,
        cursor=paging.decode(page_token, order="id", key_type=str),
        limit=limit + 1,
    )
    token = paging.next_token(rows, limit, "id", lambda a: a.id)
    return rows[:limit], token


async def get_agency(session: AsyncSession, *, principal: Principal, agency_id: str) -> Agency:
    require_role(principal, *READERS)
    agency = await session.get(Agency, agency_id.strip())
    if agency is None:
        raise NotFound("agency not found")
    require_territory(principal, agency.territory, entity="agency")
    return agency


def shows_users(principal: Principal, agency: Agency) -> bool:
    """An agency's people are its own staff's business: the center sees whom a measure was
    designated to on the measure itself (PLN-15)."""
    return principal.agency == agency.id
