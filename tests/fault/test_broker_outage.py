"""Faults on the event path lose nothing: broker down, redelivery, poison messages. The broker is the
fault tests' own RabbitMQ node (conftest.py)."""

from __future__ import annotations

import json
import secrets

import pika
from crm_devrun.client import GatewayClient
from crm_devrun.probes import wait_until
from sqlalchemy import update

from contacts.store import messaging as contacts_messaging
from crm_platform.db import make_engine
from crm_platform.events import topology
from crm_platform.testing import RabbitNode

QUEUE = topology.subscription_queue("notifications", "contacts")


def welcome_count(api: GatewayClient, contact_id: str) -> int:
    reply = api.customer_360(contact_id)
    assert reply.status == 200, reply.body
    return sum(1 for n in reply.json()["notifications"]["items"] if n["kind"] == "welcome")


def create(api: GatewayClient, tag: str) -> str:
    email = f"{tag}-{secrets.token_hex(5)}@example.com"
    return api.create_contact(first_name=tag.title(), last_name="Fault", email=email)["id"]


def test_events_committed_while_the_broker_is_down_are_delivered_exactly_once(
    platform, api, rabbit_node: RabbitNode
) -> None:
    rabbit_node.stop()  # the fault tests' own node (conftest.py), never the shared broker
    try:
        # The gateway and contacts do not need the broker to accept work: the outbox keeps the events.
        created = [create(api, "outage") for _ in range(5)]
    finally:
        rabbit_node.start()
    wait_until(
        lambda: all(welcome_count(api, c) == 1 for c in created),
        timeout=90,
        interval=0.5,
        what="a welcome for every contact created during the outage",
    )
    assert [welcome_count(api, c) for c in created] == [1] * 5


def test_a_redelivered_event_changes_nothing(platform, api) -> None:
    contact_id = create(api, "redelivery")
    wait_until(lambda: welcome_count(api, contact_id) == 1, what="the first welcome")
    # As if the relay crashed after the broker confirmed but before it marked the row: it publishes again.
    engine = make_engine(f"sqlite:///{platform.config.data_dir / 'contacts.db'}")
    outbox = contacts_messaging.outbox
    with engine.begin() as conn:
        republished = conn.execute(
            update(outbox).where(outbox.c.payload.contains(contact_id)).values(published_at=None)
        ).rowcount
    engine.dispose()
    assert republished == 1
    wait_until(lambda: _published_again(platform, contact_id), what="the relay to publish the event again")
    worker_log = platform.supervisor["notifications-worker"].log_path
    wait_until(
        lambda: _duplicate_skipped(worker_log, contact_id),
        what="the notifications worker to receive the duplicate and skip it",
    )
    assert welcome_count(api, contact_id) == 1


def _duplicate_skipped(log_path, contact_id: str) -> bool:
    """The worker logged the welcome event of `contact_id` as a duplicate (consumer outcome)."""
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    welcome_events = {
        e.get("event_id")
        for e in lines
        if e.get("message") == "welcome notification stored" and e.get("contact_id") == contact_id
    }
    return any(e.get("message") == "event duplicate" and e.get("event_id") in welcome_events for e in lines)


def _published_again(platform, contact_id: str) -> bool:
    engine = make_engine(f"sqlite:///{platform.config.data_dir / 'contacts.db'}")
    outbox = contacts_messaging.outbox
    try:
        with engine.connect() as conn:
            row = conn.execute(outbox.select().where(outbox.c.payload.contains(contact_id))).one()
        return row.published_at is not None
    finally:
        engine.dispose()


def _queue_depth(amqp_url: str, queue: str) -> int | None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return None
    finally:
        connection.close()


def test_malformed_messages_are_dead_lettered_and_consuming_goes_on(platform, api) -> None:
    amqp_url = platform.config.amqp_url
    dlq = f"{QUEUE}.dlq"
    before = _queue_depth(amqp_url, dlq) or 0
    poison_id = f"poison-{secrets.token_hex(4)}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "contacts.events",
            "contact_created",
            b"{this is not json",
            pika.BasicProperties(content_type="application/json", headers={"ce-id": poison_id}),
        )
        # Well-formed JSON, but without the contact the handler needs: fails on every attempt.
        channel.basic_publish(
            "contacts.events",
            "contact_created",
            json.dumps({"first_name": "Nobody"}).encode(),
            pika.BasicProperties(
                content_type="application/json",
                headers={"ce-id": f"{poison_id}-2", "ce-type": "contact_created", "ce-source": "crm/test"},
            ),
        )
    finally:
        connection.close()
    # The consumer keeps consuming while the poison is retried: a real contact is welcomed meanwhile.
    contact_id = create(api, "afterpoison")
    wait_until(lambda: welcome_count(api, contact_id) == 1, timeout=15, what="a welcome despite the poison")
    wait_until(
        lambda: (_queue_depth(amqp_url, dlq) or 0) >= before + 2,
        timeout=30,
        what="both poison messages in the dead-letter queue",
    )
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        parked = []
        for _ in range(before + 2):
            _method, properties, _body = channel.basic_get(dlq)
            parked.append(properties.headers or {})
        channel.close()  # gets that were never acked go back to the DLQ
    finally:
        connection.close()
    ids = {str(h.get("ce-id")) for h in parked}
    assert {poison_id, f"{poison_id}-2"} <= ids
