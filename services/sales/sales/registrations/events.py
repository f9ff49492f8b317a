"""Events about deal registrations, written to the outbox in the change's transaction (aggregate
`deal_registration`, so one registration's events are consumed in order): deal_registration_submitted,
deal_registration_approved and deal_registration_rejected, each with the actor, the registration's
contact (its timeline) and ownership (who may see it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import registrations_pb2
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change
from sales.events import record
from sales.registrations.store import DealRegistration, to_message

AGGREGATE = "deal_registration"
SUBMITTED = "deal_registration_submitted"
APPROVED = "deal_registration_approved"
REJECTED = "deal_registration_rejected"


def _about(row: DealRegistration) -> dict[str, Any]:
    return {
        "registration_id": row.id,
        "title": row.title,
        "company_id": row.company_id,
        "company_domain": row.company_domain,
        "contact_id": row.contact_id or "",
        "owner_id": row.owner_id or "",
        "team_id": row.team_id or "",
        "partner_account_id": row.partner_account_id or "",
    }


def record_submitted(session: Session, change: Change[Any]) -> str:
    row = change.row
    return record(
        session,
        SUBMITTED,
        AGGREGATE,
        row.id,
        registrations_pb2.DealRegistrationSubmitted(
            **_about(row),
            company_name=row.company_name,
            actor_id=change.actor_id,
            version=change.version,
            submitted_at=timestamp(row.created_at),
            registration=to_message(row),
        ),
    )


def record_reviewed(session: Session, change: Change[Any]) -> str:
    """deal_registration_approved or _rejected, by the registration's status."""
    row = change.row
    assert row.reviewed_at is not None
    message = registrations_pb2.DealRegistrationReviewed(
        **_about(row),
        status=row.status,
        reason=row.decision_reason or "",
        deal_id=row.deal_id or "",
        actor_id=change.actor_id,
        version=change.version,
        changed_fields=change.changed_fields,
        reviewed_at=timestamp(row.reviewed_at),
    )
    if row.protected_until is not None:
        message.protected_until.CopyFrom(timestamp(row.protected_until))
    return record(session, APPROVED if row.status == "approved" else REJECTED, AGGREGATE, row.id, message)
