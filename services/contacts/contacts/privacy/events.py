"""contact_erased, written to the outbox in the erasure's transaction (aggregate: the contact, so it
follows every earlier event of the person), and this service's own handler of it.

The handler (the contacts worker, like the timeline's) erases again what the timeline may have gained
since: an event of the person published before the erasure but consumed after it (its contact_created,
say) would otherwise put their name back on the timeline. Events of one contact arrive in order, so
once contact_erased is applied nothing earlier of theirs is still to come from contacts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.privacy import erasure
from contacts.store import Contact, messaging
from crm.events.v1 import privacy_pb2
from crm_platform.events import PoisonEvent, record_event
from crm_platform.events.wire import Event
from crm_platform.protobuf import as_event_payload, timestamp
from crm_platform.service import Subscription

log = logging.getLogger(__name__)

SOURCE = "contacts"
AGGREGATE = "contact"
CONTACT_ERASED = "contact_erased"


def record_contact_erased(
    session: Session, contact_id: str, actor_id: str, version: int, when: datetime
) -> str:
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=CONTACT_ERASED,
        aggregate_type=AGGREGATE,
        aggregate_id=contact_id,
        payload=as_event_payload(
            privacy_pb2.ContactErased(
                contact_id=contact_id, actor_id=actor_id, version=version, erased_at=timestamp(when)
            )
        ),
    )


def on_contact_erased(session: Session, event: Event) -> None:
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        raise PoisonEvent("contact_erased without contact_id")
    if session.scalars(select(Contact.id).where(Contact.id == contact_id)).first() is None:
        return
    erasure.erase_rows(session, contact_id)
    log.info("contact erasure re-applied", extra={"contact_id": contact_id, "event_id": event.id})


SUBSCRIPTIONS = (Subscription(SOURCE, CONTACT_ERASED, on_contact_erased),)
