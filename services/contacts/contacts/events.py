"""Events the contacts service publishes (what it consumes, for the timeline: contacts.timeline).
Each is written to the outbox in the transaction of the change it announces. `contact_created` carries
the profile consumers segment and reach people by (every email and phone, preferences, segmentation
fields, tags); `contact_updated` the changes (old and new value of every changed field, lists whole)
and how to reach the contact now. Contacts an import creates together are announced by one
`contacts_imported` batch event (items: what `contact_created` carries for each) instead of a
`contact_created` each."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from contacts.store import Contact, messaging
from crm.events.v1 import contacts_pb2
from crm_platform.events import RecordedBatch, record_batch_event, record_event
from crm_platform.protobuf import as_event_payload, timestamp
from crm_platform.resources import Change
from crm_platform.resources.history import field_changes

SOURCE = "contacts"
CONTACT_CREATED = "contact_created"
CONTACT_UPDATED = "contact_updated"
CONTACT_ARCHIVED = "contact_archived"
CONTACTS_IMPORTED = "contacts_imported"


AGGREGATE = "contact"
# A contacts_imported event's own aggregate: a new one per event (so the contacts worker's consumer can
# be told it applied it, ordering.mark_applied, like the contacts it announces).
BATCH_AGGREGATE = "contact_batch"


def _record(session: Session, event_type: str, contact: Contact, payload: Message) -> str:
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=AGGREGATE,
        aggregate_id=contact.id,
        payload=as_event_payload(payload),
    )


def record_contact_created(session: Session, change: Change[Contact]) -> str:
    """Writes `contact_created` to the outbox in the caller's transaction; returns the event id."""
    return _record(session, CONTACT_CREATED, change.row, _created(change))


def record_contacts_imported(session: Session, changes: Sequence[Change[Any]]) -> RecordedBatch | None:
    """One `contacts_imported` event for a batch of new contacts (contacts.store.add_contacts: an
    import's creates), in the caller's transaction: each item what `contact_created` carries for that
    contact, numbered on the contact as its `contact_created` would be. None for no contacts."""
    items = [(change.row.id, as_event_payload(_created(change))) for change in changes]
    return record_imported(session, CONTACTS_IMPORTED, BATCH_AGGREGATE, AGGREGATE, items)


def record_imported(
    session: Session,
    event_type: str,
    batch_aggregate: str,
    item_aggregate: str,
    items: Sequence[tuple[str, dict[str, Any]]],
) -> RecordedBatch | None:
    """One batch event of this service announcing records an import created together (`items`: each
    record's id and what its own created event carries), on a new aggregate of type `batch_aggregate`
    (one per event), in the caller's transaction. None for no items."""
    if not items:
        return None
    return record_batch_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=batch_aggregate,
        aggregate_id=str(uuid.uuid4()),
        item_aggregate_type=item_aggregate,
        items=items,
    )


def _created(change: Change[Any]) -> contacts_pb2.ContactCreated:
    contact = change.row
    return contacts_pb2.ContactCreated(
        contact_id=contact.id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone or "",
        company=contact.company or "",
        created_at=timestamp(contact.created_at),
        actor_id=change.actor_id,
        version=change.version,
        owner_id=contact.owner_id or "",
        team_id=contact.team_id or "",
        partner_account_id=contact.partner_account_id or "",
        emails=_emails(contact),
        phones=[entry["number"] for entry in contact.phones or []],
        job_title=contact.job_title or "",
        preferred_channel=contact.preferred_channel or "",
        language=contact.language or "",
        time_zone=contact.time_zone or "",
        country=contact.country or "",
        region=contact.region or "",
        city=contact.city or "",
        lead_source=contact.lead_source or "",
        industry=contact.industry or "",
        occupation=contact.occupation or "",
        tags=list(contact.tags or []),
        birth_date=contact.birth_date or "",
    )


def _emails(contact: Contact) -> list[str]:
    """Every email of the contact, the primary first (a row from before the profile: its one email)."""
    emails = [entry["address"] for entry in contact.emails or []]
    return emails if contact.email in emails else [contact.email, *emails]


def record_contact_updated(session: Session, change: Change[Contact]) -> str:
    contact = change.row
    return _record(
        session,
        CONTACT_UPDATED,
        contact,
        contacts_pb2.ContactUpdated(
            contact_id=contact.id,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changes=field_changes(change.changes),
            updated_at=timestamp(contact.updated_at),
            email=contact.email,
            phone=contact.phone or "",
            preferred_channel=contact.preferred_channel or "",
            language=contact.language or "",
            time_zone=contact.time_zone or "",
        ),
    )


def record_contact_archived(session: Session, change: Change[Contact]) -> str:
    contact = change.row
    assert contact.archived_at is not None
    return _record(
        session,
        CONTACT_ARCHIVED,
        contact,
        contacts_pb2.ContactArchived(
            contact_id=contact.id,
            actor_id=change.actor_id,
            version=change.version,
            archived_at=timestamp(contact.archived_at),
        ),
    )
