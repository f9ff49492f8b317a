"""Outbox relay throughput: batched publisher confirms against one confirm per message, in the same run.

For each database (a SQLite file and a fresh PostgreSQL database) and each mode, EVENTS events are
pre-recorded in a fresh outbox (over AGGREGATES aggregates, interleaved, the way many users' requests
interleave) and timed until every row is marked published, against the machine's RabbitMQ in a vhost of
its own with a queue bound for every event (`#`, length-capped so the broker does not hoard them):

- batched: `OutboxRelay` as services run it (lease, due-row query, one batch, all confirms awaited
  together, one UPDATE marking the batch);
- per-message: the same due-row query and the same one-UPDATE marking, but each event published through
  pika's BlockingChannel in confirm mode, which waits for that event's confirm before the next publish:
  what the relay did before batching.

Then commit-to-consumed latency: RATE events/s recorded one per transaction for LATENCY_SECONDS through
`record_event` in this process, with the relay and a consumer each in a process of its own (as a service's
`serve`, its `worker` and a subscribing service's worker), timed from commit to arrival at the consumer;
p50/p99 printed. The relay has been idle for a while when the events start (it backed off to its idle
poll), so the first events measure how fast it wakes: the doorbell (`events/doorbell.py`) rings it.

`.venv/bin/python bench/bench_relay.py` prints the figures; the target is batched >= 4x per-message and
p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pika
from sqlalchemy import Engine, MetaData, func, insert, select

from crm_platform.db import make_engine, make_session_factory, transaction
from crm_platform.events import MessagingTables, OutboxRelay, doorbell, messaging_tables, record_event, wire
from crm_platform.events.relay_store import due_rows, mark_published, pending
from crm_platform.testing.postgres import create_database, drop_database
from crm_platform.testing.rabbit import amqp_url_for_vhost, create_vhost, delete_vhost

EVENTS = 20_000
AGGREGATES = 2_000
BATCH = 500
RATE = 500
LATENCY_SECONDS = 6


@dataclass
class Outbox:
    engine: Engine
    tables: MessagingTables

    def pending(self) -> int:
        outbox = self.tables.outbox
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(outbox).where(pending(outbox))).scalar_one()


@contextlib.contextmanager
def fresh_outbox(backend: str) -> Iterator[Outbox]:
    metadata = MetaData()
    tables = messaging_tables(metadata)
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory()) / Path('bench.db')}"
        else:
            url = create_database("bench_relay")
            stack.callback(drop_database, url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        metadata.create_all(engine)
        yield Outbox(engine, tables)


@contextlib.contextmanager
def fresh_vhost() -> Iterator[str]:
    vhost = f"bench_relay_{secrets.token_hex(4)}"
    create_vhost(vhost)
    try:
        url = amqp_url_for_vhost(vhost)
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        wire.declare_exchange(channel, "contacts.events")
        channel.queue_declare("sink", durable=True, arguments={"x-max-length": 1000})
        channel.queue_bind("sink", "contacts.events", routing_key="#")
        connection.close()
        yield url
    finally:
        delete_vhost(vhost)


def prerecord(outbox: Outbox, count: int) -> None:
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        event_id = str(uuid.uuid4())
        aggregate_id, sequence = f"c{i % AGGREGATES}", i // AGGREGATES + 1
        headers = wire.cloudevent_headers(
            event_id=event_id,
            event_type="contact_updated",
            service="contacts",
            time=now,
            version=1,
            aggregate_type="contact",
            aggregate_id=aggregate_id,
            sequence=sequence,
        )
        rows.append(
            {
                "id": event_id,
                "aggregate_type": "contact",
                "aggregate_id": aggregate_id,
                "sequence": sequence,
                "exchange": "contacts.events",
                "routing_key": "contact_updated",
                "payload": json.dumps({"name": f"contact {i}", "email": f"c{i}@example.com"}),
                "headers": json.dumps(headers),
                "created_at": now,
                "attempts": 0,
            }
        )
    with outbox.engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(insert(outbox.tables.outbox), rows[start : start + 5000])


def run_batched(outbox: Outbox, amqp_url: str) -> float:
    relay = OutboxRelay(outbox.engine, outbox.tables, amqp_url, batch_size=BATCH, poll_interval=0.01)
    started = time.perf_counter()
    relay.start()
    try:
        while outbox.pending():
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        relay.stop()


def run_per_message(outbox: Outbox, amqp_url: str) -> float:
    """The baseline: same query and marking, one blocking confirm per event."""
    started = time.perf_counter()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    try:
        while rows := due_rows(outbox.engine, outbox.tables.outbox, BATCH, datetime.now(UTC)):
            for row in rows:
                properties = wire.message_properties(row.id, json.loads(row.headers))
                channel.basic_publish(
                    row.exchange, row.routing_key, row.payload.encode(), properties, mandatory=True
                )
            mark_published(outbox.engine, outbox.tables.outbox, [row.id for row in rows], datetime.now(UTC))
        return time.perf_counter() - started
    finally:
        connection.close()


def measure_throughput(backend: str, run: Callable[[Outbox, str], float]) -> float:
    with fresh_outbox(backend) as outbox, fresh_vhost() as amqp_url:
        prerecord(outbox, EVENTS)
        return EVENTS / run(outbox, amqp_url)


def measure_latency(backend: str) -> list[float]:
    """Commit-to-consumed milliseconds at RATE events/s, the relay and the consumer in processes of their own.

    That is the production shape: requests record events in the `serve` processes, the relay runs in the
    service's `worker`, and the consumers are other services' workers. Sharing one interpreter would make
    the recorder, the relay and the consumer queue for one GIL, which no deployment does. Times are
    `time.monotonic()`, one system-wide clock (CLOCK_MONOTONIC) on Linux, so they compare across processes.
    """
    spawn = multiprocessing.get_context("spawn")
    with fresh_outbox(backend) as outbox, fresh_vhost() as amqp_url:
        url = outbox.engine.url.render_as_string(hide_password=False)
        stop = spawn.Event()
        consumer_ready = spawn.Event()
        arrivals: multiprocessing.queues.Queue[dict[str, float]] = spawn.Queue()
        relay = spawn.Process(target=_relay_process, args=(url, amqp_url, stop), daemon=True)
        consumer = spawn.Process(
            target=_consumer_process, args=(amqp_url, stop, consumer_ready, arrivals), daemon=True
        )
        relay.start()
        consumer.start()
        consumer_ready.wait(30)
        time.sleep(1.5)  # the relay process imported, took the lease and connected
        sessions = make_session_factory(outbox.engine)
        doorbell.install(sessions)  # as `open_runtime` does for every service process
        committed: dict[str, float] = {}
        total = RATE * LATENCY_SECONDS
        started = time.monotonic()
        for i in range(total):
            # Scheduled, not back-to-back: a late event does not make the next ones bunch up.
            delay = started + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with transaction(sessions) as session:
                event_id = record_event(
                    session,
                    outbox.tables,
                    source="contacts",
                    event_type="contact_updated",
                    aggregate_type="contact",
                    aggregate_id=f"c{i % 100}",
                    payload={"n": i},
                )
            committed[event_id] = time.monotonic()
        deadline = time.monotonic() + 30
        while outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the last messages reach the consumer
        stop.set()
        arrived = arrivals.get(timeout=30)
        relay.join(15)
        consumer.join(15)
        missing = [event_id for event_id in committed if event_id not in arrived]
        if missing:
            raise RuntimeError(f"{len(missing)} of {total} events never reached the consumer")
        return [max(0.0, arrived[event_id] - at) * 1000 for event_id, at in committed.items()]


def _relay_process(url: str, amqp_url: str, stop: multiprocessing.synchronize.Event) -> None:
    """The relay as a service's worker runs it: own engine, default intervals, woken by the doorbell."""
    engine = make_engine(url)
    relay = OutboxRelay(engine, messaging_tables(MetaData()), amqp_url)
    relay.start()
    stop.wait()
    relay.stop()
    engine.dispose()


def _consumer_process(
    amqp_url: str,
    stop: multiprocessing.synchronize.Event,
    ready: multiprocessing.synchronize.Event,
    arrivals: multiprocessing.queues.Queue[dict[str, float]],
) -> None:
    arrived: dict[str, float] = {}
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_declare("latency", exclusive=True)
    channel.queue_bind("latency", "contacts.events", routing_key="#")
    ready.set()
    for _method, properties, _body in channel.consume("latency", auto_ack=True, inactivity_timeout=0.1):
        if properties is not None:
            arrived[properties.message_id] = time.monotonic()
        elif stop.is_set():
            break
    connection.close()
    arrivals.put(arrived)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("throughput", "latency"), help="run one of the two measurements")
    only = parser.parse_args().only
    if only != "latency":
        throughput()
    if only != "throughput":
        latency()


def throughput() -> None:
    print(f"relay throughput, {EVENTS} pre-recorded events over {AGGREGATES} aggregates, batch {BATCH}")
    for backend in ("sqlite", "postgresql"):
        per_message = measure_throughput(backend, run_per_message)
        batched = measure_throughput(backend, run_batched)
        print(
            f"  {backend:<10} per-message confirms {per_message:8.0f} events/s   "
            f"batched confirms {batched:8.0f} events/s   ratio {batched / per_message:.1f}x"
        )


def latency() -> None:
    print(f"commit -> consumed at {RATE} events/s for {LATENCY_SECONDS} s (relay in another process)")
    for backend in ("sqlite", "postgresql"):
        latencies = measure_latency(backend)
        print(
            f"  {backend:<10} {len(latencies)} events   p50 {statistics.median(latencies):6.1f} ms   "
            f"p99 {percentile(latencies, 0.99):6.1f} ms   max {max(latencies):6.1f} ms"
        )


if __name__ == "__main__":
    main()
