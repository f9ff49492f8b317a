"""The notifications worker's consumer over a real RabbitMQ vhost and a real database: events published
on `contacts.events` as the contacts service's relay publishes them become notifications owned like their
contact, and a reassignment re-points them, even when it reaches the queue before the creation (the
chassis applies one contact's events in sequence)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pika
import pytest

from crm_platform.events import EventConsumer, wire
from notifications.main import DEFINITION

from .conftest import Service, caller, contact_created, contact_updated

ADMIN = caller("admin", "admin")
REP_A = caller("rep-a", "sales_rep", ("team-a",))
REP_B = caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = caller("partner-2-user", "partner", (), "p2")


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def consumer(service: Service, amqp_url: str) -> Iterator[EventConsumer]:
    """The worker's consumer with the service's own subscriptions, running until the test ends."""
    consumer = EventConsumer(
        amqp_url,
        service.runtime.sessions,
        service.runtime.messaging,
        service="notifications",
        retry_delays=[0.1, 0.2],
        gap_timeout=10,
        gap_recheck_delay=0.1,
    )
    for sub in DEFINITION.subscriptions:
        consumer.subscribe(sub.source_service, sub.event_type, sub.handler, versions=sub.versions)
    thread = threading.Thread(target=consumer.run, name="notifications-consumer", daemon=True)
    thread.start()
    assert consumer.wait_until_ready(15), "consumer did not get ready"
    yield consumer
    consumer.stop()
    thread.join(15)


@pytest.fixture
def publish(amqp_url: str) -> Iterator[Callable[[str, dict[str, Any], int], None]]:
    """Publish a contacts event as the contacts relay does (wire format, aggregate and sequence)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    exchange = wire.exchange_name("contacts")
    wire.declare_exchange(channel, exchange)

    def send(event_type: str, payload: dict[str, Any], sequence: int) -> None:
        event_id = str(uuid.uuid4())
        headers = wire.cloudevent_headers(
            event_id=event_id,
            event_type=event_type,
            service="contacts",
            time=datetime.now(UTC),
            version=1,
            aggregate_type="contact",
            aggregate_id=payload["contact_id"],
            sequence=sequence,
        )
        body = wire.encode_payload(payload).encode()
        channel.basic_publish(
            exchange, event_type, body, wire.message_properties(event_id, headers), mandatory=True
        )

    yield send
    connection.close()


def test_published_events_give_scoped_notifications_that_follow_a_reassignment(
    service: Service, consumer: EventConsumer, publish: Callable[..., None]
) -> None:
    p1 = {"owner_id": "partner-1-user", "team_id": None, "partner_account_id": "p1"}
    publish("contact_created", contact_created("c-p1", **p1), 1)
    publish("contact_created", contact_created("c-p2", owner_id="partner-2-user", partner_account_id="p2"), 1)
    publish("contact_created", contact_created("c-team-a", owner_id="rep-a", team_id="team-a"), 1)
    # c-moving's reassignment from P1 to P2 reaches the queue before its creation: it waits its turn.
    moving = {
        "partner_account_id": ("p1", "p2"),
        "owner_id": ("partner-1-user", "partner-2-user"),
        "team_id": (None, "team-b"),
    }
    publish("contact_updated", contact_updated("c-moving", moving), 2)
    time.sleep(0.3)
    assert not any(n.contact_id == "c-moving" for n in service.list(ADMIN))
    publish("contact_created", contact_created("c-moving", **p1), 1)

    def settled() -> bool:
        seen = {n.contact_id: n for n in service.list(ADMIN)}
        return len(seen) == 4 and seen["c-moving"].partner_account_id == "p2"

    wait_for(settled, what="four welcomes, c-moving re-pointed to P2")
    assert {n.contact_id for n in service.list(PARTNER_1)} == {"c-p1"}
    assert {n.contact_id for n in service.list(PARTNER_2)} == {"c-p2", "c-moving"}
    assert {n.contact_id for n in service.list(REP_A)} == {"c-team-a"}
    assert {n.contact_id for n in service.list(REP_B)} == {"c-moving"}  # team B's now

    # A later reassignment of c-p1 to team A's rep (P1 keeps the customer) reaches both.
    publish("contact_updated", contact_updated("c-p1", {"owner_id": ("partner-1-user", "rep-a")}), 2)
    publish("contact_updated", contact_updated("c-p1", {"team_id": (None, "team-a")}) | {"version": 3}, 3)
    wait_for(
        lambda: {n.contact_id for n in service.list(REP_A)} == {"c-team-a", "c-p1"},
        what="c-p1 visible to team A",
    )
    assert {n.contact_id for n in service.list(PARTNER_1)} == {"c-p1"}
    [welcome] = service.list(ADMIN, "c-p1")
    assert (welcome.owner_id, welcome.team_id, welcome.partner_account_id) == ("rep-a", "team-a", "p1")
    assert welcome.title == "Welcome, Ada!"
