"""Events the notifications service consumes, and what it does with them."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event
from crm_platform.service import Subscription
from notifications import domain, store

log = logging.getLogger(__name__)


class InvalidPayload(PoisonEvent, ValueError):
    """The event parsed but lacks what this handler needs: no retry can fix it, so it is dead-lettered
    at once with this reason (an operator replays it after fixing the handler or the data)."""


def on_contact_created(session: Session, event: Event) -> None:
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        raise InvalidPayload("contact_created without contact_id")
    message = domain.welcome_message(
        str(event.data.get("first_name", "")), str(event.data.get("company", ""))
    )
    notification = store.add_notification(session, contact_id, message, event.id)
    log.info(
        "welcome notification stored",
        extra={"contact_id": contact_id, "notification_id": notification.id, "event_id": event.id},
    )


SUBSCRIPTIONS = (Subscription("contacts", "contact_created", on_contact_created),)
