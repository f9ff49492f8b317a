"""Customer-360: one view of a contact composed from every service, asked all at once.

All five calls are issued together (gRPC futures) and each carries its own deadline, so the page takes
as long as the slowest service *within the deadline*, not the sum. A service that fails or is too slow
only costs its own section (null, and named in `unavailable`); only "no such contact" fails the page.

This is the gateway's hottest path, so the five calls go over plain channels of their own (one per
service and worker process, with `open_channel`'s options) instead of the generic interceptor stack:
through it every call built a new multicallable and two wrapper layers, the largest single item of the
gateway's own CPU per view (bench/PROFILE.md). Each call still gets its client span, started and ended
directly (crm_platform.telemetry), with the trace context passed on in its metadata.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Sequence
from functools import partial
from typing import Any

import grpc
from google.protobuf.message import Message

from crm.contacts.v1 import contacts_pb2
from crm.marketing.v1 import marketing_pb2
from crm.notifications.v1 import notifications_pb2
from crm.sales.v1 import sales_pb2
from crm.support.v1 import support_pb2
from crm_platform import protojson, telemetry
from gateway.clients import ServiceClients, UnknownUpstream

log = logging.getLogger(__name__)

NOTIFICATIONS_SHOWN = 20
# Response key of each service's section.
SECTIONS = {
    "contacts": "contact",
    "sales": "sales",
    "marketing": "marketing",
    "support": "support",
    "notifications": "notifications",
}


# The options of crm_platform.grpc_client.open_channel; every call below sets its own deadline.
CHANNEL_OPTIONS = (("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 1))


def _method(module: Any, service: str, method: str) -> tuple[str, type[Message]]:
    """The call path and response class of one method, from the generated descriptors."""
    descriptor = module.DESCRIPTOR.services_by_name[service].methods_by_name[method]
    response: type[Message] = getattr(module, descriptor.output_type.name)
    return f"/{descriptor.containing_service.full_name}/{method}", response


# service -> (call path, response class) of the method asked for its section
METHODS = {
    "contacts": _method(contacts_pb2, "ContactsService", "GetContact"),
    "sales": _method(sales_pb2, "SalesService", "GetSalesSummary"),
    "marketing": _method(marketing_pb2, "MarketingService", "GetMarketingSummary"),
    "support": _method(support_pb2, "SupportService", "GetSupportSummary"),
    "notifications": _method(notifications_pb2, "NotificationsService", "ListNotifications"),
}


class ContactNotFound(Exception):
    pass


class _FanOut:
    """The plain channels of one ServiceClients' services in this process, opened on first use.

    Channels must not cross a fork: one seen in another process than its opener's is forgotten (never
    closed there) and opened again, as ServiceClients does. They are closed when the ServiceClients they
    serve is garbage-collected.
    """

    def __init__(self, addresses: dict[str, str]) -> None:
        self._addresses = addresses
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._channels: dict[str, grpc.Channel] = {}
        self._calls: dict[str, grpc.UnaryUnaryMultiCallable] = {}

    def in_this_process(self) -> _FanOut:
        """Itself, after forgetting channels opened in a parent process (checked once per view)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._channels, self._calls, self._pid = {}, {}, os.getpid()
        return self

    def call(self, service: str) -> grpc.UnaryUnaryMultiCallable:
        found = self._calls.get(service)
        return found if found is not None else self._open(service)

    def _open(self, service: str) -> grpc.UnaryUnaryMultiCallable:
        with self._lock:
            found = self._calls.get(service)
            if found is None:
                if service not in self._addresses:
                    raise UnknownUpstream(f"no address configured for the {service} service")
                channel = grpc.insecure_channel(self._addresses[service], options=CHANNEL_OPTIONS)
                path, response = METHODS[service]
                found = channel.unary_unary(
                    path,
                    request_serializer=_serialize,
                    response_deserializer=response.FromString,
                    _registered_method=True,
                )
                self._channels[service] = channel
                self._calls[service] = found
            return found

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                for channel in self._channels.values():
                    channel.close()
            self._channels, self._calls = {}, {}


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


_fan_outs: weakref.WeakKeyDictionary[ServiceClients, _FanOut] = weakref.WeakKeyDictionary()
_fan_outs_lock = threading.Lock()


def _fan_out(clients: ServiceClients) -> _FanOut:
    found = _fan_outs.get(clients)
    if found is None:
        with _fan_outs_lock:
            found = _fan_outs.get(clients)
            if found is None:
                found = _FanOut(clients.addresses)
                _fan_outs[clients] = found
                weakref.finalize(clients, found.close)
    return found.in_this_process()


def _requests(contact_id: str) -> dict[str, Message]:
    """service -> the request of its section's method (METHODS)."""
    return {
        "contacts": contacts_pb2.GetContactRequest(id=contact_id),
        "sales": sales_pb2.GetSalesSummaryRequest(contact_id=contact_id),
        "marketing": marketing_pb2.GetMarketingSummaryRequest(contact_id=contact_id),
        "support": support_pb2.GetSupportSummaryRequest(contact_id=contact_id),
        "notifications": notifications_pb2.ListNotificationsRequest(
            contact_id=contact_id, limit=NOTIFICATIONS_SHOWN
        ),
    }


def _section(service: str, message: Any) -> Any:
    if service == "notifications":
        return {"items": [protojson.encode(n) for n in message.items]}
    return protojson.encode(message)


def compose(
    clients: ServiceClients,
    contact_id: str,
    *,
    metadata: Sequence[tuple[str, str]],
    deadline_seconds: float,
) -> dict[str, Any]:
    """The 360 view; raises ContactNotFound when the contacts service says there is no such contact."""
    pending: dict[str, grpc.Future] = {}
    unavailable: set[str] = set()
    fan_out = _fan_out(clients)
    caller = tuple(metadata)
    for service, request in _requests(contact_id).items():
        span = None
        try:
            call = fan_out.call(service)
            span, trace_metadata = telemetry.start_grpc_client_span(METHODS[service][0])
            future = call.future(request, timeout=deadline_seconds, metadata=caller + trace_metadata)
            future.add_done_callback(partial(telemetry.end_grpc_client_span, span))
            pending[service] = future
        except Exception as error:  # a bad address or a broken channel costs the section, not the page
            if span is not None:
                telemetry.fail_grpc_client_span(span, error)
            log.exception("could not call the %s service", service)
            unavailable.add(service)

    view: dict[str, Any] = dict.fromkeys(SECTIONS.values())
    try:
        for service, future in pending.items():
            try:
                view[SECTIONS[service]] = _section(service, future.result())
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else None
                if service == "contacts" and code in (
                    grpc.StatusCode.NOT_FOUND,
                    grpc.StatusCode.INVALID_ARGUMENT,
                ):
                    raise ContactNotFound(contact_id) from None
                log.warning("%s left out of customer-360: %s", service, code)
                unavailable.add(service)
    finally:
        for future in pending.values():
            future.cancel()  # no-op for finished calls; stops waiting on the rest after a 404
    view["unavailable"] = [s for s in SECTIONS if s in unavailable]
    return view
