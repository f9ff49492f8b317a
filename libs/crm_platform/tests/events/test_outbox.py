"""Outbox: events are committed with the business change and relayed once the broker confirms them."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import insert, update

from crm_platform.db import transaction
from crm_platform.events import RetryPolicy, install_wakeup, record_event
from crm_platform.metrics import EVENTS_PUBLISH_FAILURES

AGG = {"aggregate_type": "contact", "aggregate_id": "c1"}

DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1/"
QUICK_RETRY = RetryPolicy(max_attempts=100, initial_delay=0.05, max_delay=0.2)


def _create_contact(db, name: str = "Ada", aggregate_id: str | None = None) -> str:
    """A contact and its event; each contact is its own aggregate unless `aggregate_id` says otherwise."""
    contact_id = str(uuid.uuid4())
    with transaction(db.factory) as session:
        session.execute(insert(db.contacts).values(id=contact_id, name=name))
        return record_event(
            session,
            db.tables,
            source="contacts",
            event_type="contact_created",
            aggregate_type="contact",
            aggregate_id=aggregate_id or contact_id,
            payload={"name": name},
        )


def test_outbox_row_commits_and_rolls_back_with_the_business_row(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    with pytest.raises(RuntimeError), transaction(db.factory) as session:
        session.execute(insert(db.contacts).values(id="c1", name="Ada"))
        record_event(session, db.tables, source="contacts", event_type="contact_created", **AGG, payload={})
        raise RuntimeError("business rule failed after the event was recorded")
    assert db.count(db.contacts) == 0
    assert db.count(db.tables.outbox) == 0

    event_id = _create_contact(db)
    assert db.count(db.contacts) == 1
    [row] = db.outbox_rows()
    assert (row.id, row.exchange, row.routing_key) == (event_id, "contacts.events", "contact_created")

    start_relay(broker.url, poll_interval=0.1)
    wait_for(lambda: db.unpublished() == 0, what="relay to publish")
    time.sleep(0.2)  # a rolled-back event would have been published by now too
    assert [props.message_id for props, _ in broker.take_all(probe)] == [event_id]


def test_relay_publishes_in_wire_format_and_marks_rows(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    ids = [_create_contact(db, f"name-{i}") for i in range(5)]
    start_relay(broker.url, poll_interval=0.1, batch_size=2)  # several batches
    wait_for(lambda: broker.count(probe) == 5, what="five messages")
    wait_for(lambda: db.unpublished() == 0, what="rows marked published")

    messages = broker.take_all(probe)
    assert [props.message_id for props, _ in messages] == ids  # oldest first
    props, body = messages[0]
    assert json.loads(body) == {"name": "name-0"}
    assert props.content_type == "application/json"
    assert props.content_encoding == "utf-8"
    assert props.delivery_mode == 2
    headers = props.headers
    assert headers["ce-id"] == ids[0]
    assert headers["ce-type"] == "contact_created"
    assert headers["ce-source"] == "crm/contacts"
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-dataschema"] == "urn:crm:events:contact_created:v1"
    assert headers["ce-time"].endswith("+00:00")
    assert headers["ce-aggregatetype"] == "contact"
    assert headers["ce-sequence"] == "1"
    for row in db.outbox_rows():
        assert row.published_at is not None
        assert row.attempts == 1
        assert row.last_error is None


def test_wakeup_after_commit_publishes_without_waiting_for_the_sweep(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    relay = start_relay(broker.url, poll_interval=30)
    install_wakeup(db.factory, relay)
    time.sleep(0.3)  # let the relay's first (empty) sweep pass; now only a wake-up can trigger it
    started = time.monotonic()
    _create_contact(db)
    wait_for(lambda: broker.count(probe) == 1, timeout=5, what="woken relay to publish")
    assert time.monotonic() - started < 2


def test_broker_down_keeps_rows_and_a_later_relay_publishes_each_once(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    ids = [_create_contact(db, f"n{i}") for i in range(3)]
    unreachable = EVENTS_PUBLISH_FAILURES.labels(reason="broker_unreachable")
    before = unreachable._value.get()
    dead = start_relay(DEAD_BROKER, poll_interval=0.05)
    wait_for(lambda: unreachable._value.get() >= before + 2, what="failed connects counted")
    assert dead.is_alive()
    ids.append(_create_contact(db, "late"))
    dead.stop()  # releases the lease, so the next relay takes over at once
    rows = db.outbox_rows()
    assert all(row.published_at is None for row in rows)
    # An unreachable broker is not the rows' fault: it spends none of their attempts.
    assert all(row.attempts == 0 and row.parked_at is None for row in rows)

    start_relay(broker.url, poll_interval=0.05)
    wait_for(lambda: db.unpublished() == 0, what="backlog published")
    time.sleep(0.3)  # anything published twice would show up by now
    assert sorted(props.message_id for props, _ in broker.take_all(probe)) == sorted(ids)
    assert all(row.last_error is None for row in db.outbox_rows())


def test_relay_survives_losing_its_connection(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    start_relay(broker.url, poll_interval=0.05)
    _create_contact(db, "before")
    wait_for(lambda: broker.count(probe) == 1, what="first event")
    broker.drop_all_connections()
    _create_contact(db, "after")
    wait_for(lambda: db.unpublished() == 0, what="relay to reconnect and publish")
    assert broker.count(probe) == 2


def test_unpublishable_row_holds_back_its_aggregate_only(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    bad = _create_contact(db, "corrupted", aggregate_id="c1")
    after_bad = _create_contact(db, "same contact, later", aggregate_id="c1")
    other = _create_contact(db, "another contact")
    with transaction(db.factory) as session:
        outbox = db.tables.outbox
        session.execute(update(outbox).where(outbox.c.id == bad).values(headers="not json"))
    start_relay(broker.url, poll_interval=0.05, retry_policy=QUICK_RETRY)
    wait_for(lambda: broker.count(probe) == 1, what="the other aggregate's row")
    wait_for(lambda: db.outbox_rows()[0].attempts >= 3, what="the bad row to be retried")
    assert [props.message_id for props, _ in broker.take_all(probe)] == [other]
    rows = {row.id: row for row in db.outbox_rows()}
    assert rows[bad].published_at is None
    assert "JSONDecodeError" in rows[bad].last_error
    assert rows[bad].next_attempt_at is not None
    # The later event of the same aggregate must not overtake the one that failed.
    assert rows[after_bad].published_at is None
    assert rows[after_bad].attempts == 0


def test_row_is_marked_only_when_the_broker_confirms(db, broker, start_relay, wait_for):
    # A full queue with overflow=reject-publish makes RabbitMQ nack the publish: no confirm, no mark.
    broker.bind_probe("contacts", "contact_created")
    broker.channel.queue_declare(
        "full", durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    broker.channel.queue_bind("full", "contacts.events", routing_key="contact_created")
    event_id = _create_contact(db)
    start_relay(broker.url, poll_interval=0.05, retry_policy=QUICK_RETRY)
    wait_for(lambda: db.outbox_rows()[0].attempts >= 2, what="nacked publishes to be noted")
    [row] = db.outbox_rows()
    assert row.published_at is None
    assert "NackError" in row.last_error

    broker.channel.queue_delete("full")
    wait_for(lambda: db.unpublished() == 0, what="publish once the broker accepts it")
    assert event_id in {props.message_id for props, _ in broker.take_all("probe.contacts.contact_created")}


def test_a_batch_of_events_numbers_each_aggregate_on_from_its_last_sequence(db):
    """record_events: one statement allocates every aggregate's next numbers, in the batch's order,
    continuing what record_event handed out before; headers and rows are those record_event writes."""
    from crm_platform.events import NewEvent, event_headers, record_events

    _create_contact(db, aggregate_id="a")  # a's sequence 1
    batch = [
        NewEvent("contact_updated", "contact", "a", {"n": 1}),
        NewEvent("contact_created", "contact", "b", {"n": 2}),
        NewEvent("contact_updated", "contact", "a", {"n": 3}),
    ]
    with event_headers({"ce-crmorigin": "import"}), transaction(db.factory) as session:
        ids = record_events(session, db.tables, source="contacts", events=batch)
    rows = {row.id: row for row in db.outbox_rows()}
    assert [(rows[i].aggregate_id, rows[i].sequence, json.loads(rows[i].payload)["n"]) for i in ids] == [
        ("a", 2, 1),
        ("b", 1, 2),
        ("a", 3, 3),
    ]
    headers = json.loads(rows[ids[2]].headers)
    assert (headers["ce-sequence"], headers["ce-aggregateid"], headers["ce-crmorigin"]) == (
        "3",
        "a",
        "import",
    )
    assert _create_contact(db, aggregate_id="a") and max(r.sequence for r in db.outbox_rows()) == 4
