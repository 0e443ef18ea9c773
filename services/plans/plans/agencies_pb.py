"""Directory and routing records to proto: shared by the plans servicers."""

from __future__ import annotations

from typing import Any

from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.protoconv import ts
from plans import rules
from plans.models.agencies import Agency
from plans.models.routing import MeasureChange
from plans.rules.routing import ChangeAction


def kind_pb(kind: str) -> pb.MeasureKind.ValueType:
    return pb.MeasureKind.Value(f"MEASURE_KIND_{kind.upper()}")


def contact_pb(agency: Agency) -> pb.AgencyContact:
    return pb.AgencyContact(phone=agency.phone, email=agency.email, address=agency.address)


def agency_pb(agency: Agency, *, with_users: bool) -> apb.Agency:
    return apb.Agency(
        id=agency.id,
        territory=agency.territory,
        agency_type=agency.agency_type,
        name=agency.name,
        competences=[kind_pb(k) for k in agency.competences],
        contact=contact_pb(agency),
        users=list(agency.users) if with_users else [],
        active=agency.active,
    )


def change_pb(row: MeasureChange) -> pb.MeasureChange:
    return pb.MeasureChange(
        action=row.action,
        changed_by=row.changed_by,
        changed_at=ts(row.changed_at),
        reason=row.reason,
        before={k: str(v) for k, v in row.before.items()},
        after={k: str(v) for k, v in row.after.items()},
    )


def measure_fields(view: Any) -> dict[str, Any]:
    """The measure's fields from the directory and its history (`MeasureView.details`)."""
    details = view.details
    if details is None:
        return {}
    out: dict[str, Any] = {"changes": [change_pb(c) for c in details.changes]}
    if details.agency is not None:
        out["agency_name"] = details.agency.name
        out["agency_contact"] = contact_pb(details.agency)
    declines = [c for c in details.changes if c.action == ChangeAction.DECLINED]
    if view.measure.state == rules.MeasureState.DECLINED and declines:
        out["decline_reason"] = str(declines[-1].after.get("decline_reason", ""))
        out["decline_comment"] = declines[-1].reason
    return out
