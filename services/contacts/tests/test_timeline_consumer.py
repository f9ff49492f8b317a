"""The contacts worker's timeline subscriptions over a real RabbitMQ vhost and a real database: contact
events published on `contacts.events` and a notification event on `notifications.events`, as the relays
publish them, become timeline entries through the one mapping, once each even when redelivered, and the
queues of the sources that publish nothing yet (sales, support, marketing) are declared and idle."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pika
import pytest
from sqlalchemy import select

from contacts.main import DEFINITION
from contacts.timeline.store import TimelineEntry
from crm_platform.events import EventConsumer, wire
from crm_platform.events.topology import subscription_queue
from crm_platform.service import Runtime


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def consumer(runtime: Runtime, amqp_url: str) -> Iterator[EventConsumer]:
    consumer = EventConsumer(
        amqp_url,
        runtime.sessions,
        runtime.messaging,
        service="contacts",
        retry_delays=[0.1, 0.2],
        gap_timeout=10,
        gap_recheck_delay=0.1,
    )
    for sub in DEFINITION.subscriptions:
        consumer.subscribe(sub.source_service, sub.event_type, sub.handler, versions=sub.versions)
    thread = threading.Thread(target=consumer.run, name="contacts-consumer", daemon=True)
    thread.start()
    assert consumer.wait_until_ready(15), "consumer did not get ready"
    yield consumer
    consumer.stop()
    thread.join(15)


@pytest.fixture
def publish(amqp_url: str) -> Iterator[Callable[..., str]]:
    """Publish an event as a relay does (wire format; aggregate and sequence when given)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()

    def send(
        source: str,
        event_type: str,
        payload: dict[str, Any],
        aggregate: tuple[str, str, int],
        event_id: str = "",
    ) -> str:
        event_id = event_id or str(uuid.uuid4())
        exchange = wire.exchange_name(source)
        wire.declare_exchange(channel, exchange)
        headers = wire.cloudevent_headers(
            event_id=event_id,
            event_type=event_type,
            service=source,
            time=datetime.now(UTC),
            version=1,
            aggregate_type=aggregate[0],
            aggregate_id=aggregate[1],
            sequence=aggregate[2],
        )
        body = wire.encode_payload(payload).encode()
        channel.basic_publish(
            exchange, event_type, body, wire.message_properties(event_id, headers), mandatory=True
        )
        return event_id

    yield send
    connection.close()


def _entries(runtime: Runtime, contact_id: str) -> list[TimelineEntry]:
    with runtime.sessions() as session:
        query = select(TimelineEntry).where(TimelineEntry.contact_id == contact_id)
        return list(session.scalars(query.order_by(TimelineEntry.occurred_at)))


def test_published_events_become_timeline_entries_once(
    runtime: Runtime, consumer: EventConsumer, publish: Callable[..., str], amqp_url: str
) -> None:
    created = {
        "contact_id": "c1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "created_at": "2026-02-01T09:00:00Z",
        "actor_id": "rep-a",
    }
    first = publish("contacts", "contact_created", created, ("contact", "c1", 1))
    publish("contacts", "contact_created", created, ("contact", "c1", 1), event_id=first)  # redelivered
    publish(
        "contacts",
        "contact_updated",
        {"contact_id": "c1", "changed_fields": ["phone"], "updated_at": "2026-02-02T09:00:00Z"},
        ("contact", "c1", 2),
    )
    # An interaction event on the same exchange: written in-transaction by the service, skipped here.
    publish(
        "contacts",
        "interaction_logged",
        {"interaction": {"id": "i1", "contact_id": "c1"}},
        ("interaction", "i1", 1),
    )
    publish(
        "notifications",
        "notification_sent",
        {
            "notification_id": "n1",
            "contact_id": "c1",
            "kind": "welcome",
            "title": "Welcome, Ada!",
            "sent_at": "2026-02-01T09:00:01Z",
        },
        ("notification", "n1", 1),
    )
    wait_for(lambda: len(_entries(runtime, "c1")) == 3, what="three timeline entries")
    time.sleep(0.5)  # the duplicate and the skipped event have been handled too by now
    entries = _entries(runtime, "c1")
    assert [(e.source, e.event_type, e.kind) for e in entries] == [
        ("contacts", "contact_created", "profile"),
        ("notifications", "notification_sent", "notification"),
        ("contacts", "contact_updated", "profile"),
    ]
    assert entries[1].title == "Notification: Welcome, Ada!" and entries[1].ref_id == "n1"
    assert entries[0].event_id == first

    # The inert sources' queues exist (declared by the consumer), and are empty.
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for source in ("sales", "support", "marketing"):
            declared = channel.queue_declare(subscription_queue("contacts", source), passive=True)
            assert declared.method.message_count == 0
    finally:
        connection.close()
