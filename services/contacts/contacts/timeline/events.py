"""Applying an event to the timeline through the one mapping (timeline.mapping.MAPPING).

Two ways in, one rule set: the contacts worker's handlers for consumed events (SUBSCRIPTIONS, one per
mapped event type that is not written in-transaction: the chassis consumer gives them in order per
aggregate and exactly once through its positions and inbox), and `apply` called by this service in the
transaction of a change it makes (interactions). Either way the entry is written in the same transaction
as what caused it (the consumer's position, or the interaction), and a unique index on (event id,
contact) makes a second application of one event a no-op.

Each entry carries the resource type and ownership of the record it is about, as its event states them
(timeline.mapping: "Who sees an entry"); an event that leaves them out makes an entry without ownership
(fail closed). Entries follow their record: an interaction's entry is refreshed with the interaction in
the same transaction (interaction_updated replaces it), and a contact's `contact_updated` that changes
its ownership re-points what is scoped like the contact (`repoint_contact_entries`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from contacts.merge.tombstones import final_id
from contacts.store import Contact
from contacts.timeline.mapping import MAPPING, OWNERSHIP_PATHS, Action, Rule, lookup, render
from contacts.timeline.store import TimelineEntry
from crm_platform import protojson
from crm_platform.db import utcnow
from crm_platform.events import PoisonEvent, RecordedBatch
from crm_platform.events.ordering import mark_applied
from crm_platform.events.topology import subscription_queue
from crm_platform.events.wire import Event
from crm_platform.service import Subscription

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_SUMMARY = 2000


class InvalidPayload(PoisonEvent, ValueError):
    """A mapped event whose payload cannot make an entry (a malformed time): dead-lettered at once."""


def _when(rule: Rule, data: Mapping[str, Any], fallback: datetime | None) -> datetime:
    raw = lookup(data, rule.occurred_at) if rule.occurred_at else None
    if isinstance(raw, str) and raw:
        try:
            return protojson.parse_timestamp(raw)
        except ValueError as exc:
            raise InvalidPayload(f"{rule.occurred_at}: {exc}") from None
    return fallback or utcnow()


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def apply(
    session: Session,
    source: str,
    event_type: str,
    data: Mapping[str, Any],
    *,
    event_id: str,
    time: datetime | None = None,
) -> TimelineEntry | None:
    """Make (or replace, or remove) the timeline entry `event_type` of `source` maps to, in `session`'s
    transaction; None when the type is not mapped, the payload names no contact, or the entry left."""
    rule = MAPPING.get((source, event_type))
    if rule is None:
        return None
    contact_id = _text(lookup(data, rule.contact_id))
    if contact_id is None:
        log.info("event names no contact; not on any timeline", extra={"event_type": event_type})
        return None
    # An event about a contact merged since (a notification sent before the merge) joins the survivor's,
    # share-locked until the entry commits so that a merge of it moves the entry (contacts.merge.guard).
    contact_id = final_id(session, Contact, contact_id, lock=True)
    ref_type, ref_id = (rule.ref[0], _text(lookup(data, rule.ref[1]))) if rule.ref else (None, None)
    existing = None
    if rule.action is not Action.ADD and ref_id is not None:
        same_record = (
            (TimelineEntry.contact_id == contact_id)
            & (TimelineEntry.ref_type == ref_type)
            & (TimelineEntry.ref_id == ref_id)
        )
        if rule.action is Action.REMOVE:
            session.execute(delete(TimelineEntry).where(same_record))
            return None
        existing = session.scalars(select(TimelineEntry).where(same_record).limit(1)).first()
    elif session.scalars(
        select(TimelineEntry.id).where(
            TimelineEntry.event_id == event_id, TimelineEntry.contact_id == contact_id
        )
    ).first():
        return None  # applied before (a replay that got past the inbox)
    values = _entry_values(rule, source, event_type, data, event_id, time)
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        session.flush()
        return existing
    entry = TimelineEntry(id=str(uuid.uuid4()), contact_id=contact_id, **values)
    session.add(entry)
    session.flush()
    return entry


def _entry_values(
    rule: Rule, source: str, event_type: str, data: Mapping[str, Any], event_id: str, time: datetime | None
) -> dict[str, Any]:
    """The columns of the entry `rule` makes of an event (but its id and contact)."""
    ref_id = _text(lookup(data, rule.ref[1])) if rule.ref else None
    details = {path.rsplit(".", 1)[-1]: lookup(data, path) for path in rule.details}
    paths = rule.ownership or ("", "", "")
    ownership = {
        name: _text(lookup(data, path)) if path else None
        for name, path in zip(OWNERSHIP_PATHS, paths, strict=True)
    }
    return {
        "occurred_at": _when(rule, data, time),
        "kind": rule.kind,
        "source": source,
        "event_type": event_type,
        "title": render(rule.title, data)[:MAX_TITLE] or event_type,
        "summary": render(rule.summary, data)[:MAX_SUMMARY] or None,
        "ref_type": rule.ref[0] if rule.ref and ref_id is not None else None,
        "ref_id": ref_id,
        "actor_id": _text(lookup(data, rule.actor_id)),
        "details": json.dumps(details, sort_keys=True, default=str),
        "event_id": event_id,
        "recorded_at": utcnow(),
        "resource_type": rule.resource_type,
        **ownership,
    }


# The contacts worker's own consumer of the contacts service's events (one queue per source, one
# position per aggregate for every handler of that source).
OWN_CONSUMER = subscription_queue("contacts", "contacts")
CONTACT_CREATED = ("contacts", "contact_created")


def apply_created_in_transaction(session: Session, positions: Table, recorded: RecordedBatch | None) -> None:
    """The timeline entries of contacts created in this transaction, written in it (a batch import):
    the items of their `contacts_imported` event (each what `contact_created` carries, with the item's
    id for the entry's event id) through the one mapping's `contact_created` rule, all in one insert;
    and the contacts worker's consumer positions set to that event and to each new contact's first
    sequence, so that the consumer takes the event for the duplicate it is instead of applying it in a
    transaction of its own (on PostgreSQL two thirds of the worker during an import, measured).
    Nothing is looked up: a contact created in this transaction has no entry and was merged into nobody.
    Sound only while the timeline is the contacts worker's only handler of `contact_created` and it has
    none of `contacts_imported` (tests/test_timeline_consumer.py checks it): a position moved here skips
    every handler of them."""
    if recorded is None:
        return
    rule = MAPPING[CONTACT_CREATED]
    source, event_type = CONTACT_CREATED
    rows = []
    for item in recorded.items:
        values = _entry_values(rule, source, event_type, item.data, item.id, None)
        rows.append({"id": str(uuid.uuid4()), "contact_id": str(item.data["contact_id"]), **values})
    session.execute(insert(TimelineEntry.__table__), rows)  # Core: the ORM's bulk insert added ~18 us a row
    mark_applied(
        session,
        positions,
        OWN_CONSUMER,
        [
            (recorded.aggregate_type, recorded.aggregate_id, recorded.sequence),
            *((item.aggregate_type, item.aggregate_id, item.sequence) for item in recorded.items),
        ],
    )


# Entries scoped like their contact (by their own service's contract), re-pointed when it is reassigned:
# notifications carry the contact's owner, team and partner account; interactions its partner account
# (their owner and team are their own: the interaction follows, and its entry with it, in interactions).
FOLLOW_CONTACT: dict[str, tuple[str, ...]] = {
    "notification": OWNERSHIP_PATHS,
    "interaction": ("partner_account_id",),
}


def ownership_changes(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The ownership fields a `contact_updated` payload's `changes` ([{field, old_value, new_value}]) set,
    with their new values (None for none); empty when ownership stayed. Raises InvalidPayload for a
    malformed list."""
    changes = data.get("changes") or []
    if not isinstance(changes, list):
        raise InvalidPayload("contact_updated: changes must be a list")
    out: dict[str, str | None] = {}
    for change in changes:
        if not isinstance(change, Mapping) or not isinstance(change.get("field"), str):
            raise InvalidPayload("contact_updated: each change must be an object with a field name")
        if change["field"] in OWNERSHIP_PATHS:
            value = change.get("new_value")
            if value is not None and not isinstance(value, str):
                raise InvalidPayload(f"contact_updated: {change['field']} must be a string or null")
            out[change["field"]] = value or None
    return out


def repoint_contact_entries(session: Session, contact_id: str, changed: Mapping[str, str | None]) -> int:
    """The contact's entries scoped like the contact (FOLLOW_CONTACT) take its new ownership (`changed`:
    the fields that changed, with their new values), in the caller's transaction; how many changed."""
    count = 0
    for type_name, fields in FOLLOW_CONTACT.items():
        values = {name: changed[name] for name in fields if name in changed}
        if not values:
            continue
        result = session.execute(
            update(TimelineEntry)
            .where(TimelineEntry.contact_id == contact_id, TimelineEntry.resource_type == type_name)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        count += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return count


def handler(source: str) -> Callable[[Session, Event], None]:
    """The worker's handler for the mapped events of `source` (the exchange they came from)."""

    def handle(session: Session, event: Event) -> None:
        apply(session, source, event.type, event.data, event_id=event.id, time=event.time)

    return handle


def on_contact_updated(session: Session, event: Event) -> None:
    """`contact_updated`: its profile entry, and when it reassigns the contact, the entries scoped like
    the contact follow (in the contact's event order: the consumer gives one contact's events in order)."""
    apply(session, "contacts", event.type, event.data, event_id=event.id, time=event.time)
    changed = ownership_changes(event.data)
    contact_id = _text(event.data.get("contact_id"))
    if changed and contact_id is not None:
        count = repoint_contact_entries(session, contact_id, changed)
        log.info(
            "timeline entries re-pointed to the contact's new ownership",
            extra={"contact_id": contact_id, "fields": sorted(changed), "entries": count},
        )


_HANDLERS: dict[tuple[str, str], Callable[[Session, Event], None]] = {
    ("contacts", "contact_updated"): on_contact_updated,
}

SUBSCRIPTIONS = tuple(
    Subscription(source, event_type, _HANDLERS.get((source, event_type)) or handler(source))
    for (source, event_type), rule in MAPPING.items()
    if not rule.in_transaction
)
