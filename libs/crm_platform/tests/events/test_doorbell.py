"""The doorbell: a commit that recorded events, made through another engine (as another process would),
wakes the relay holding the lease at once, although that relay would not poll again for half a minute."""

from __future__ import annotations

import threading
import time

from crm_platform.db import make_engine, make_session_factory, transaction
from crm_platform.events import doorbell, record_event
from crm_platform.events.doorbell import DoorbellListener

AGG = {"aggregate_type": "contact", "aggregate_id": "c1"}


def _record(sessions, db, *, fail: bool = False) -> None:
    try:
        with transaction(sessions) as session:
            record_event(
                session, db.tables, source="contacts", event_type="contact_created", **AGG, payload={}
            )
            if fail:
                raise RuntimeError("the business rule refused the change")
    except RuntimeError:
        pass


def test_a_commit_elsewhere_wakes_the_lease_holder(db, database_url, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_created")
    relay = start_relay(broker.url, poll_interval=30)  # after its first, empty poll only a ring wakes it
    wait_for(lambda: relay.is_holder and relay._doorbell.is_open, what="the holder listening")
    time.sleep(0.5)  # its first poll found nothing; on PostgreSQL, LISTEN has taken effect
    other = make_engine(database_url)  # another process's engine: the relay's wake-up hook is not on it
    try:
        sessions = make_session_factory(other)
        doorbell.install(sessions)
        started = time.monotonic()
        _record(sessions, db)
        wait_for(lambda: broker.count(probe) == 1, timeout=5, what="the rung relay to publish")
        assert time.monotonic() - started < 1.5
    finally:
        other.dispose()


def test_only_a_commit_that_recorded_events_rings(db, database_url):
    rings = threading.Semaphore(0)
    listener = DoorbellListener(db.engine, rings.release)
    listener.open()
    try:
        if db.engine.dialect.name == "postgresql":
            assert rings.acquire(timeout=5)  # the listener checks once after LISTEN takes effect
        else:
            time.sleep(0.3)  # bound
        sessions = make_session_factory(db.engine)
        doorbell.install(sessions)
        doorbell.install(sessions)  # twice is harmless: still one ring per commit
        _record(sessions, db, fail=True)
        with transaction(sessions) as session:  # a transaction without events
            session.execute(db.contacts.insert().values(id="x", name="no event"))
        assert not rings.acquire(timeout=1.2)
        _record(sessions, db)
        assert rings.acquire(timeout=2)
        assert not rings.acquire(timeout=0.3)
    finally:
        listener.close(timeout=3)


def test_behind_pgbouncer_the_relay_listens_only_on_a_direct_url(monkeypatch):
    """Transaction pooling cannot LISTEN: without CRM_RELAY_LISTEN_URL the holder only polls."""
    from crm_platform import postgres

    monkeypatch.delenv("CRM_RELAY_LISTEN_URL", raising=False)
    pooled = postgres.make_engine("postgresql+psycopg://crm@127.0.0.1:6432/contacts?pgbouncer=true")
    direct = postgres.make_engine("postgresql+psycopg://crm@127.0.0.1:5432/contacts")
    try:
        assert DoorbellListener(pooled, lambda: None)._listen_url() is None
        assert (
            DoorbellListener(direct, lambda: None)._listen_url() == "postgresql://crm@127.0.0.1:5432/contacts"
        )
        monkeypatch.setenv("CRM_RELAY_LISTEN_URL", "postgresql://crm@db:5432/contacts")
        assert DoorbellListener(pooled, lambda: None)._listen_url() == "postgresql://crm@db:5432/contacts"
    finally:
        pooled.dispose()
        direct.dispose()


def _waits_in_the_second_after_an_event(
    relay, sessions, db, broker, probe, wait_for, published: int
) -> list[tuple[float, float]]:
    """Each poll in the second after the event's publication: (seconds since then, the wait before it)."""
    polls: list[tuple[float, float]] = []
    due = relay._due

    def counted(limit: int):
        polls.append((time.monotonic(), relay._next_wait))
        return due(limit)

    relay._due = counted
    try:
        _record(sessions, db)
        wait_for(lambda: broker.count(probe) == published, timeout=5, what="the event published")
        published_at = time.monotonic()
        del polls[:]
        time.sleep(1.0)
        return [(at - published_at, wait) for at, wait in list(polls)]
    finally:
        relay._due = due


def test_after_an_event_that_rang_the_relay_backs_off_at_once(
    db, database_url, broker, start_relay, wait_for
):
    """Fast polls are for events nobody rang for: after one that rang, the relay doubles its wait from
    the first empty poll (10, 20, 40 ... ms: a handful of polls in the next second) instead of polling
    every 10 ms for a second (about a hundred); an event that did not ring puts it back to fast polls.
    Told by the waits the relay chose, not by counting polls alone: on a loaded machine a 10 ms wait
    can take far longer, but the relay's choice of it cannot."""
    probe = broker.bind_probe("contacts", "contact_created")
    relay = start_relay(broker.url, poll_interval=0.01)
    wait_for(lambda: relay.is_holder and relay._doorbell.is_open, what="the holder listening")
    time.sleep(0.5)
    other = make_engine(database_url)
    try:
        ringing = make_session_factory(other)
        doorbell.install(ringing)
        rang = _waits_in_the_second_after_an_event(relay, ringing, db, broker, probe, wait_for, 1)
        assert len(rang) <= 15, rang
        assert max(wait for _, wait in rang) >= 0.08, rang
        relay._doorbell._on_ring = lambda: None  # a ring lost (PostgreSQL's NOTIFY comes with every event)
        unrung = _waits_in_the_second_after_an_event(relay, ringing, db, broker, probe, wait_for, 2)
        early = [wait for since, wait in unrung if since < 0.8]
        # A handful suffices to tell fast polls (a loaded CI run fitted 9 of its 10 ms waits in 0.8 s):
        # what matters is that every wait the relay chose was the fast one.
        assert len(early) >= 5, unrung
        assert set(early) == {0.01}, unrung
    finally:
        other.dispose()
