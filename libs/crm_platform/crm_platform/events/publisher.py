"""Publishing a batch of messages and waiting for all their publisher confirms at once.

Why not pika's BlockingChannel: in confirm mode its `basic_publish` waits for that one message's confirm
before returning, a broker round trip per event (the relay managed ~0.9k events/s that way). pika exposes
the confirm callback (`Basic.Ack`/`Basic.Nack`, possibly `multiple`) publicly only on its asynchronous
channel, so `BatchPublisher` owns a `SelectConnection` and drives its I/O loop from the calling thread:
it writes the whole batch, then runs the loop until every delivery tag is acked or nacked. The caller stays
plain synchronous code, and nothing but that one thread ever touches the connection (pika is not
thread-safe); `interrupt` is the only method other threads may call.

Every message is published `mandatory`: a message no queue is bound for comes back as `Basic.Return`
(which RabbitMQ sends before that message's ack) instead of vanishing, and is reported `RETURNED`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.spec import Basic

from crm_platform.events import amqp

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = 10.0


class Outcome(enum.Enum):
    CONFIRMED = "confirmed"
    NACKED = "nacked"  # the broker refused it (e.g. a queue full with overflow=reject-publish)
    RETURNED = "returned"  # unroutable: no queue bound for its routing key
    UNCONFIRMED = "unconfirmed"  # the connection went away (or confirms timed out) before its confirm


@dataclass(frozen=True)
class Message:
    message_id: str
    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties


@dataclass
class BatchResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # Set when the connection was lost or confirms did not arrive in time; the publisher is closed then.
    connection_error: str | None = None


class PublisherUnavailable(Exception):
    """The broker could not be reached or the channel could not be opened."""


class BatchPublisher:
    """One connection with one confirm-mode channel, used by one thread."""

    def __init__(self, url: str, name: str, *, confirm_timeout: float = 10.0) -> None:
        self._url = url
        self._name = name
        self._confirm_timeout = confirm_timeout
        self._connection: SelectConnection | None = None
        self._channel: Channel | None = None
        self._closed_reason: str | None = None
        self._declared: set[str] = set()
        self._next_tag = 1
        self._in_flight: dict[int, str] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._returned: set[str] = set()
        self._until: Callable[[], bool] | None = None
        self._interrupted = threading.Event()

    @property
    def is_open(self) -> bool:
        return self._channel is not None and self._closed_reason is None

    # --- connection ----------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection and a confirm-mode channel, or raise PublisherUnavailable."""
        self._reset()
        self._connection = SelectConnection(
            amqp.parameters(self._url, self._name),
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_failed,
            on_close_callback=self._on_connection_closed,
        )
        ready = self._run_until(
            lambda: self._channel is not None or self._closed_reason is not None, _CONNECT_TIMEOUT
        )
        if not ready or self._closed_reason is not None or self._channel is None:
            reason = self._closed_reason or "timed out connecting"
            self.close()
            raise PublisherUnavailable(reason)

    def close(self) -> None:
        connection = self._connection
        self._channel = None
        if connection is None:
            return
        try:
            if not (connection.is_closed or connection.is_closing):
                connection.close()
            self._run_until(lambda: connection.is_closed, 2.0)  # let the loop finish the handshake
        except amqp.CONNECTION_ERRORS as exc:  # already gone: nothing left to release
            log.debug("closing the publisher connection: %s", exc)
        finally:
            self._connection = None
            connection.ioloop.close()

    def _reset(self) -> None:
        self._channel = None
        self._closed_reason = None
        self._declared.clear()
        self._next_tag = 1
        self._in_flight.clear()

    def _on_connection_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: self._ready(channel)
        )

    def _ready(self, channel: Channel) -> None:
        self._channel = channel
        self._poke()

    def _on_connection_failed(self, _connection: Any, error: BaseException | str) -> None:
        self._closed_reason = f"cannot connect: {_describe(error)}"
        self._poke(force=True)

    def _on_connection_closed(self, _connection: Any, reason: BaseException) -> None:
        self._closed_reason = self._closed_reason or f"connection closed: {_describe(reason)}"
        self._poke(force=True)

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        # A closed channel is unusable; the caller reconnects for a clean one.
        self._closed_reason = self._closed_reason or f"channel closed: {_describe(reason)}"
        if self._connection is not None and not (self._connection.is_closed or self._connection.is_closing):
            self._connection.close()
        self._poke(force=True)

    # --- publishing ----------------------------------------------------------------------------------

    def publish_batch(self, messages: Sequence[Message]) -> BatchResult:
        """Publish `messages` in order and wait for every confirm; each message gets an outcome."""
        result = BatchResult(dict.fromkeys((m.message_id for m in messages), Outcome.UNCONFIRMED))
        if not self.is_open:
            result.connection_error = self._closed_reason or "not connected"
            return result
        self._outcomes = result.outcomes
        self._returned.clear()
        try:
            self._declare_exchanges({m.exchange for m in messages})
            channel = self._channel
            for message in messages:
                if channel is None or self._closed_reason is not None:
                    break
                channel.basic_publish(
                    message.exchange, message.routing_key, message.body, message.properties, mandatory=True
                )
                self._in_flight[self._next_tag] = message.message_id
                self._next_tag += 1
            confirmed = self._run_until(
                lambda: not self._in_flight or self._closed_reason is not None, self._confirm_timeout
            )
        except amqp.CONNECTION_ERRORS as exc:
            self._closed_reason = self._closed_reason or f"{type(exc).__name__}: {exc}"
            confirmed = False
        if self._closed_reason is not None or not confirmed:
            result.connection_error = self._closed_reason or f"no confirms within {self._confirm_timeout}s"
            self._in_flight.clear()
            self.close()
        return result

    def _declare_exchanges(self, exchanges: set[str]) -> None:
        for exchange in sorted(exchanges - self._declared):
            done: list[bool] = []
            assert self._channel is not None
            # Exactly nameko's declaration (see wire.declare_exchange).
            self._channel.exchange_declare(
                exchange,
                exchange_type="topic",
                durable=True,
                auto_delete=False,
                callback=lambda _frame, done=done: (done.append(True), self._poke()),
            )
            if (
                not self._run_until(
                    lambda done=done: bool(done) or self._closed_reason is not None, self._confirm_timeout
                )
                or not done
            ):
                raise pika.exceptions.AMQPChannelError(
                    self._closed_reason or f"declaring {exchange} timed out"
                )
            self._declared.add(exchange)

    def _on_return(
        self, _channel: Channel, _method: Any, properties: pika.BasicProperties, _body: bytes
    ) -> None:
        if properties.message_id:
            self._returned.add(properties.message_id)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, Basic.Ack)
        tags = (
            [tag for tag in self._in_flight if tag <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            message_id = self._in_flight.pop(tag, None)
            if message_id is None:
                continue
            if not acked:
                outcome = Outcome.NACKED
            elif message_id in self._returned:
                outcome = Outcome.RETURNED
            else:
                outcome = Outcome.CONFIRMED
            self._outcomes[message_id] = outcome
        self._poke()

    # --- waiting -------------------------------------------------------------------------------------

    def wait(self, seconds: float) -> None:
        """Idle up to `seconds` (servicing heartbeats while connected); `interrupt` ends it early."""
        if self._connection is None:
            self._interrupted.wait(seconds)
        else:
            self._run_until(self._interrupted.is_set, seconds)
        self._interrupted.clear()

    def interrupt(self) -> None:
        """Thread-safe: end the current or next `wait` now."""
        self._interrupted.set()
        connection = self._connection
        if connection is not None:
            try:
                connection.ioloop.add_callback_threadsafe(self._poke)
            except Exception:  # the loop is being torn down; wait() sees the event anyway
                log.debug("could not interrupt the publisher loop", exc_info=True)

    def _run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Run the connection's I/O loop until `done()` or `timeout`; return whether `done()` became true."""
        if done():
            return True
        connection = self._connection
        if connection is None:
            return False
        deadline = time.monotonic() + timeout
        self._until = done
        try:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                timer = connection.ioloop.call_later(remaining, connection.ioloop.stop)
                connection.ioloop.start()
                connection.ioloop.remove_timeout(timer)
            return True
        finally:
            self._until = None

    def _poke(self, force: bool = False) -> None:
        """From a callback: stop the loop if what `_run_until` waits for has happened."""
        connection = self._connection
        if connection is None:
            return
        if force or (self._until is not None and self._until()) or self._interrupted.is_set():
            connection.ioloop.stop()


def _describe(error: BaseException | str) -> str:
    # pika's connection errors often have an empty str(); the type name says what happened.
    return error if isinstance(error, str) else f"{type(error).__name__}: {error!r}"
