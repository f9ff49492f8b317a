"""Our events on the wire are what nameko expects: its exchange declaration and queue binding accept
them and its transport (kombu) decodes the body to the payload. The full path with a running nameko
service is covered by tests/nameko_automation; this checks the contract cheaply, without eventlet."""

from __future__ import annotations

import uuid

import kombu
import pytest

from crm_platform.db import transaction
from crm_platform.events import record_event

# Each test event is about its own aggregate unless a test says otherwise.
AGG = {"aggregate_type": "contact", "aggregate_id": "c1"}

nameko_events = pytest.importorskip("nameko.standalone.events")


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_nameko_declared_exchange_and_queue_receive_our_event(db, amqp_url, start_relay, wait_for) -> None:
    received: list[tuple[dict, dict]] = []
    # Declared by nameko first, as when a customer's automation starts before our service: our relay's
    # declaration must then match it exactly or RabbitMQ refuses it.
    exchange = nameko_events.get_event_exchange("contacts", {})
    queue = kombu.Queue(
        "evt-contacts-contact_created--automation.on_contact_created",
        exchange=exchange,
        routing_key="contact_created",
        durable=True,
    )
    with kombu.Connection(amqp_url) as connection:
        queue(connection.default_channel).declare()
        with transaction(db.factory) as session:
            event_id = record_event(
                session,
                db.tables,
                source="contacts",
                event_type="contact_created",
                **AGG,
                payload={"id": "c1"},
            )
        start_relay(amqp_url, sweep_interval=0.05)
        wait_for(lambda: db.unpublished() == 0, what="relay to publish")
        with connection.Consumer(
            queue, callbacks=[lambda body, message: received.append((body, message.headers))]
        ):
            connection.drain_events(timeout=5)
    [(body, headers)] = received
    assert body == {"id": "c1"}
    assert headers["ce-id"] == event_id
    assert uuid.UUID(event_id).version == 4
