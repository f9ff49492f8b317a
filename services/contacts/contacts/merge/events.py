"""`contact_merged` and `company_merged`, written to the outbox in the merge's transaction: one per record
whose references move (contacts.merge.execution, step 8), on that record's aggregate, so that consumers
apply it after every earlier event of the record (its `contact_created`, say)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from contacts.events import SOURCE
from contacts.merge.execution import Announcement
from contacts.store import messaging
from crm.events.v1 import companies_pb2, contacts_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp

CONTACT_MERGED = "contact_merged"
COMPANY_MERGED = "company_merged"


def _record(session: Session, told: Announcement, event_type: str, aggregate: str, payload: Any) -> str:
    """Fills in what every merge event says and writes it on `told.record_id`'s aggregate."""
    payload.survivor_id = told.survivor.id
    payload.merged_ids.extend(told.merged_ids)
    payload.actor_id = told.actor_id
    payload.version = told.version
    payload.merged_at.CopyFrom(timestamp(told.merged_at))
    for name in ("owner_id", "team_id", "partner_account_id"):  # the survivor's: scope follows it
        setattr(payload, name, getattr(told.survivor, name) or "")
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=aggregate,
        aggregate_id=told.record_id,
        payload=as_event_payload(payload),
    )


def record_contact_merged(session: Session, told: Announcement) -> str:
    payload = contacts_pb2.ContactMerged(contact_id=told.record_id)
    return _record(session, told, CONTACT_MERGED, "contact", payload)


def record_company_merged(session: Session, told: Announcement) -> str:
    payload = companies_pb2.CompanyMerged(company_id=told.record_id)
    return _record(session, told, COMPANY_MERGED, "company", payload)
