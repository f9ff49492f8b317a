"""Events the contacts service publishes (it consumes none yet)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contacts.store import Contact, messaging
from crm.events.v1 import contacts_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp

SOURCE = "contacts"
CONTACT_CREATED = "contact_created"


def record_contact_created(session: Session, contact: Contact) -> str:
    """Writes `contact_created` to the outbox in the caller's transaction; returns the event id."""
    payload = contacts_pb2.ContactCreated(
        contact_id=contact.id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        company=contact.company,
        created_at=timestamp(contact.created_at),
    )
    return record_event(
        session,
        messaging.outbox,
        source=SOURCE,
        event_type=CONTACT_CREATED,
        payload=as_event_payload(payload),
    )
