"""Per-aggregate order: a failed row (nacked, returned, unreadable) is never overtaken by its aggregate's
later rows; it backs off, parks after the attempt limit and keeps blocking; other aggregates flow."""

from __future__ import annotations

import time

from sqlalchemy import update

from crm_platform.db import transaction
from crm_platform.events import RetryPolicy, outbox_backlog, record_event
from crm_platform.metrics import EVENTS_PARKED, EVENTS_PUBLISH_FAILURES

QUICK_RETRY = RetryPolicy(max_attempts=100, initial_delay=0.05, max_delay=0.2)


def _record(db, aggregate_id: str, event_type: str = "contact_updated") -> str:
    with transaction(db.factory) as session:
        return record_event(
            session,
            db.tables,
            source="contacts",
            event_type=event_type,
            aggregate_type="contact",
            aggregate_id=aggregate_id,
            payload={"aggregate": aggregate_id},
        )


def _rows(db) -> dict[str, object]:
    return {row.id: row for row in db.outbox_rows()}


def _counter(metric, **labels) -> float:
    return metric.labels(**labels)._value.get()


def test_back_off_doubles_up_to_its_cap():
    policy = RetryPolicy(max_attempts=12, initial_delay=0.5, max_delay=300)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1, 2, 4]
    assert policy.delay(11) == 300
    assert policy.delay(50) == 300


def test_unroutable_event_is_retried_not_lost_and_published_once_a_queue_is_bound(
    db, broker, start_relay, wait_for
):
    first = _record(db, "c1")
    second = _record(db, "c1")
    returned_before = _counter(EVENTS_PUBLISH_FAILURES, reason="unroutable")
    start_relay(broker.url, poll_interval=0.01, retry_policy=QUICK_RETRY)
    wait_for(lambda: _rows(db)[first].attempts >= 2, what="returned publishes to be noted")
    rows = _rows(db)
    assert rows[first].published_at is None
    assert "unroutable" in rows[first].last_error
    assert "contacts.events" in rows[first].last_error
    assert "migrate" in rows[first].last_error
    assert rows[second].attempts == 0  # waits behind the first
    assert _counter(EVENTS_PUBLISH_FAILURES, reason="unroutable") >= returned_before + 2

    probe = broker.bind_probe("contacts", "contact_updated")  # a subscriber appears
    wait_for(lambda: db.unpublished() == 0, what="both published")
    assert [props.message_id for props, _ in broker.take_all(probe)] == [first, second]


def test_nacked_row_is_not_overtaken_by_its_aggregate_while_others_flow(db, broker, start_relay, wait_for):
    # Only contact_updated goes to the full queue (nacked); contact_created routes fine.
    broker.bind_probe("contacts", "contact_updated")
    broker.channel.queue_declare(
        "full", durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    broker.channel.queue_bind("full", "contacts.events", routing_key="contact_updated")
    created_probe = broker.bind_probe("contacts", "contact_created")
    nacked = _record(db, "c1", "contact_updated")
    behind = _record(db, "c1", "contact_created")
    other = _record(db, "c2", "contact_created")
    start_relay(broker.url, poll_interval=0.01, retry_policy=QUICK_RETRY)
    wait_for(lambda: _rows(db)[nacked].attempts >= 3, what="nacks noted")
    assert [props.message_id for props, _ in broker.take_all(created_probe)] == [other]
    rows = _rows(db)
    assert "NackError" in rows[nacked].last_error
    assert rows[behind].published_at is None and rows[behind].attempts == 0

    broker.channel.queue_delete("full")
    wait_for(lambda: db.unpublished() == 0, what="the blocked aggregate to drain")
    assert [props.message_id for props, _ in broker.take_all(created_probe)] == [behind]
    rows = _rows(db)
    assert rows[nacked].published_at < rows[behind].published_at


def test_row_is_parked_after_the_attempt_limit_and_keeps_blocking_its_aggregate(
    db, broker, start_relay, wait_for
):
    probe = broker.bind_probe("contacts", "contact_updated")
    bad = _record(db, "c1")
    behind = _record(db, "c1")
    other = _record(db, "c2")
    outbox = db.tables.outbox
    with transaction(db.factory) as session:
        session.execute(update(outbox).where(outbox.c.id == bad).values(headers="[]"))
    parked_before = _counter(EVENTS_PARKED, event_type="contact_updated")
    start_relay(
        broker.url, poll_interval=0.01, retry_policy=RetryPolicy(3, initial_delay=0.05, max_delay=0.1)
    )
    wait_for(lambda: _rows(db)[bad].parked_at is not None, what="the bad row to be parked")
    time.sleep(0.3)  # the relay keeps polling; the parked row must keep holding the aggregate back

    rows = _rows(db)
    assert rows[bad].attempts == 3
    assert "not an object" in rows[bad].last_error
    assert rows[behind].published_at is None and rows[behind].parked_at is None
    assert [props.message_id for props, _ in broker.take_all(probe)] == [other]
    assert _counter(EVENTS_PARKED, event_type="contact_updated") == parked_before + 1

    backlog = outbox_backlog(db.engine, outbox)
    assert (backlog.pending, backlog.parked) == (1, 1)  # the blocked row stays visible to operators
    assert backlog.oldest_pending_age_seconds > 0.3


def test_backlog_of_an_empty_outbox(db):
    backlog = outbox_backlog(db.engine, db.tables.outbox)
    assert (backlog.pending, backlog.oldest_pending_age_seconds, backlog.parked) == (0, 0.0, 0)
