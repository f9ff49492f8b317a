"""Applying an event to the timeline through the one mapping (timeline.mapping.MAPPING).

Two ways in, one rule set: the contacts worker's handlers for consumed events (SUBSCRIPTIONS, one per
mapped event type that is not written in-transaction: the chassis consumer gives them in order per
aggregate and exactly once through its positions and inbox), and `apply` called by this service in the
transaction of a change it makes (interactions). Either way the entry is written in the same transaction
as what caused it (the consumer's position, or the interaction), and a unique index on (event id,
contact) makes a second application of one event a no-op.

Events carry no caller: an entry is not "owned"; it is as visible as its contact (timeline.api).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contacts.timeline.mapping import MAPPING, Action, Rule, lookup, render
from contacts.timeline.store import TimelineEntry
from crm_platform import protojson
from crm_platform.db import utcnow
from crm_platform.events import PoisonEvent
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
    details = {path.rsplit(".", 1)[-1]: lookup(data, path) for path in rule.details}
    values = {
        "occurred_at": _when(rule, data, time),
        "kind": rule.kind,
        "source": source,
        "event_type": event_type,
        "title": render(rule.title, data)[:MAX_TITLE] or event_type,
        "summary": render(rule.summary, data)[:MAX_SUMMARY] or None,
        "ref_type": ref_type if ref_id is not None else None,
        "ref_id": ref_id,
        "actor_id": _text(lookup(data, rule.actor_id)),
        "details": json.dumps(details, sort_keys=True, default=str),
        "event_id": event_id,
        "recorded_at": utcnow(),
    }
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        session.flush()
        return existing
    entry = TimelineEntry(id=str(uuid.uuid4()), contact_id=contact_id, **values)
    session.add(entry)
    session.flush()
    return entry


def handler(source: str) -> Callable[[Session, Event], None]:
    """The worker's handler for the mapped events of `source` (the exchange they came from)."""

    def handle(session: Session, event: Event) -> None:
        apply(session, source, event.type, event.data, event_id=event.id, time=event.time)

    return handle


SUBSCRIPTIONS = tuple(
    Subscription(source, event_type, handler(source))
    for (source, event_type), rule in MAPPING.items()
    if not rule.in_transaction
)
