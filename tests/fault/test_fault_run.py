"""The fault run (issue 7): load through the gateway while the event path is hurt, then count.

2,000 contacts are created through the gateway by 16 clients while the run kills -9 the notifications
worker twice, restarts RabbitMQ (the fault tests' own node) once and makes the notifications database
(PostgreSQL, reached through a TcpProxy) unavailable for a few seconds. Afterwards every contact has
exactly one welcome notification (0 lost, 0 applied twice), the dead-letter queue is empty, and the run
reports how long the platform took to drain after the last fault and the last create.

It needs the event path of issue 7 (one relay per outbox with batched confirms, consumers that pause
instead of spending an event's retry budget while their database is away, quorum queues); it starts its
own platform (notifications on PostgreSQL) on its own vhost of the private node.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import psycopg
import pytest
from crm_devrun.client import GatewayClient
from crm_devrun.probes import wait_until
from sqlalchemy.engine import make_url

from crm_platform import config
from crm_platform.events import topology
from crm_platform.testing import RabbitNode, TcpProxy, create_database, drop_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CONTACTS = config.Setting(
    "CRM_FAULT_RUN_CONTACTS",
    config.positive_int,
    default="2000",
    help="tests only: contacts the fault run creates (fewer for a quick local try)",
).get()
CLIENTS = 16
# Paced so that the load outlasts the fault schedule (a RabbitMQ restart alone takes ~10 s here):
# every fault then strikes while contacts are still being created (2,000 contacts: ~60 a second).
LOAD_SECONDS = 33.0
CONTACTS_PER_SECOND = CONTACTS / LOAD_SECONDS
DB_OUTAGE_SECONDS = 4.0
DRAIN_TIMEOUT_SECONDS = 300.0
DLQ = topology.dlq_name(topology.subscription_queue("notifications", "contacts"))


@dataclass
class FaultRun:
    platform: Any  # tests/conftest.py RunningPlatform
    node: RabbitNode
    proxy: TcpProxy
    amqp_url: str
    notifications_url: str  # direct, not through the proxy: the counting must not depend on it
    log: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:7.2f}s {what}")


@pytest.fixture
def fault_run(
    tmp_path: Path, rabbit_node: RabbitNode, launch_platform: Callable[..., Any]
) -> Iterator[FaultRun]:
    notifications_url = create_database("fault_run_notifications")
    target = make_url(notifications_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
    # A vhost of its own: the session's fault platform may run on the same node with the same queues.
    amqp_url = rabbit_node.create_vhost(f"fault-run-{secrets.token_hex(3)}")
    running = None
    try:
        running = launch_platform(
            tmp_path / "platform", amqp_url, None, {"notifications": proxy.url_for(notifications_url)}
        )
        yield FaultRun(running, rabbit_node, proxy, amqp_url, notifications_url)
    finally:
        if running is not None:
            running.supervisor.stop()
        proxy.close()
        drop_database(notifications_url)


def create_contact(client: GatewayClient, index: int) -> str:
    """Creates one contact, retrying a failed attempt with the same Idempotency-Key (a retry can never
    make a second contact, so a lost answer does not skew the count)."""
    key = {"Idempotency-Key": f"fault-run-{index}-{secrets.token_hex(4)}"}
    body = {
        "first_name": f"Run{index}",
        "last_name": "Fault",
        "email": f"run{index}-{secrets.token_hex(4)}@ex.com",
    }
    for attempt in range(6):
        try:
            reply = client.request("POST", "/api/v1/contacts", body, headers=key)
        except OSError:
            client.close()
            reply = None
        if reply is not None and reply.status == 201:
            return str(reply.json()["id"])
        time.sleep(0.2 * (attempt + 1))
    raise AssertionError(f"contact {index} could not be created: {reply.status if reply else 'no answer'}")


def kill_worker(run: FaultRun) -> None:
    worker = run.platform.supervisor["notifications-worker"]
    process = worker.process
    assert process is not None and process.poll() is None
    restarts = worker.restarts
    os.kill(process.pid, signal.SIGKILL)  # the supervisor restarts it, as Kubernetes would
    run.note(f"kill -9 notifications worker (pid {process.pid})")
    wait_until(lambda: worker.restarts > restarts and worker.alive(), timeout=30, what="the worker restarted")
    run.note("notifications worker restarted")


def restart_rabbitmq(run: FaultRun) -> None:
    run.note("RabbitMQ stopping")
    run.node.stop()
    run.node.start()
    run.note("RabbitMQ back")


def cut_database(run: FaultRun) -> None:
    run.note("notifications database cut")
    run.proxy.cut()
    time.sleep(DB_OUTAGE_SECONDS)
    run.proxy.restore()
    run.note("notifications database back")


def welcomes_per_contact(url: str) -> dict[str, int]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT contact_id, count(*) FROM notifications WHERE kind = 'welcome' GROUP BY contact_id"
        ).fetchall()
    return {contact_id: count for contact_id, count in rows}


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0  # never declared: nothing was dead-lettered
    finally:
        if connection.is_open:
            connection.close()


def test_no_event_lost_or_applied_twice_through_crashes_and_outages(fault_run: FaultRun) -> None:
    run = fault_run
    token = run.platform.client().token
    created: list[str] = []
    created_lock = threading.Lock()
    # Faults at fixed points of the load, each while creates keep coming. Each starts at its point even if
    # an earlier one (RabbitMQ's restart takes 6-16 s) is still going on: overlapping faults are harsher,
    # and a slow restart must not push the later faults past the end of the load.
    schedule = [
        (0.15, kill_worker),
        (0.35, restart_rabbitmq),
        (0.55, cut_database),
        (0.75, kill_worker),
    ]

    faults_started: list[float] = []

    def one_fault(share: float, fault: Callable[[FaultRun], None]) -> None:
        wait_until(lambda: len(created) >= share * CONTACTS, timeout=600, interval=0.05)
        faults_started.append(time.monotonic())
        fault(run)

    def faults() -> None:
        threads = [
            threading.Thread(target=one_fault, args=step, name=f"fault-{step[1].__name__}")
            for step in schedule
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def client_loop(indexes: range) -> None:
        client = GatewayClient(run.platform.config.gateway_url, token, timeout=30)
        interval = CLIENTS / CONTACTS_PER_SECOND
        next_at = time.monotonic()
        try:
            for index in indexes:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                contact_id = create_contact(client, index)
                with created_lock:
                    created.append(contact_id)
        finally:
            client.close()

    run.note(f"load: {CONTACTS} contacts, {CLIENTS} clients")
    fault_thread = threading.Thread(target=faults, name="faults")
    fault_thread.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client_loop, [range(i, CONTACTS, CLIENTS) for i in range(CLIENTS)]))
    load_done = time.monotonic()
    run.note(f"load done ({len(created)} created)")
    fault_thread.join(120)
    assert not fault_thread.is_alive(), "the fault schedule did not finish"
    faults_done = time.monotonic()
    # Every fault began while creates were still coming (a slow machine may finish the last one, e.g.
    # RabbitMQ's restart, after the load: what matters is that the load met each of them).
    faults_during_load = len(faults_started) == len(schedule) and max(faults_started) <= load_done

    expected = set(created)
    assert len(expected) == CONTACTS

    def drained() -> dict[str, int] | None:
        counts = welcomes_per_contact(run.notifications_url)
        return counts if expected <= counts.keys() else None

    counts = wait_until(
        drained, timeout=DRAIN_TIMEOUT_SECONDS, interval=0.5, what="a welcome for every contact"
    )
    drain_end = time.monotonic()
    time.sleep(2)  # anything still in flight that would apply an event twice has had its chance
    counts = welcomes_per_contact(run.notifications_url)
    lost = sorted(expected - counts.keys())
    twice = {c: n for c, n in counts.items() if n > 1}
    report = {
        "contacts": CONTACTS,
        "clients": CLIENTS,
        "load_seconds": round(load_done - run.started, 2),
        "drain_after_load_seconds": round(drain_end - load_done, 2),
        "drain_after_last_fault_seconds": round(drain_end - max(load_done, faults_done), 2),
        "lost": len(lost),
        "applied_twice": len(twice),
        "dlq_depth": queue_depth(run.amqp_url, DLQ),
        "worker_restarts": run.platform.supervisor["notifications-worker"].restarts,
        "faults_during_load": faults_during_load,
        "timeline": run.log,
    }
    print("fault run:", json.dumps(report, indent=2))
    assert lost == [] and twice == {}, report
    assert report["dlq_depth"] == 0, report
    assert faults_during_load, report  # else the schedule no longer tests what it says
    assert set(counts) <= expected, "welcomes only for contacts of this run"
