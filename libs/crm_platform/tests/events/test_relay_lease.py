"""One relay per database: only the lease holder publishes, and a dead holder is replaced within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from crm_platform.db import make_engine, transaction
from crm_platform.events import OutboxRelay, record_event
from crm_platform.events.lease import RelayLease
from crm_platform.events.schema import RELAY_LEASE_NAME


def _record(db, aggregate_id: str, payload: dict | None = None) -> str:
    with transaction(db.factory) as session:
        return record_event(
            session,
            db.tables,
            source="contacts",
            event_type="contact_updated",
            aggregate_type="contact",
            aggregate_id=aggregate_id,
            payload=payload or {},
        )


def _holder(db) -> str | None:
    lease = db.tables.lease
    with db.engine.connect() as conn:
        return conn.execute(
            select(lease.c.holder).where(lease.c.name == RELAY_LEASE_NAME)
        ).scalar_one_or_none()


@pytest.fixture
def own_engine_relays(db, database_url) -> Iterator[Callable[..., OutboxRelay]]:
    """Relays each on an engine of its own, as if in separate processes; stopped after the test."""
    relays: list[OutboxRelay] = []
    engines = []

    def make(amqp_url: str, **kwargs) -> OutboxRelay:
        engine = make_engine(database_url)
        engines.append(engine)
        relay = OutboxRelay(engine, db.tables, amqp_url, **kwargs)
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.stop()
    for engine in engines:
        engine.dispose()


def test_the_lease_is_a_compare_and_set(db):
    first = RelayLease(db.engine, db.tables.lease, RELAY_LEASE_NAME, ttl=5, holder="first")
    second = RelayLease(db.engine, db.tables.lease, RELAY_LEASE_NAME, ttl=5, holder="second")
    assert first.hold()  # also inserts the row that create_all (unlike the migration) does not
    assert not second.hold()
    assert _holder(db) == "first"
    first.release()
    assert _holder(db) is None
    assert second.hold()
    assert not first.hold()

    lease = db.tables.lease
    with transaction(db.factory) as session:  # second's holder dies: its lease runs out
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(lease).values(expires_at=past))
    assert first.hold()
    assert _holder(db) == "first"


def test_two_relays_racing_publish_every_event_once_in_aggregate_order(
    db, broker, own_engine_relays, wait_for
):
    probe = broker.bind_probe("contacts", "contact_updated")
    relays = [own_engine_relays(broker.url, poll_interval=0.005, batch_size=20) for _ in range(2)]
    for relay in relays:
        relay.start()

    for i in range(500):  # while both relays run
        _record(db, f"agg-{i % 50}")
    wait_for(lambda: db.unpublished() == 0, timeout=60, what="all rows published")
    time.sleep(0.5)  # anything published twice would have arrived by now

    messages = broker.take_all(probe)
    ids = [props.message_id for props, _ in messages]
    assert len(ids) == 500
    assert len(set(ids)) == 500, "an event was published twice"
    sequences: dict[str, list[int]] = defaultdict(list)
    for props, _ in messages:
        sequences[props.headers["ce-aggregateid"]].append(int(props.headers["ce-sequence"]))
    assert len(sequences) == 50
    for aggregate, seen in sequences.items():
        assert seen == list(range(1, 11)), f"{aggregate} published out of order: {seen}"
    assert sum(relay.is_holder for relay in relays) == 1


def test_a_cleanly_stopped_holder_hands_over_at_the_next_check(db, broker, own_engine_relays, wait_for):
    probe = broker.bind_probe("contacts", "contact_updated")
    first = own_engine_relays(broker.url, poll_interval=0.01, lease_ttl=30)
    first.start()
    wait_for(lambda: first.is_holder, what="the first relay to take the lease")
    second = own_engine_relays(broker.url, poll_interval=0.01, lease_ttl=30, lease_check_interval=0.2)
    second.start()
    time.sleep(0.5)
    assert not second.is_holder
    first.stop()
    # Released, although the TTL is far from over: free, or already the second's (its check every 0.2 s
    # can come between the release and this read; seen on a loaded machine).
    assert _holder(db) in (None, second.holder)
    _record(db, "c1")
    wait_for(lambda: broker.count(probe) == 1, timeout=3, what="the second relay to publish")
    assert _holder(db) == second.holder


def test_a_holder_that_lost_its_lease_stops_publishing(db, broker, own_engine_relays, wait_for):
    probe = broker.bind_probe("contacts", "contact_updated")
    relay = own_engine_relays(broker.url, poll_interval=0.01, lease_ttl=1.5)
    relay.start()
    wait_for(lambda: relay.is_holder, what="the relay to take the lease")
    lease = db.tables.lease
    with transaction(db.factory) as session:  # e.g. it stalled past its TTL and another relay took over
        later = datetime.now(UTC) + timedelta(seconds=60)
        session.execute(update(lease).values(holder="intruder", expires_at=later))
    time.sleep(0.7)  # past TTL/3: the relay's fence has checked the row again
    _record(db, "c1")
    time.sleep(1.0)
    assert broker.count(probe) == 0
    assert not relay.is_holder
    assert relay.is_alive()  # still running, waiting for its turn


_DOOMED_RELAY = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import MetaData
    from crm_platform.db import make_engine
    from crm_platform.events import OutboxRelay, messaging_tables

    database_url, amqp_url = sys.argv[1:3]
    relay = OutboxRelay(
        make_engine(database_url), messaging_tables(MetaData()), amqp_url,
        lease_ttl=2.0, poll_interval=0.01, holder="doomed",
    )
    relay.start()
    while True:
        time.sleep(1)
    """
)


def _relay_state(db, relay: OutboxRelay) -> str:
    """The outbox, the lease and the relay thread's stack, for a failure's message."""
    outbox = db.tables.outbox
    with db.engine.connect() as conn:
        rows = conn.execute(select(outbox)).mappings().all()
    thread = relay._thread
    frame = sys._current_frames().get(thread.ident) if thread is not None and thread.ident else None
    stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no relay thread)"
    return f"lease holder {_holder(db)!r}, relay {relay.holder!r}\noutbox {[dict(r) for r in rows]}\n{stack}"


def test_a_killed_holder_is_replaced_within_the_ttl(db, broker, own_engine_relays, database_url, wait_for):
    probe = broker.bind_probe("contacts", "contact_updated")
    doomed = subprocess.Popen([sys.executable, "-c", _DOOMED_RELAY, database_url, broker.url])
    try:
        wait_for(lambda: _holder(db) == "doomed", timeout=20, what="the subprocess relay to take the lease")
        first = _record(db, "c1")
        wait_for(lambda: broker.count(probe) == 1, what="the subprocess relay to publish")
        successor = own_engine_relays(broker.url, poll_interval=0.01, lease_ttl=2.0, lease_check_interval=0.2)
        successor.start()
        os.kill(doomed.pid, signal.SIGKILL)  # no chance to release the lease
        doomed.wait(10)
        killed_at = time.monotonic()
        second = _record(db, "c1")
        # At least once: killed between the broker's confirm and marking the row published, the doomed
        # relay leaves its event for the successor to publish again (a CI run saw three messages, which
        # a wait for exactly two never accepted).
        arrived: list[str] = []

        def second_arrived() -> bool:
            arrived.extend(properties.message_id for properties, _body in broker.take_all(probe))
            return second in arrived

        try:
            wait_for(second_arrived, timeout=10, what="the successor to publish")
        except AssertionError as stuck:
            # Seen once in a loaded suite run and never alone: say where the successor was.
            raise AssertionError(f"{stuck}\n{_relay_state(db, successor)}") from None
        # TTL (2 s) + the successor's check interval + a margin for a busy machine.
        assert time.monotonic() - killed_at < 3.5
        assert set(arrived) == {first, second}
        assert _holder(db) == successor.holder
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
