"""The relay's loop is observable for the worker's heartbeat, and the lease holder publishes within
milliseconds of a commit made elsewhere (no wake-up hook reaches it)."""

from __future__ import annotations

import statistics
import time

from crm_platform.db import make_engine, transaction
from crm_platform.events import OutboxRelay, record_event


def _record(db, aggregate_id: str) -> str:
    with transaction(db.factory) as session:
        return record_event(
            session,
            db.tables,
            source="contacts",
            event_type="contact_updated",
            aggregate_type="contact",
            aggregate_id=aggregate_id,
            payload={},
        )


def test_holder_and_waiting_relay_both_report_their_loop(db, broker, start_relay, wait_for):
    holder = start_relay(broker.url, poll_interval=0.01)
    wait_for(lambda: holder.is_holder, what="the lease to be taken")
    waiting = start_relay(broker.url, lease_check_interval=0.1)
    time.sleep(0.3)
    for relay in (holder, waiting):
        first = relay.last_cycle_at
        assert first is not None
        wait_for(
            lambda relay=relay, first=first: relay.last_cycle_at > first, timeout=2, what="another cycle"
        )
        assert relay.is_alive()
    assert not waiting.is_holder

    waiting.stop()
    assert not waiting.is_alive()
    assert holder.is_alive(stale_after=60)
    assert not holder.is_alive(stale_after=0)  # a loop last seen longer ago than allowed counts as stuck


def test_holder_publishes_a_commit_from_elsewhere_within_milliseconds(db, broker, database_url, wait_for):
    probe = broker.bind_probe("contacts", "contact_updated")
    engine = make_engine(database_url)  # the relay's own engine, as in another process: no wake-up
    relay = OutboxRelay(engine, db.tables, broker.url, poll_interval=0.01)
    relay.start()
    try:
        wait_for(lambda: relay.is_holder, what="the lease to be taken")
        delays = []
        for i in range(20):
            _record(db, f"c{i}")
            committed = time.perf_counter()
            wait_for(lambda i=i: broker.count(probe) == i + 1, timeout=5, what="the event to be published")
            delays.append(time.perf_counter() - committed)
        # The polling interval is 10 ms; the old relay's 1 s sweep took ~500 ms on average.
        assert statistics.median(delays) < 0.1, delays
    finally:
        relay.stop()
        engine.dispose()
