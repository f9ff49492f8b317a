"""The entry point every service shares: `crm-<name> serve|worker|migrate|check-worker`.

A service describes itself once (`ServiceDefinition`): its database schema, how it registers its gRPC
servicers and which events it consumes. This module turns that into processes: it configures telemetry,
opens the service's own database, applies migrations, starts the outbox relay, and runs either the gRPC
server or the event consumer until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import config, db, migrations, telemetry
from crm_platform.events import EventConsumer, MessagingTables, OutboxRelay, install_wakeup
from crm_platform.events.wire import Event
from crm_platform.grpc_server import GrpcServer, install_stop_signals

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
HEARTBEAT_MAX_AGE_SECONDS = 60.0

EventHandler = Callable[[Session, Event], None]


@dataclass(frozen=True)
class Subscription:
    source_service: str
    event_type: str
    handler: EventHandler


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

    @property
    def listen_setting(self) -> config.Setting[str]:
        return config.grpc_listen_setting(self.name)

    def __post_init__(self) -> None:
        # Registered on import of the service's main module, so deployment checks see every variable
        # the service reads without starting it.
        config.grpc_listen_setting(self.name)
        config.database_url_setting(self.name)


def open_runtime(definition: ServiceDefinition, database_url: str | None = None) -> Runtime:
    engine = db.make_engine(database_url or db.database_url(definition.name))
    migrations.upgrade(engine, definition.migrations_dir)
    return Runtime(definition.name, engine, db.make_session_factory(engine), definition.messaging)


def start_relay(runtime: Runtime) -> OutboxRelay:
    relay = OutboxRelay(runtime.engine, runtime.messaging.outbox, config.AMQP_URL.get())
    install_wakeup(runtime.sessions, relay)
    relay.start()
    return relay


def serve(definition: ServiceDefinition) -> None:
    telemetry.setup(definition.name)
    runtime = open_runtime(definition)
    relay = start_relay(runtime)
    server = GrpcServer(
        definition.name,
        definition.listen_setting.get(),
        lambda s: definition.register_grpc(s, runtime),
    ).start()
    try:
        server.wait()
    finally:
        relay.stop()
        telemetry.shutdown()
        runtime.engine.dispose()


def heartbeat_path(service: str, data_dir: Path | None = None) -> Path:
    """Where a worker proves it is alive; `data_dir` defaults to CRM_DATA_DIR."""
    return (data_dir or config.DATA_DIR.get()) / f"{service}-worker.heartbeat"


def worker(definition: ServiceDefinition) -> None:
    telemetry.setup(f"{definition.name}-worker")
    runtime = open_runtime(definition)
    relay = start_relay(runtime)
    consumer = EventConsumer(
        config.AMQP_URL.get(), runtime.sessions, runtime.messaging.inbox, service=definition.name
    )
    for sub in definition.subscriptions:
        consumer.subscribe(sub.source_service, sub.event_type, sub.handler)
    stopping = threading.Event()

    def stop() -> None:
        stopping.set()
        consumer.stop()

    install_stop_signals(stop)
    consuming = threading.Thread(target=consumer.run, name=f"{definition.name}-consumer", daemon=True)
    consuming.start()
    beat = heartbeat_path(definition.name)
    beat.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The heartbeat proves the consumer thread is alive; `check-worker` turns it into a liveness probe.
        while consuming.is_alive() and not stopping.is_set():
            beat.touch()
            consuming.join(HEARTBEAT_INTERVAL_SECONDS)
    finally:
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


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"crm-{definition.name}", description=f"CRM {definition.name} service"
    )
    parser.add_argument(
        "command",
        choices=["serve", "worker", "migrate", "check-worker"],
        help="serve: gRPC server; worker: event consumer and outbox relay; migrate: apply migrations; "
        "check-worker: exit 0 if the worker is alive (liveness probe)",
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(definition)
    elif args.command == "worker":
        worker(definition)
    elif args.command == "migrate":
        migrate(definition)
    else:
        return check_worker(definition)
    return 0
