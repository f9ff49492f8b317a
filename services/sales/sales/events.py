"""Events the sales service publishes (on `sales.events`) and consumes, and the one function that writes
an event of sales to the outbox."""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload
from crm_platform.service import Subscription
from sales.store import messaging

SOURCE = "sales"  # the exchange sales publishes on (`sales.events`)

SUBSCRIPTIONS: tuple[Subscription, ...] = ()


def record(
    session: Session, event_type: str, aggregate_type: str, aggregate_id: str, payload: Message
) -> str:
    """`payload` (an event message of crm.events.v1) to the outbox in `session`'s transaction, numbered in
    its aggregate's sequence (one record's events are consumed in order); returns the event id."""
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=as_event_payload(payload),
    )
