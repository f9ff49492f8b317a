"""The event bus: transactional outbox, relay to RabbitMQ, idempotent consumers with retries and a DLQ.

See DESIGN.md section 2 for why, and `wire.py` for what goes over the wire.
"""

from crm_platform.events.consumer import RETRY_DELAYS, EventConsumer, Handler
from crm_platform.events.outbox import OutboxRelay, install_wakeup, record_event
from crm_platform.events.schema import (
    MessagingTables,
    create_messaging_tables_v1,
    drop_messaging_tables_v1,
    messaging_tables,
)
from crm_platform.events.wire import Event, MalformedEvent, exchange_name

__all__ = [
    "RETRY_DELAYS",
    "Event",
    "EventConsumer",
    "Handler",
    "MalformedEvent",
    "MessagingTables",
    "OutboxRelay",
    "create_messaging_tables_v1",
    "drop_messaging_tables_v1",
    "exchange_name",
    "install_wakeup",
    "messaging_tables",
    "record_event",
]
