"""The event bus: transactional outbox, relay to RabbitMQ, idempotent consumers with retries and a DLQ.

See DESIGN.md section 2 for why, and `wire.py` for what goes over the wire. In a service:

    tables = messaging_tables(Base.metadata)                 # migration 0001: create_messaging_tables_v1(op)
    with transaction(sessions) as session:
        session.add(contact)
        record_event(session, tables, source="contacts", event_type="contact_created", payload={...})
        record_batch_event(session, tables, source="contacts", event_type="contacts_imported", ...,
                           item_aggregate_type="contact", items=[(contact_id, {...}), ...])  # many new ones
    relay = OutboxRelay(engine, tables, AMQP_URL.get()); install_wakeup(sessions, relay); relay.start()
    relay.is_alive()                                         # for the worker's heartbeat
    prune_outbox(engine, tables); prune_inbox(engine, tables)  # periodically, from the worker
    outbox_backlog(engine, tables.outbox)                    # pending, oldest pending age, parked
    consumer = EventConsumer(AMQP_URL.get(), sessions, tables, service="sales")
    consumer.subscribe("contacts", "contact_created", on_contact_created)  # handler(session, event)
    consumer.run()                                           # until consumer.stop()
    raise PoisonEvent("...")                                 # from a handler: to the DLQ at once

Operators: `crm-<service> dlq list|show|replay` (or `python -m crm_platform.events dlq ...`).
"""

from crm_platform.events.consumer import GAP_TIMEOUT, RETRY_DELAYS, EventConsumer, Handler
from crm_platform.events.failures import PoisonEvent
from crm_platform.events.housekeeping import prune_inbox, prune_outbox
from crm_platform.events.outbox import (
    NewEvent,
    RecordedBatch,
    event_headers,
    install_wakeup,
    record_batch_event,
    record_event,
    record_events,
)
from crm_platform.events.relay import OutboxBacklog, OutboxRelay, outbox_backlog
from crm_platform.events.relay_store import RetryPolicy
from crm_platform.events.schema import (
    MessagingTables,
    create_messaging_tables_v1,
    drop_messaging_tables_v1,
    messaging_tables,
)
from crm_platform.events.wire import Event, MalformedEvent, exchange_name

__all__ = [
    "GAP_TIMEOUT",
    "RETRY_DELAYS",
    "Event",
    "EventConsumer",
    "Handler",
    "MalformedEvent",
    "MessagingTables",
    "NewEvent",
    "OutboxBacklog",
    "OutboxRelay",
    "PoisonEvent",
    "RecordedBatch",
    "RetryPolicy",
    "create_messaging_tables_v1",
    "drop_messaging_tables_v1",
    "event_headers",
    "exchange_name",
    "install_wakeup",
    "messaging_tables",
    "outbox_backlog",
    "prune_inbox",
    "prune_outbox",
    "record_batch_event",
    "record_event",
    "record_events",
]
