"""The service command: `migrate` declares the event topology (or warns without a broker), `dlq`
lists, shows and replays the service's dead-letter queues, the worker's heartbeat covers the relay
and housekeeping runs about once a minute."""

from __future__ import annotations

import threading
from pathlib import Path

import pika
import pytest
from sqlalchemy import MetaData

from crm_platform import service
from crm_platform.events import messaging_tables, wire
from crm_platform.listen_ports import free_port

NAME = "support"  # a real service name (its settings exist); the definition is this test's own


def _definition() -> service.ServiceDefinition:
    metadata = MetaData()
    return service.ServiceDefinition(
        name=NAME,
        metadata=metadata,
        messaging=messaging_tables(metadata),
        migrations_dir=Path(__file__).parent / "fake_migrations",
        register_grpc=lambda server, runtime: [],
        subscriptions=(
            service.Subscription("contacts", "contact_created", lambda s, e: None),
            service.Subscription("contacts", "contact_updated", lambda s, e: None),
            service.Subscription("identity", "user_created", lambda s, e: None),
        ),
    )


@pytest.fixture
def env(monkeypatch, amqp_url, tmp_path):
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("SUPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'support.db'}")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    return amqp_url


def _channel(amqp_url: str):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()  # a publish returns once the message is in its queues
    return connection, channel


def _count(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def test_migrate_declares_the_topology_so_early_events_are_kept(env):
    definition = _definition()
    assert definition.queues == ["support.contacts", "support.identity"]
    assert service.main(definition, ["migrate"]) == 0
    connection, channel = _channel(env)
    try:
        channel.exchange_declare("support.events", passive=True)  # its own, for its relay
        props = wire.message_properties("e1", {"ce-id": "e1", "ce-type": "contact_deleted"})
        channel.basic_publish("contacts.events", "contact_deleted", b"{}", props)
        channel.basic_publish("identity.events", "user_created", b"{}", props)
        assert _count(channel, "support.contacts") == 1
        assert _count(channel, "support.identity") == 1
        assert _count(channel, "support.contacts.dlq") == 0
    finally:
        connection.close()


def test_migrate_without_a_broker_warns_and_succeeds(env, monkeypatch, capsys):
    monkeypatch.setenv("AMQP_URL", f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    assert service.main(_definition(), ["migrate"]) == 0
    # `migrate` sets up the service's JSON logging on stderr.
    assert "event topology not declared" in capsys.readouterr().err


def test_dlq_list_show_replay_over_the_services_queues(env, capsys):
    definition = _definition()
    assert service.main(definition, ["migrate"]) == 0
    connection, channel = _channel(env)
    try:
        for event_id, queue in (("e-1", "support.contacts.dlq"), ("e-2", "support.identity.dlq")):
            headers = {
                "ce-id": event_id,
                "ce-type": "contact_created",
                "x-crm-attempt": 1,
                "x-crm-reason": "poison: InvalidPayload: no contact_id",
                "x-crm-error": "InvalidPayload: no contact_id",
                "x-crm-failed-at": "2026-01-01T00:00:00+00:00",
            }
            channel.basic_publish("", queue, b'{"name": "Ada"}', wire.message_properties(event_id, headers))
        capsys.readouterr()

        assert service.main(definition, ["dlq", "list"]) == 0
        out = capsys.readouterr().out
        assert "1 parked in support.contacts.dlq" in out
        assert "1 parked in support.identity.dlq" in out
        assert "poison: InvalidPayload: no contact_id" in out

        assert service.main(definition, ["dlq", "show", "e-2"]) == 0
        out = capsys.readouterr().out
        assert "queue: support.identity.dlq" in out
        assert "reason: poison: InvalidPayload: no contact_id" in out
        assert "attempts: 1" in out
        assert "failed_at: 2026-01-01T00:00:00+00:00" in out
        assert '"name": "Ada"' in out
        assert service.main(definition, ["dlq", "show", "nope"]) == 1

        assert service.main(definition, ["dlq", "replay", "--event-id", "e-2"]) == 0
        assert _count(channel, "support.identity") == 1
        assert _count(channel, "support.identity.dlq") == 0
        assert _count(channel, "support.contacts.dlq") == 1
        _method, props, body = channel.basic_get("support.identity", auto_ack=True)
        assert body == b'{"name": "Ada"}'
        # Failure history gone (the broker adds its own x-delivery-count when a quorum queue delivers).
        assert {k: v for k, v in props.headers.items() if k != "x-delivery-count"} == {
            "ce-id": "e-2",
            "ce-type": "contact_created",
        }

        assert service.main(definition, ["dlq", "replay"]) == 0
        assert _count(channel, "support.contacts") == 1
        assert _count(channel, "support.contacts.dlq") == 0
    finally:
        connection.close()


class _FakeRelay:
    def __init__(self, alive: bool) -> None:
        self.alive = alive

    def is_alive(self) -> bool:
        return self.alive


def test_worker_heartbeat_needs_both_the_consumer_and_the_relay():
    stop = threading.Event()
    consuming = threading.Thread(target=stop.wait)
    consuming.start()
    try:
        assert service.worker_is_alive(consuming, _FakeRelay(True))
        assert not service.worker_is_alive(consuming, _FakeRelay(False))
    finally:
        stop.set()
        consuming.join()
    assert not service.worker_is_alive(consuming, _FakeRelay(True))


def test_housekeeping_runs_about_once_a_minute(env, monkeypatch):
    definition = _definition()
    runtime = service.open_runtime(definition)
    calls: list[str] = []
    monkeypatch.setattr(service, "prune_outbox", lambda engine, tables: calls.append("outbox") or 0)
    monkeypatch.setattr(service, "prune_inbox", lambda engine, tables: calls.append("inbox") or 0)
    now = [1000.0]
    housekeeping = service.Housekeeping(runtime, interval=60, clock=lambda: now[0])
    try:
        housekeeping.maybe_run()
        now[0] += 30
        housekeeping.maybe_run()
        assert calls == ["outbox", "inbox"]
        now[0] += 31
        housekeeping.maybe_run()
        assert calls == ["outbox", "inbox"] * 2
    finally:
        runtime.engine.dispose()
