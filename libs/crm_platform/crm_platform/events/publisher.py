"""Publishing messages with publisher confirms, without waiting for each batch's confirms before the next.

Why not pika's BlockingChannel: in confirm mode its `basic_publish` waits for that one message's confirm
before returning, a broker round trip per event (the relay managed ~0.9k events/s that way). pika exposes
the confirm callback (`Basic.Ack`/`Basic.Nack`, possibly `multiple`) publicly only on its asynchronous
channel, so `StreamingPublisher` owns a `SelectConnection` and drives its I/O loop from the calling thread:
`send` writes messages and returns at once, `pump` runs the loop until confirms arrive (or a timeout, or
`interrupt`), and `take_settled` hands over the outcomes that arrived. So the relay can fetch and send the
next rows while earlier ones are still being confirmed: a confirm costs the broker an fsync, and waiting
for it before each poll put that fsync on every event's path. Nothing but the owning thread ever touches
the connection (pika is not thread-safe); `interrupt` is the only method other threads may call.

Every message is published `mandatory`: a message no queue is bound for comes back as `Basic.Return`
(which RabbitMQ sends before that message's ack) instead of vanishing, and is reported `RETURNED`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


class PublisherUnavailable(Exception):
    """The broker could not be reached or the channel could not be opened."""


class StreamingPublisher:
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
        self._in_flight: dict[int, tuple[str, float]] = {}  # delivery tag -> (message id, monotonic sent)
        self._settled: dict[str, Outcome] = {}
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
        self._returned.clear()

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

    @property
    def in_flight(self) -> int:
        """Messages sent and not yet confirmed, nacked or returned."""
        return len(self._in_flight)

    @property
    def closed_reason(self) -> str | None:
        return self._closed_reason

    def send(self, messages: Sequence[Message]) -> list[str]:
        """Publish `messages` in order without waiting for confirms; the ids actually written.

        A message not in the answer was not sent (the connection went away first); the caller keeps it.
        """
        sent: list[str] = []
        if not self.is_open:
            return sent
        try:
            self._declare_exchanges({m.exchange for m in messages})
            for message in messages:
                channel = self._channel
                if channel is None or self._closed_reason is not None:
                    break
                channel.basic_publish(
                    message.exchange, message.routing_key, message.body, message.properties, mandatory=True
                )
                self._in_flight[self._next_tag] = (message.message_id, time.monotonic())
                self._next_tag += 1
                sent.append(message.message_id)
        except amqp.CONNECTION_ERRORS as exc:
            self._lose(f"{type(exc).__name__}: {exc}")
        return sent

    def pump(self, seconds: float) -> None:
        """Run the I/O loop until an outcome is settled, `interrupt`, the connection closes, or `seconds`.

        `seconds=0` handles what the broker already sent and returns. A message left unconfirmed longer
        than the confirm timeout counts as a lost connection: the publisher closes, and its unsettled
        messages are the caller's to send again (`take_unsettled`).
        """
        if self._connection is None:
            self._interrupted.wait(seconds)
            self._interrupted.clear()
            return
        try:
            self._run_until(
                lambda: bool(self._settled) or self._interrupted.is_set() or self._closed_reason is not None,
                seconds,
                poll_once=seconds <= 0,
            )
        except amqp.CONNECTION_ERRORS as exc:
            self._lose(f"{type(exc).__name__}: {exc}")
        self._interrupted.clear()
        oldest = min((sent for _id, sent in self._in_flight.values()), default=None)
        if oldest is not None and time.monotonic() - oldest > self._confirm_timeout:
            self._lose(f"no confirms within {self._confirm_timeout}s")

    def take_settled(self) -> dict[str, Outcome]:
        """The outcomes that arrived since the last call (message id -> outcome)."""
        settled, self._settled = self._settled, {}
        return settled

    def take_unsettled(self) -> list[str]:
        """After the connection was lost: the ids that were sent and never settled (forgotten here)."""
        unsettled = [message_id for message_id, _sent in self._in_flight.values()]
        self._in_flight.clear()
        return unsettled

    def _lose(self, reason: str) -> None:
        self._closed_reason = self._closed_reason or reason
        self.close()  # keeps `_in_flight` for take_unsettled; connect() starts afresh

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
            entry = self._in_flight.pop(tag, None)
            if entry is None:
                continue
            message_id = entry[0]
            if not acked:
                outcome = Outcome.NACKED
            elif message_id in self._returned:
                outcome = Outcome.RETURNED
            else:
                outcome = Outcome.CONFIRMED
            self._returned.discard(message_id)
            self._settled[message_id] = outcome
        self._poke()

    # --- waiting -------------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Thread-safe: end the current or next `pump` now."""
        self._interrupted.set()
        connection = self._connection
        if connection is not None:
            try:
                connection.ioloop.add_callback_threadsafe(self._poke)
            except Exception:  # the loop is being torn down; wait() sees the event anyway
                log.debug("could not interrupt the publisher loop", exc_info=True)

    def _run_until(self, done: Callable[[], bool], timeout: float, *, poll_once: bool = False) -> bool:
        """Run the connection's I/O loop until `done()` or `timeout`; return whether `done()` became true.

        `poll_once` runs one pass of the loop (what the socket already holds) even when `done()` holds or
        the timeout is zero.
        """
        if done() and not poll_once:
            return True
        connection = self._connection
        if connection is None:
            return False
        deadline = time.monotonic() + timeout
        self._until = None if poll_once else done
        try:
            if poll_once:
                timer = connection.ioloop.call_later(0, connection.ioloop.stop)
                connection.ioloop.start()
                connection.ioloop.remove_timeout(timer)
                return done()
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
