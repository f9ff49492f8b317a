"""Adds interactions and the timeline to the contacts service's definition (one call in main.py): their
gRPC servicers beside the others, and the worker's subscriptions to the events the timeline maps (the
`contact_updated` one also moves a contact's interactions after it to another partner account)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contacts.interactions import api as interactions_api
from contacts.interactions import events as interactions_events
from contacts.timeline import api as timeline_api
from contacts.timeline import events as timeline_events
from crm_platform.events.wire import Event
from crm_platform.service import ServiceDefinition, Subscription


def _with_interactions(sub: Subscription) -> Subscription:
    """The timeline's subscription, and for `contact_updated` the interactions following the contact
    (one handler per event type, so both in the one transaction of the event)."""
    if (sub.source_service, sub.event_type) != ("contacts", "contact_updated"):
        return sub
    timeline_handler = sub.handler

    def handle(session: Session, event: Event) -> None:
        timeline_handler(session, event)
        interactions_events.on_contact_updated(session, event)

    return Subscription(sub.source_service, sub.event_type, handle, sub.versions)


SUBSCRIPTIONS = tuple(_with_interactions(sub) for sub in timeline_events.SUBSCRIPTIONS)


def extend(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving InteractionsService and TimelineService too, and consuming the timeline's
    events."""
    return definition.include(interactions_api.register, timeline_api.register, subscriptions=SUBSCRIPTIONS)
