"""Consumer: idempotent handling, retries of handler bugs through delay queues, dead-lettering,
reconnection, stopping."""

from __future__ import annotations

import threading
import time
import uuid

import pika
import pytest
from sqlalchemy import insert

from crm_platform.events import Event, EventConsumer

DELAYS = [0.1, 0.2, 0.3]


def _consumer(db, url: str, **kwargs) -> EventConsumer:
    kwargs.setdefault("gap_timeout", 3)
    kwargs.setdefault("gap_recheck_delay", 0.1)
    return EventConsumer(url, db.factory, db.tables, service="sales", retry_delays=DELAYS, **kwargs)


def _record_effect(db):
    def handler(session, event: Event) -> None:
        session.execute(insert(db.effects).values(id=str(uuid.uuid4()), event_id=event.id))

    return handler


def test_event_is_handled_once_even_when_delivered_twice(db, broker, run_consumer, wait_for):
    seen: list[Event] = []
    consumer = _consumer(db, broker.url)
    effect = _record_effect(db)

    def handler(session, event: Event) -> None:
        seen.append(event)
        effect(session, event)

    queue = consumer.subscribe("contacts", "contact_created", handler)
    assert queue == "sales.contacts"
    run_consumer(consumer)
    event_id = broker.publish_event("contacts", "contact_created", {"name": "Ada"})
    broker.publish_event("contacts", "contact_created", {"name": "Ada"}, event_id=event_id)
    wait_for(lambda: broker.count(queue) == 0 and db.count(db.tables.positions) == 1, what="both copies")
    time.sleep(0.2)
    assert db.count(db.effects) == 1
    assert len(seen) == 1
    event = seen[0]
    assert (event.id, event.type, event.source, event.version) == (
        event_id,
        "contact_created",
        "crm/contacts",
        1,
    )
    assert event.data == {"name": "Ada"}


def test_failing_handler_is_retried_with_backoff_then_succeeds(db, broker, run_consumer, wait_for):
    attempts: list[float] = []
    consumer = _consumer(db, broker.url)
    effect = _record_effect(db)

    def flaky(session, event: Event) -> None:
        effect(session, event)  # rolled back with the failure: must not count
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            raise RuntimeError(f"transient failure {len(attempts)}")

    queue = consumer.subscribe("contacts", "contact_created", flaky)
    run_consumer(consumer)
    broker.publish_event("contacts", "contact_created", {})
    wait_for(lambda: db.count(db.effects) == 1, what="third attempt to succeed")
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= DELAYS[0] * 0.9
    assert attempts[2] - attempts[1] >= DELAYS[1] * 0.9
    assert db.count(db.tables.positions) == 1
    assert broker.count(queue + ".dlq") == 0


def test_failing_messages_are_dead_lettered_while_good_ones_flow(db, broker, run_consumer, wait_for):
    consumer = _consumer(db, broker.url)
    calls: list[str] = []

    def handler(session, event: Event) -> None:
        calls.append(event.data["name"])
        if event.data["name"] == "poison":
            raise ValueError("cannot handle poison")
        _record_effect(db)(session, event)

    queue = consumer.subscribe("contacts", "contact_created", handler)
    run_consumer(consumer)
    props = pika.BasicProperties(content_type="application/json", message_id="m-1", delivery_mode=2)
    broker.publish_raw("contacts.events", "contact_created", b"{not json", props)
    poison = broker.publish_event("contacts", "contact_created", {"name": "poison"})
    good = broker.publish_event("contacts", "contact_created", {"name": "good"})

    wait_for(lambda: broker.count(queue + ".dlq") >= 1, timeout=2, what="the unparseable one, at once")
    wait_for(lambda: db.count(db.effects) == 1, timeout=2, what="the good event, before the retries end")
    wait_for(lambda: broker.count(queue + ".dlq") == 2, what="both bad messages dead-lettered")
    assert calls.count("poison") == 1 + len(DELAYS)
    # The good one did not wait for the poison's retries (both first attempts run side by side).
    poison_attempts = [i for i, name in enumerate(calls) if name == "poison"]
    assert calls.index("good") < poison_attempts[1]
    parked = broker.take_all(queue + ".dlq")
    by_id = {p.message_id: p.headers for p, _ in parked}
    assert set(by_id) == {"m-1", poison}
    assert by_id["m-1"]["x-crm-attempt"] == 1  # unparseable: no retry could help
    assert by_id["m-1"]["x-crm-reason"].startswith("poison: MalformedEvent")
    assert by_id[poison]["x-crm-attempt"] == 1 + len(DELAYS)  # a handler bug: the whole budget
    assert "cannot handle poison" in by_id[poison]["x-crm-error"]
    assert by_id[poison]["x-crm-reason"].startswith("retries exhausted: ValueError")
    assert by_id[poison]["ce-id"] == poison  # the parked copy is the original event
    for retry_queue in (
        "sales.contacts.retry.100",
        "sales.contacts.retry.300",
    ):
        assert broker.count(retry_queue) == 0
    assert good not in by_id


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_consumer_reconnects_after_losing_the_broker(db, broker, run_consumer, wait_for):
    consumer = _consumer(db, broker.url)
    consumer.subscribe("contacts", "contact_created", _record_effect(db))
    run_consumer(consumer)
    broker.publish_event("contacts", "contact_created", {})
    wait_for(lambda: db.count(db.effects) == 1, what="first event")
    broker.drop_all_connections()
    wait_for(lambda: consumer.wait_until_ready(0), what="consumer to reconnect")
    broker.publish_event("contacts", "contact_created", {})
    wait_for(lambda: db.count(db.effects) == 2, what="event after reconnect")


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stop_from_another_thread_returns_promptly(db, amqp_url):
    consumer = _consumer(db, amqp_url)
    consumer.subscribe("contacts", "contact_created", _record_effect(db))
    thread = threading.Thread(target=consumer.run)
    thread.start()
    assert consumer.wait_until_ready(10)
    started = time.monotonic()
    consumer.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_consumer_without_subscriptions_idles_until_stopped(db):
    consumer = _consumer(db, "amqp://guest:guest@127.0.0.1:1/")  # never connects, so no broker needed
    thread = threading.Thread(target=consumer.run)
    thread.start()
    assert consumer.wait_until_ready(5)
    assert thread.is_alive()
    consumer.stop()
    thread.join(5)
    assert not thread.is_alive()
