"""gRPC channels to the services the gateway talks to, opened lazily in the process that uses them.

gRPC channels must not cross a fork (their background threads and sockets stay behind in the parent),
so nothing is opened when the app is built: the first request in a worker opens the channel, and a
channel seen in a different process than the one that opened it is replaced.

Transcoded routes call methods by path (`unary`), so a service the gateway has no stub for (one added
through GATEWAY_EXTRA_CONTRACTS) is reached the same way as the platform's; the callable of each method is
built once per channel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2_grpc

from crm.contacts.v1 import contacts_pb2_grpc
from crm.marketing.v1 import marketing_pb2_grpc
from crm.notifications.v1 import notifications_pb2_grpc
from crm.sales.v1 import sales_pb2_grpc
from crm.support.v1 import support_pb2_grpc
from crm_platform.grpc_client import DEFAULT_DEADLINE_SECONDS, intercepted, open_plain_channel
from gateway.channel_watch import ChannelWatch

STUBS: dict[str, Callable[[grpc.Channel], Any]] = {
    "contacts": contacts_pb2_grpc.ContactsServiceStub,
    "sales": sales_pb2_grpc.SalesServiceStub,
    "marketing": marketing_pb2_grpc.MarketingServiceStub,
    "support": support_pb2_grpc.SupportServiceStub,
    "notifications": notifications_pb2_grpc.NotificationsServiceStub,
}


# Deadline of the gateway's single-service calls; fan-outs use the configured one.
CALL_DEADLINE_SECONDS = DEFAULT_DEADLINE_SECONDS


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


class UnknownUpstream(LookupError):
    pass


@dataclass
class _Connection:
    """One channel to a service: `plain` as is, for hot paths that set deadlines and start client spans
    themselves (plain_unary), and `channel`, the same channel through the platform's interceptors."""

    plain: grpc.Channel
    channel: grpc.Channel
    stub: Any
    health: health_pb2_grpc.HealthStub
    watch: ChannelWatch | None
    methods: dict[str, grpc.UnaryUnaryMultiCallable] = field(default_factory=dict)
    plain_methods: dict[str, grpc.UnaryUnaryMultiCallable] = field(default_factory=dict)


class ServiceClients:
    def __init__(self, addresses: Mapping[str, str], *, watch_channels: bool = False) -> None:
        """`watch_channels`: hold a health watch open on each channel (gateway.channel_watch), for the
        long-lived serving workers; an app built in-process (tests, tools) that is never closed would
        leave the watch threads running."""
        self.addresses = dict(addresses)
        self.watch_channels = watch_channels
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._connections: dict[str, _Connection] = {}

    def _connection(self, service: str) -> _Connection:
        with self._lock:
            if self._pid != os.getpid():
                # Inherited through a fork: the parent's channels are unusable here; forget, never close.
                self._connections = {}
                self._pid = os.getpid()
            connection = self._connections.get(service)
            if connection is None:
                if service not in self.addresses:
                    raise UnknownUpstream(f"no address configured for the {service} service")
                plain = open_plain_channel(self.addresses[service])
                channel = intercepted(plain)
                stub = STUBS[service](channel) if service in STUBS else None
                watch = ChannelWatch(plain, service) if self.watch_channels else None
                connection = _Connection(plain, channel, stub, health_pb2_grpc.HealthStub(channel), watch)
                self._connections[service] = connection
            return connection

    def channel(self, service: str) -> grpc.Channel:
        return self._connection(service).channel

    def stub(self, service: str) -> Any:
        return self._connection(service).stub

    def health(self, service: str) -> health_pb2_grpc.HealthStub:
        return self._connection(service).health

    def unary(
        self, service: str, rpc_path: str, response_class: type[Message]
    ) -> grpc.UnaryUnaryMultiCallable:
        """The callable of one method, by its path (`/crm.contacts.v1.ContactsService/GetContact`)."""
        connection = self._connection(service)
        method = connection.methods.get(rpc_path)
        if method is None:
            method = connection.channel.unary_unary(
                rpc_path,
                request_serializer=_serialize,
                response_deserializer=response_class.FromString,
            )
            connection.methods[rpc_path] = method
        return method

    def plain_unary(
        self, service: str, rpc_path: str, response_class: type[Message]
    ) -> grpc.UnaryUnaryMultiCallable:
        """Like `unary`, on a channel without interceptors: the caller sets the deadline and starts the
        client span (customer-360's fan-out, where the interceptor stack was the gateway's largest own
        cost per view; bench/PROFILE.md)."""
        connection = self._connection(service)
        method = connection.plain_methods.get(rpc_path)
        if method is None:
            with self._lock:
                method = connection.plain.unary_unary(
                    rpc_path,
                    request_serializer=_serialize,
                    response_deserializer=response_class.FromString,
                    _registered_method=True,
                )
                connection.plain_methods[rpc_path] = method
        return method

    @property
    def contacts(self) -> contacts_pb2_grpc.ContactsServiceStub:
        return self.stub("contacts")

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                for connection in self._connections.values():
                    if connection.watch is not None:
                        connection.watch.close()
                    connection.plain.close()
            self._connections = {}
