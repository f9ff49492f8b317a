"""Events about leads, published by sales on `sales.events` (aggregate type "lead"): lead_created,
lead_updated, lead_status_changed, lead_converted, lead_archived. Each is written to the outbox in the
transaction of the change it announces, with the actor and the lead's ownership."""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from crm.events.v1 import leads_pb2
from crm_platform.db import utcnow
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change
from crm_platform.resources.history import field_changes
from sales.events import record
from sales.leads.store import Lead

LEAD_CREATED = "lead_created"
LEAD_UPDATED = "lead_updated"
LEAD_STATUS_CHANGED = "lead_status_changed"
LEAD_CONVERTED = "lead_converted"
LEAD_ARCHIVED = "lead_archived"

AGGREGATE = "lead"


def _record(session: Session, event_type: str, lead: Lead, payload: Message) -> str:
    return record(session, event_type, AGGREGATE, lead.id, payload)


def _ownership(lead: Lead) -> dict[str, str]:
    return {
        "owner_id": lead.owner_id or "",
        "team_id": lead.team_id or "",
        "partner_account_id": lead.partner_account_id or "",
    }


def record_lead_created(session: Session, change: Change[Lead]) -> str:
    lead = change.row
    return _record(
        session,
        LEAD_CREATED,
        lead,
        leads_pb2.LeadCreated(
            lead_id=lead.id,
            first_name=lead.first_name or "",
            last_name=lead.last_name,
            email=lead.email or "",
            company=lead.company or "",
            source=lead.source or "",
            campaign_id=lead.campaign_id or "",
            status=lead.status,
            score=lead.score,
            actor_id=change.actor_id,
            version=change.version,
            created_at=timestamp(lead.created_at),
            **_ownership(lead),
        ),
    )


def record_lead_updated(session: Session, change: Change[Lead]) -> None:
    """lead_updated, then lead_status_changed when the status is among the changes."""
    lead = change.row
    _record(
        session,
        LEAD_UPDATED,
        lead,
        leads_pb2.LeadUpdated(
            lead_id=lead.id,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changes=field_changes(change.changes),
            updated_at=timestamp(lead.updated_at),
            **_ownership(lead),
        ),
    )
    status = next((c for c in change.changes if c.field == "status"), None)
    if status is not None:
        record_status_changed(session, lead, str(status.old or ""), change.actor_id, change.version)


def record_status_changed(session: Session, lead: Lead, from_status: str, actor_id: str, version: int) -> str:
    return _record(
        session,
        LEAD_STATUS_CHANGED,
        lead,
        leads_pb2.LeadStatusChanged(
            lead_id=lead.id,
            actor_id=actor_id,
            version=version,
            from_status=from_status,
            to_status=lead.status,
            disqualified_reason=lead.disqualified_reason or "",
            changed_at=timestamp(lead.updated_at or utcnow()),
            **_ownership(lead),
        ),
    )


def record_lead_converted(session: Session, lead: Lead, actor_id: str) -> str:
    assert lead.converted_at is not None
    return _record(
        session,
        LEAD_CONVERTED,
        lead,
        leads_pb2.LeadConverted(
            lead_id=lead.id,
            contact_id=lead.converted_contact_id or "",
            company_id=lead.converted_company_id or "",
            deal_id=lead.converted_deal_id or "",
            actor_id=actor_id,
            version=lead.version,
            converted_at=timestamp(lead.converted_at),
            last_name=lead.last_name,
            company=lead.company or "",
            **_ownership(lead),
        ),
    )


def record_lead_archived(session: Session, change: Change[Lead]) -> str:
    lead = change.row
    assert lead.archived_at is not None
    return _record(
        session,
        LEAD_ARCHIVED,
        lead,
        leads_pb2.LeadArchived(
            lead_id=lead.id,
            actor_id=change.actor_id,
            version=change.version,
            archived_at=timestamp(lead.archived_at),
        ),
    )
