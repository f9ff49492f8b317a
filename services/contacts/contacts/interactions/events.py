"""Events about interactions, each written to the outbox in the transaction of the change (aggregate
`interaction`, so one interaction's events are ordered), and applied to the contact's timeline in that
same transaction through the timeline's one mapping: the entry commits with the interaction, so a logged
call is on the timeline as soon as the call that logged it answers, and the mapping reads the very
payload that goes on the wire. The entry carries the interaction's ownership from that payload, so an
interaction reassigned (owner, team, partner account) takes its entry's scope with it, in the same
transaction.

An interaction's partner account is always its contact's: `on_contact_updated` (the contacts worker's
`contact_updated` handler, beside the timeline's) moves the interactions of a contact moved to another
partner account (or to none) after it, each as a system update (new version, history, interaction_updated,
and so its entry too).
"""

from __future__ import annotations

import logging

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.interactions.store import Interaction, interactions
from contacts.store import Contact, messaging
from contacts.timeline import events as timeline
from crm.contacts.v1 import interactions_pb2
from crm_platform.db import utcnow
from crm_platform.events import record_event
from crm_platform.events.wire import Event
from crm_platform.protobuf import as_event_payload
from crm_platform.resources import Change

log = logging.getLogger(__name__)

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


def follow_contact_partner(session: Session, contact_id: str, partner_account_id: str | None) -> int:
    """The contact's interactions that are not of `partner_account_id` move to it, in `session`'s
    transaction; each is a system update (no actor) with its history, and a live one's interaction_updated
    refreshes its timeline entry (archived ones have none). How many moved."""
    stale = select(Interaction.id).where(
        Interaction.contact_id == contact_id,
        Interaction.partner_account_id.is_distinct_from(partner_account_id),
    )
    moved = 0
    for interaction_id in session.scalars(stale.order_by(Interaction.id)).all():
        change = interactions.update(
            session,
            interaction_id,
            interactions_pb2.Interaction(partner_account_id=partner_account_id or ""),
            ["partner_account_id"],
            etag="",
            actor_id="",
        )
        if not change.changes:
            continue
        moved += 1
        if change.row.archived_at is None:
            record_interaction_updated(session, change)
    return moved


def on_contact_updated(session: Session, event: Event) -> None:
    """A contact moved to another partner account (or to none): its interactions follow. The contact's
    partner account is read from the contact itself (this service's own table), so a late or replayed
    event moves nothing the wrong way."""
    if "partner_account_id" not in timeline.ownership_changes(event.data):
        return
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        return
    current = session.execute(select(Contact.partner_account_id).where(Contact.id == contact_id)).first()
    if current is None:
        log.warning("contact_updated for a contact not stored here", extra={"contact_id": contact_id})
        return
    moved = follow_contact_partner(session, contact_id, current.partner_account_id)
    log.info(
        "interactions moved to the contact's partner account",
        extra={"contact_id": contact_id, "interactions": moved, "event_id": event.id},
    )
