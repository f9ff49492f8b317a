"""The entry point every service shares: `crm-<name> serve|worker|migrate|check-worker|dlq`.

A service describes itself once (`ServiceDefinition`): its database schema, how it registers its gRPC
servicers and which events it consumes. This module turns that into processes: it configures telemetry,
opens the service's own database, applies migrations, declares its exchange and subscription queues
(so nothing published before a consumer first runs is lost), starts the outbox relay, and runs either
the gRPC server or the event consumer until SIGTERM/SIGINT.

- `migrate`: migrations, then the event topology (skipped with a warning if RabbitMQ is away; the worker
  declares it again when it connects).
- `worker`: the consumer and the relay; its heartbeat file is touched only while both are alive, and
  it prunes the outbox and inbox about once a minute.
- `dlq list|show|replay`: the service's dead-letter queues (one per source it subscribes to).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import config, db, migrations, telemetry
from crm_platform.events import (
    EventConsumer,
    MessagingTables,
    OutboxRelay,
    dlq_cli,
    doorbell,
    install_wakeup,
    prune_inbox,
    prune_outbox,
    topology,
)
from crm_platform.events.consumer import DEFAULT_VERSIONS, set_aside_delays
from crm_platform.events.wire import Event
from crm_platform.grpc_server import GrpcServer, install_stop_signals
from crm_platform.metrics.broker import QueueDepthCollector
from crm_platform.metrics.exposition import serve_metrics
from crm_platform.metrics.outbox import OutboxCollector

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
HEARTBEAT_MAX_AGE_SECONDS = 60.0
HOUSEKEEPING_INTERVAL_SECONDS = 60.0

EventHandler = Callable[[Session, Event], None]


@dataclass(frozen=True)
class Subscription:
    source_service: str
    event_type: str
    handler: EventHandler
    # Schema versions the handler understands; any other version is dead-lettered as poison.
    versions: Collection[int] = DEFAULT_VERSIONS


@dataclass
class Runtime:
    """What a running service process has open; handed to the service's servicers and handlers."""

    name: str
    engine: Engine
    sessions: sessionmaker[Session]
    messaging: MessagingTables


@dataclass
class ServiceDefinition:
    name: str
    metadata: MetaData
    messaging: MessagingTables
    migrations_dir: Path
    # Adds the servicers to the server; returns their full names (for health and reflection).
    register_grpc: Callable[[grpc.Server, Runtime], Iterable[str]]
    subscriptions: Sequence[Subscription] = field(default_factory=tuple)
    # Long-running jobs of the worker process (e.g. contacts' imports): each is called once in a thread of
    # its own with the runtime and the worker's stop event, and must return soon after the event is set.
    background: Sequence[Callable[[Runtime, threading.Event], None]] = field(default_factory=tuple)

    def include(
        self,
        *registers: Callable[[grpc.Server, Runtime], Iterable[str]],
        subscriptions: Sequence[Subscription] = (),
        background: Sequence[Callable[[Runtime, threading.Event], None]] = (),
    ) -> ServiceDefinition:
        """How an aggregate or a feature joins its service (one line in main.py): its servicers are
        registered after the ones before, its subscriptions consumed and its background jobs run by the
        worker too. Returns the definition (changed in place)."""
        before = self.register_grpc

        def register_all(server: grpc.Server, runtime: Runtime) -> Iterable[str]:
            return [*before(server, runtime), *(name for r in registers for name in r(server, runtime))]

        self.register_grpc = register_all
        self.subscriptions = (*self.subscriptions, *subscriptions)
        self.background = (*self.background, *background)
        return self

    @property
    def listen_setting(self) -> config.Setting[str]:
        return config.grpc_listen_setting(self.name)

    @property
    def sources(self) -> list[str]:
        """The services whose events this one consumes."""
        return sorted({sub.source_service for sub in self.subscriptions})

    @property
    def queues(self) -> list[str]:
        """Its work queues, one per source (each with retry queues and a `.dlq`)."""
        return [topology.subscription_queue(self.name, source) for source in self.sources]

    def __post_init__(self) -> None:
        # Registered on import of the service's main module, so deployment checks see every variable
        # the service reads without starting it.
        config.grpc_listen_setting(self.name)
        config.database_url_setting(self.name)
        config.metrics_port_setting(self.name)
        config.metrics_port_setting(self.name, "worker")


def open_runtime(definition: ServiceDefinition, database_url: str | None = None) -> Runtime:
    engine = db.make_engine(database_url or db.database_url(definition.name))
    migrations.upgrade(engine, definition.migrations_dir)
    sessions = db.make_session_factory(engine)
    doorbell.install(sessions)  # commits that record events wake the relay, whichever process holds it
    return Runtime(definition.name, engine, sessions, definition.messaging)


def declare_topology(definition: ServiceDefinition) -> bool:
    """Declare the service's exchange and subscription queues (retiring the older per-event-type
    queues); False (logged) if RabbitMQ is away."""
    return topology.try_declare(
        config.AMQP_URL.get(),
        definition.name,
        definition.sources,
        set_aside_delays(),
        # Queues of the layout before one queue per source: emptied into the new ones, then deleted.
        retire=[(sub.source_service, sub.event_type) for sub in definition.subscriptions],
    )


def start_relay(runtime: Runtime) -> OutboxRelay:
    relay = OutboxRelay(runtime.engine, runtime.messaging, config.AMQP_URL.get())
    install_wakeup(runtime.sessions, relay)
    relay.start()
    return relay


def serve(definition: ServiceDefinition) -> None:
    telemetry.setup(definition.name)
    runtime = open_runtime(definition)
    declare_topology(definition)
    relay = start_relay(runtime)
    # Request figures only: the outbox and queue collectors describe the whole database and broker, so
    # the worker alone serves them (two processes would report the same series twice).
    metrics_server = serve_metrics(config.metrics_port_setting(definition.name))
    server = GrpcServer(
        definition.name,
        definition.listen_setting.get(),
        lambda s: definition.register_grpc(s, runtime),
    ).start()
    try:
        server.wait()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        relay.stop()
        telemetry.shutdown()
        runtime.engine.dispose()


def heartbeat_path(service: str, data_dir: Path | None = None) -> Path:
    """Where a worker proves it is alive; `data_dir` defaults to CRM_DATA_DIR."""
    return (data_dir or config.DATA_DIR.get()) / f"{service}-worker.heartbeat"


class _Relay(Protocol):
    def is_alive(self) -> bool: ...


def worker_is_alive(consuming: threading.Thread, relay: _Relay) -> bool:
    """What the heartbeat vouches for: the consumer thread runs and so does the relay's loop (holding
    the lease or waiting for it). A relay without `is_alive` counts as alive."""
    relay_alive = getattr(relay, "is_alive", None)
    return consuming.is_alive() and (relay_alive is None or bool(relay_alive()))


class Housekeeping:
    """Prunes the outbox and the inbox when `interval` seconds have passed since it last did."""

    def __init__(
        self,
        runtime: Runtime,
        interval: float = HOUSEKEEPING_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runtime = runtime
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    def maybe_run(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        self._last = now
        try:
            outbox = prune_outbox(self._runtime.engine, self._runtime.messaging)
            inbox = prune_inbox(self._runtime.engine, self._runtime.messaging)
        except Exception:
            # The database may be away for a while; pruning is not urgent, the next round catches up.
            log.exception("housekeeping failed; trying again next round")
            return
        if outbox or inbox:
            log.info("housekeeping pruned %d outbox and %d inbox rows", outbox, inbox)


def worker(definition: ServiceDefinition) -> None:
    telemetry.setup(f"{definition.name}-worker")
    runtime = open_runtime(definition)
    # Before the relay publishes anything, so its events have queues to go to.
    declare_topology(definition)
    relay = start_relay(runtime)
    consumer = EventConsumer(
        config.AMQP_URL.get(), runtime.sessions, runtime.messaging, service=definition.name
    )
    for sub in definition.subscriptions:
        consumer.subscribe(sub.source_service, sub.event_type, sub.handler, versions=sub.versions)
    metrics_server = serve_metrics(
        config.metrics_port_setting(definition.name, "worker"),
        [
            OutboxCollector(runtime.engine, runtime.messaging),
            QueueDepthCollector(config.AMQP_URL.get(), definition.queues),
        ],
    )
    stopping = threading.Event()

    def stop() -> None:
        stopping.set()
        consumer.stop()

    install_stop_signals(stop)
    consuming = threading.Thread(target=consumer.run, name=f"{definition.name}-consumer", daemon=True)
    consuming.start()
    for number, job in enumerate(definition.background):
        threading.Thread(
            target=job, args=(runtime, stopping), name=f"{definition.name}-background-{number}", daemon=True
        ).start()
    beat = heartbeat_path(definition.name)
    beat.parent.mkdir(parents=True, exist_ok=True)
    housekeeping = Housekeeping(runtime)
    try:
        # The heartbeat proves the consumer and the relay are alive; `check-worker` turns it into a
        # liveness probe, so a worker whose relay died is restarted rather than left publishing nothing.
        while consuming.is_alive() and not stopping.is_set():
            if worker_is_alive(consuming, relay):
                beat.touch()
            else:
                log.warning("outbox relay is not alive; heartbeat withheld")
            housekeeping.maybe_run()
            consuming.join(HEARTBEAT_INTERVAL_SECONDS)
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        consumer.stop()
        consuming.join(10)
        relay.stop()
        telemetry.shutdown()
        runtime.engine.dispose()
    if not stopping.is_set():
        log.error("consumer stopped unexpectedly")
        sys.exit(1)


def check_worker(definition: ServiceDefinition) -> int:
    beat = heartbeat_path(definition.name)
    try:
        age = time.time() - beat.stat().st_mtime
    except FileNotFoundError:
        print(f"no heartbeat at {beat}", file=sys.stderr)
        return 1
    if age > HEARTBEAT_MAX_AGE_SECONDS:
        print(f"heartbeat is {age:.0f}s old", file=sys.stderr)
        return 1
    return 0


def migrate(definition: ServiceDefinition) -> None:
    telemetry.setup_logging(definition.name)
    runtime = open_runtime(definition)
    runtime.engine.dispose()
    log.info("migrations applied")
    if declare_topology(definition):
        log.info("event topology declared", extra={"queues": definition.queues})


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"crm-{definition.name}", description=f"CRM {definition.name} service"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="gRPC server (and an outbox relay)")
    commands.add_parser("worker", help="event consumer and outbox relay, with housekeeping")
    commands.add_parser("migrate", help="apply migrations and declare the event topology")
    commands.add_parser("check-worker", help="exit 0 if the worker is alive (liveness probe)")
    dlq_parser = commands.add_parser("dlq", help="list, show and replay dead-lettered events")
    dlq_parser.add_argument("--amqp-url", help="RabbitMQ URL (default: $AMQP_URL)")
    dlq_cli.add_commands(
        dlq_parser, queue_help=f"one work queue or its .dlq (default: all of {', '.join(definition.queues)})"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(definition)
    elif args.command == "worker":
        worker(definition)
    elif args.command == "migrate":
        migrate(definition)
    elif args.command == "dlq":
        telemetry.setup_logging(definition.name)
        return dlq_cli.run(args, args.amqp_url or config.AMQP_URL.get(), definition.queues)
    else:
        return check_worker(definition)
    return 0
