"""Events about interactions, each written to the outbox in the transaction of the change (aggregate
`interaction`, so one interaction's events are ordered), and applied to the contact's timeline in that
same transaction through the timeline's one mapping: the entry commits with the interaction, so a logged
call is on the timeline as soon as the call that logged it answers, and the mapping reads the very
payload that goes on the wire."""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from contacts.interactions.store import Interaction, interactions
from contacts.store import messaging
from contacts.timeline import events as timeline
from crm.contacts.v1 import interactions_pb2
from crm_platform.db import utcnow
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload
from crm_platform.resources import Change

SOURCE = "contacts"
AGGREGATE = "interaction"
INTERACTION_LOGGED = "interaction_logged"
INTERACTION_UPDATED = "interaction_updated"
INTERACTION_ARCHIVED = "interaction_archived"


def _record(session: Session, event_type: str, row: Interaction, payload: Message) -> str:
    data = as_event_payload(payload)
    event_id = record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=AGGREGATE,
        aggregate_id=row.id,
        payload=data,
    )
    timeline.apply(session, SOURCE, event_type, data, event_id=event_id, time=utcnow())
    return event_id


def record_interaction_logged(session: Session, change: Change[Interaction]) -> str:
    row = change.row
    return _record(
        session,
        INTERACTION_LOGGED,
        row,
        interactions_pb2.InteractionLogged(
            interaction=interactions.to_message(row), actor_id=change.actor_id, version=change.version
        ),
    )


def record_interaction_updated(session: Session, change: Change[Interaction]) -> str:
    row = change.row
    return _record(
        session,
        INTERACTION_UPDATED,
        row,
        interactions_pb2.InteractionUpdated(
            interaction=interactions.to_message(row),
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
        ),
    )


def record_interaction_archived(session: Session, change: Change[Interaction]) -> str:
    row = change.row
    return _record(
        session,
        INTERACTION_ARCHIVED,
        row,
        interactions_pb2.InteractionArchived(
            interaction=interactions.to_message(row), actor_id=change.actor_id, version=change.version
        ),
    )
