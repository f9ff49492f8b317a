"""Connecting to RabbitMQ with pika, and backing off while it is away.

pika is not thread-safe, so every thread that talks to the broker (the relay, each consumer) opens its
own BlockingConnection through `connect`.
"""

from __future__ import annotations

import contextlib

import pika
import pika.exceptions

# What a lost or refused connection looks like. Channel errors are included: after one, the channel is
# unusable and reconnecting is the simplest correct way to get a clean one.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    OSError,
)


def connect(url: str, name: str) -> pika.BlockingConnection:
    """One attempt at a connection, named so `rabbitmqctl list_connections client_properties` tells whose."""
    return pika.BlockingConnection(parameters(url, name))


def parameters(url: str, name: str) -> pika.URLParameters:
    """Connection parameters for one attempt at a connection named `name` (blocking or asynchronous)."""
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    # Bounded so a broker under a memory alarm cannot hold a relay transaction (and its row locks)
    # open for ever.
    params.blocked_connection_timeout = 30
    params.client_properties = {"connection_name": name}
    return params


def close_quietly(connection: pika.BlockingConnection | None) -> None:
    if connection is None or connection.is_closed:
        return
    with contextlib.suppress(*CONNECTION_ERRORS):  # already gone: nothing left to release
        connection.close()


class Backoff:
    """Exponential delays between reconnect attempts: initial, doubled each failure, capped."""

    def __init__(self, initial: float = 0.2, maximum: float = 5.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.maximum, self.initial * 2**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
