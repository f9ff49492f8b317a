"""The contacts worker's timeline subscriptions over a real RabbitMQ vhost and a real database: contact
events published on `contacts.events` and a notification event on `notifications.events`, as the relays
publish them, become timeline entries through the one mapping, once each even when redelivered, and the
queues of the sources that publish nothing yet (sales, support, marketing) are declared and idle."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pika
import pytest
from sqlalchemy import select

from contacts.imports import api as imports_api
from contacts.imports import runner
from contacts.imports import store as imports_store
from contacts.imports.calls import Call
from contacts.main import DEFINITION
from contacts.store import messaging
from contacts.timeline import events as timeline_events
from contacts.timeline.events import CONTACT_CREATED
from contacts.timeline.store import TimelineEntry
from crm.contacts.v1 import imports_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading
from crm_platform.events import EventConsumer, wire
from crm_platform.events.topology import subscription_queue
from crm_platform.metrics import EVENT_HANDLER_SECONDS, EVENTS_CONSUMED
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller


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
        headers: dict[str, str] | None = None,
    ) -> str:
        event_id = event_id or str(uuid.uuid4())
        exchange = wire.exchange_name(source)
        wire.declare_exchange(channel, exchange)
        sent = headers or wire.cloudevent_headers(
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
            exchange, event_type, body, wire.message_properties(event_id, sent), mandatory=True
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


CONTACTS_IMPORTED = ("contacts", "contacts_imported")


def test_the_timeline_is_the_contacts_workers_only_handler_of_contact_created() -> None:
    """An import writes its new contacts' entries itself and marks their `contacts_imported` event and
    their first sequence applied for the worker's consumer of contacts' events
    (timeline.events.apply_created_in_transaction), which skips every handler of those: sound only while
    the timeline's is the only handler of `contact_created` and nothing handles `contacts_imported`."""
    handlers = [
        sub for sub in DEFINITION.subscriptions if (sub.source_service, sub.event_type) == CONTACT_CREATED
    ]
    assert len(handlers) == 1 and handlers[0] in timeline_events.SUBSCRIPTIONS
    assert not [
        sub for sub in DEFINITION.subscriptions if (sub.source_service, sub.event_type) == CONTACTS_IMPORTED
    ]


def test_contacts_an_import_creates_are_on_the_timeline_once_and_their_events_skipped(
    runtime: Runtime, consumer: EventConsumer, publish: Callable[..., str]
) -> None:
    """The import's chunk writes the entries of the contacts it creates and announces them in one
    `contacts_imported`; that event, as the relay publishes it, is a duplicate for the consumer (no
    transaction of its own), and a later event of such a contact is applied at once, in order."""
    lines = ["email,first_name,last_name"] + [f"i{n}@example.com,I{n},L{n}" for n in range(5)]
    request = imports_pb2.CreateImportRequest(resource="contacts", content=("\n".join(lines) + "\n").encode())
    with acting_as(caller("importer")):
        job_id = imports_api.ImportsServicer(runtime).CreateImport(request, Call()).id  # type: ignore[arg-type]
    stopping = threading.Event()
    worker = threading.Thread(target=runner.run_imports, args=(runtime, stopping), daemon=True)
    worker.start()
    try:
        wait_for(lambda: _job_state(runtime, job_id) == "done", what="the import")
    finally:
        stopping.set()
        worker.join(10)
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        assert not conn.execute(select(outbox.c.id).where(outbox.c.routing_key == "contact_created")).all()
        [row] = conn.execute(select(outbox).where(outbox.c.routing_key == "contacts_imported")).all()
    items = json.loads(row.payload)["items"]
    assert len(items) == 5 and {item["sequence"] for item in items} == {1}
    for item in items:
        entries = _entries(runtime, item["aggregate_id"])
        assert [(e.event_type, e.event_id, e.title) for e in entries] == [
            ("contact_created", item["id"], "Contact created")
        ]
    queue = subscription_queue("contacts", "contacts")
    duplicates = EVENTS_CONSUMED.labels(queue, "contacts_imported", "duplicate")
    before, transactions = duplicates._value.get(), _handler_runs(queue)
    publish("contacts", "contacts_imported", json.loads(row.payload), (), row.id, json.loads(row.headers))
    wait_for(lambda: duplicates._value.get() - before == 1, what="the batch a duplicate")
    # This process committed its positions (the import ran here): told without a transaction.
    assert _handler_runs(queue) == transactions
    first = items[0]["aggregate_id"]
    publish(
        "contacts",
        "contact_updated",
        {"contact_id": first, "changed_fields": ["phone"], "updated_at": "2030-01-01T00:00:00Z"},
        ("contact", first, 2),
    )
    wait_for(lambda: len(_entries(runtime, first)) == 2, timeout=5, what="the update's entry, at once")
    assert all(len(_entries(runtime, item["aggregate_id"])) == 1 for item in items[1:])


def _handler_runs(queue: str) -> float:
    """How many times the consumer of `queue` opened a transaction for an event (its handler timing)."""
    for metric in EVENT_HANDLER_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("queue") == queue:
                return sample.value
    return 0.0


def _job_state(runtime: Runtime, job_id: str) -> str:
    with reading(runtime.sessions) as session:
        return str(imports_store.job_of(session, job_id, None).state)
