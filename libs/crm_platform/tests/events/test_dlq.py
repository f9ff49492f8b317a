"""Operator tooling: list parked messages without losing them, replay them to the work queue."""

from __future__ import annotations

import uuid

import pika
import pytest
from sqlalchemy import insert

from crm_platform.events import Event, EventConsumer
from crm_platform.events.__main__ import main
from crm_platform.events.dlq import list_parked, replay


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_list_then_replay_moves_parked_messages_back(db, broker, run_consumer, wait_for, capsys):
    healed = False

    def handler(session, event: Event) -> None:
        if not healed:
            raise RuntimeError("downstream is broken")
        session.execute(insert(db.effects).values(id=str(uuid.uuid4()), event_id=event.id))

    consumer = EventConsumer(broker.url, db.factory, db.tables, service="sales", retry_delays=[0.05])
    queue = consumer.subscribe("contacts", "contact_created", handler)
    run_consumer(consumer)
    ids = {broker.publish_event("contacts", "contact_created", {"n": i}) for i in range(3)}
    wait_for(lambda: broker.count(queue + ".dlq") == 3, what="three parked messages")

    parked = list_parked(broker.url, queue + ".dlq")
    assert {p.event_id for p in parked} == ids
    assert all(p.event_type == "contact_created" and p.attempts == "2" for p in parked)
    assert all("downstream is broken" in (p.error or "") for p in parked)
    assert all((p.reason or "").startswith("retries exhausted: RuntimeError") for p in parked)
    # Listing took nothing away (a quorum queue takes back returned messages asynchronously).
    wait_for(lambda: broker.count(queue + ".dlq") == 3, timeout=5, what="the listed messages back")

    assert main(["--amqp-url", broker.url, "dlq", "list", queue]) == 0
    out = capsys.readouterr().out
    assert "3 parked in sales.contacts.dlq" in out
    assert all(event_id in out for event_id in ids)

    one = sorted(ids)[0]
    assert main(["--amqp-url", broker.url, "dlq", "show", one, "--queue", queue]) == 0
    out = capsys.readouterr().out
    assert f"event_id: {one}" in out
    assert "reason: retries exhausted: RuntimeError: downstream is broken" in out
    assert "attempts: 2" in out
    assert '"n": ' in out  # the JSON body

    healed = True
    assert main(["--amqp-url", broker.url, "dlq", "replay", queue, "--event-id", one]) == 0
    assert "1 replayed to sales.contacts" in capsys.readouterr().out
    wait_for(lambda: db.count(db.effects) == 1, what="the one replayed event to be handled")
    assert broker.count(queue + ".dlq") == 2
    assert replay(broker.url, queue) == 2
    wait_for(lambda: db.count(db.effects) == 3, what="replayed events to be handled")
    assert broker.count(queue + ".dlq") == 0


def test_replay_resets_attempts_and_cli_reports_missing_queue(broker, capsys):
    work, dlq = "sales.x.y", "sales.x.y.dlq"
    broker.channel.queue_declare(work, durable=True)
    broker.channel.queue_declare(dlq, durable=True)
    props = pika.BasicProperties(
        message_id="e1", headers={"ce-id": "e1", "x-crm-attempt": 4, "x-crm-error": "boom", "keep": "me"}
    )
    broker.channel.basic_publish("", dlq, b"{}", props)

    assert main(["--amqp-url", broker.url, "dlq", "replay", dlq]) == 0
    assert "1 replayed to sales.x.y" in capsys.readouterr().out
    [(replayed, body)] = broker.take_all(work)
    assert body == b"{}"
    assert replayed.message_id == "e1"
    assert replayed.headers == {"ce-id": "e1", "keep": "me"}

    assert main(["--amqp-url", broker.url, "dlq", "list", "no.such.queue"]) == 1
    assert "no queue named 'no.such.queue.dlq'" in capsys.readouterr().err
