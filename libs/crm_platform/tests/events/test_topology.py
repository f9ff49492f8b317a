"""Topology: one quorum queue per (service, source) bound to every event, retry queues that hand back
at-least-once, a DLQ, declared before anything consumes, and a delivery limit against crash loops."""

from __future__ import annotations

import json
import subprocess

import pika
import pytest

from crm_platform.events import topology, wire
from crm_platform.testing import vhost_of


def _queues(amqp_url: str) -> dict[str, dict]:
    listed = subprocess.run(
        [
            "rabbitmqctl",
            "list_queues",
            "-q",
            "-p",
            vhost_of(amqp_url),
            "name",
            "type",
            "arguments",
            "--formatter",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {q["name"]: q for q in json.loads(listed.stdout)}


def _arguments(queue: dict) -> dict:
    raw = queue["arguments"]
    # rabbitmqctl prints arguments as [[name, type, value], ...] or as a map, by version.
    if isinstance(raw, dict):
        return raw
    return {name: value for name, _type, value in raw}


def test_declares_quorum_queues_per_source_with_at_least_once_dead_lettering(amqp_url):
    queues = topology.declare(amqp_url, "sales", ["contacts", "contacts", "identity"], [1, 5, 1])
    assert queues == ["sales.contacts", "sales.identity"]
    declared = _queues(amqp_url)
    assert set(declared) == {
        "sales.contacts",
        "sales.contacts.retry.1000",
        "sales.contacts.retry.5000",
        "sales.contacts.dlq",
        "sales.identity",
        "sales.identity.retry.1000",
        "sales.identity.retry.5000",
        "sales.identity.dlq",
    }
    assert all(q["type"] == "quorum" for q in declared.values())
    work = _arguments(declared["sales.contacts"])
    assert work["x-delivery-limit"] == topology.DELIVERY_LIMIT.get()
    assert work["x-dead-letter-routing-key"] == "sales.contacts.dlq"
    assert work["x-dead-letter-strategy"] == "at-least-once"
    assert work["x-overflow"] == "reject-publish"
    retry = _arguments(declared["sales.contacts.retry.5000"])
    assert retry["x-message-ttl"] == 5000
    assert retry["x-dead-letter-routing-key"] == "sales.contacts"
    assert retry["x-dead-letter-strategy"] == "at-least-once"
    # Declaring again (migrate, then the consumer, then a restart) is harmless.
    topology.declare(amqp_url, "sales", ["contacts", "identity"], [1, 5])


def test_events_published_before_any_consumer_ran_wait_in_its_queue(amqp_url, broker):
    topology.declare(amqp_url, "sales", ["contacts"], [1])
    # The service's own exchange exists too, so its relay can publish with mandatory from the start.
    broker.channel.exchange_declare("sales.events", passive=True)
    for event_type in ("contact_created", "contact_updated", "contact_deleted"):
        broker.publish_event("contacts", event_type, {})
    assert broker.count("sales.contacts") == 3


def test_retry_queue_hands_messages_back_to_the_work_queue(amqp_url, broker, wait_for):
    topology.declare(amqp_url, "sales", ["contacts"], [0.1])
    broker.channel.basic_publish("", "sales.contacts.retry.100", b"{}", pika.BasicProperties(message_id="r1"))
    wait_for(lambda: broker.count("sales.contacts") == 1, timeout=5, what="the message back after its TTL")
    assert broker.count("sales.contacts.retry.100") == 0


@pytest.mark.parametrize("limit", [2])
def test_a_message_that_kills_its_consumer_every_time_ends_in_the_dlq(amqp_url, broker, wait_for, limit):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    topology.declare_service_topology(connection.channel(), "sales", ["contacts"], [1], delivery_limit=limit)
    connection.close()
    broker.publish_event("contacts", "contact_created", {})
    # A worker killed mid-handler: it took the message and its connection vanished without an answer.
    for _ in range(limit + 1):
        crashing = pika.BlockingConnection(pika.URLParameters(amqp_url))
        method, _props, _body = crashing.channel().basic_get("sales.contacts", auto_ack=False)
        assert method is not None
        crashing.close()
    wait_for(lambda: broker.count("sales.contacts.dlq") == 1, timeout=5, what="the broker to park it")
    assert broker.count("sales.contacts") == 0


def test_old_per_event_type_queues_are_emptied_into_the_new_ones_and_deleted(amqp_url, broker):
    # The layout before one queue per source, as the old consumer declared it (classic queues).
    channel = broker.channel
    wire.declare_exchange(channel, "contacts.events")
    channel.queue_declare("sales.contacts.contact_created", durable=True)
    channel.queue_bind("sales.contacts.contact_created", "contacts.events", routing_key="contact_created")
    channel.queue_declare(
        "sales.contacts.contact_created.retry.1000",
        durable=True,
        arguments={
            "x-message-ttl": 60_000,  # longer than the test: it must be moved, not expire
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "sales.contacts.contact_created",
        },
    )
    channel.queue_declare("sales.contacts.contact_created.dlq", durable=True)
    broker.publish_event("contacts", "contact_created", {}, event_id="waiting")
    for queue, event_id in (
        ("sales.contacts.contact_created.retry.1000", "retrying"),
        ("sales.contacts.contact_created.dlq", "parked"),
    ):
        channel.basic_publish("", queue, b"{}", pika.BasicProperties(message_id=event_id))

    topology.declare(amqp_url, "sales", ["contacts"], [1], retire=[("contacts", "contact_created")])

    declared = _queues(amqp_url)
    assert not any(name.startswith("sales.contacts.contact_created") for name in declared)
    assert sorted(p.message_id for p, _ in broker.take_all("sales.contacts")) == ["retrying", "waiting"]
    assert [p.message_id for p, _ in broker.take_all("sales.contacts.dlq")] == ["parked"]
    # Running it again (every migrate and start does) finds nothing to do.
    topology.declare(amqp_url, "sales", ["contacts"], [1], retire=[("contacts", "contact_created")])
