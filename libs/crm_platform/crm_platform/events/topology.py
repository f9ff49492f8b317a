"""Queue names and declarations for consumers: work queue, retry queues and dead-letter queue.

A consumer of `contacts`' `contact_created` in service `sales` reads queue `sales.contacts.contact_created`
bound to exchange `contacts.events`. A failed message goes to `<queue>.retry.<ms>`, a queue nobody reads
whose TTL dead-letters it back into the work queue after that delay (one queue per delay keeps every
queue FIFO in expiry order), and after the last retry to `<queue>.dlq`, where it waits for an operator.
"""

from __future__ import annotations

from pika.adapters.blocking_connection import BlockingChannel

from crm_platform.events import wire

# Headers we put on retried and parked copies; a replay removes them.
ATTEMPT_HEADER = "x-crm-attempt"
ERROR_HEADER = "x-crm-error"
FAILED_AT_HEADER = "x-crm-failed-at"
FAILURE_HEADERS = (ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, "x-death")

DLQ_SUFFIX = ".dlq"


def queue_name(service: str, source: str, event_type: str) -> str:
    return f"{service}.{source}.{event_type}"


def retry_queue_name(queue: str, delay: float) -> str:
    return f"{queue}.retry.{delay_ms(delay)}"


def dlq_name(queue: str) -> str:
    return queue + DLQ_SUFFIX


def delay_ms(delay: float) -> int:
    return round(delay * 1000)


def declare_consumer_queues(
    channel: BlockingChannel, queue: str, source: str, event_type: str, retry_delays: list[float]
) -> None:
    """Declare (idempotently) everything a subscription needs."""
    exchange = wire.exchange_name(source)
    wire.declare_exchange(channel, exchange)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, routing_key=event_type)
    for delay in retry_delays:
        channel.queue_declare(
            retry_queue_name(queue, delay),
            durable=True,
            arguments={
                "x-message-ttl": delay_ms(delay),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
            },
        )
    channel.queue_declare(dlq_name(queue), durable=True)
