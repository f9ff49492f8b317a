"""Customer-360: one view of a contact composed from every service, asked all at once.

All five calls are issued together (gRPC futures) and each carries its own deadline, so the page takes
as long as the slowest service *within the deadline*, not the sum. A service that fails or is too slow,
or a section that cannot be rendered, only costs its own section (null, named in `unavailable`, with
why in `unavailable_reasons`); only "no such contact" fails the page. A per-service circuit breaker
(gateway.circuit_breaker) skips a service known to be down, so it stops costing each view its deadline.
The contacts section is the contact's overview (profile, companies, consents, the latest timeline
entries, counts), asked in one call.

This is the gateway's hottest path, so the five calls go over plain channels (ServiceClients.plain_unary,
with `open_channel`'s options) instead of the generic interceptor stack:
through it every call built a new multicallable and two wrapper layers, the largest single item of the
gateway's own CPU per view (bench/PROFILE.md). Each call still gets its client span, started and ended
directly (crm_platform.telemetry), with the trace context passed on in its metadata.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import grpc
from google.protobuf.message import Message

from crm.contacts.v1 import overview_pb2
from crm.marketing.v1 import marketing_pb2
from crm.notifications.v1 import notifications_pb2
from crm.sales.v1 import sales_pb2
from crm.support.v1 import support_pb2
from crm_platform import protojson, telemetry
from gateway.circuit_breaker import FAILURE_CODES, BreakerPolicy, CircuitBreaker, CircuitBreakers
from gateway.clients import ServiceClients

log = logging.getLogger(__name__)

NOTIFICATIONS_SHOWN = 20
TIMELINE_SHOWN = 5
# Response key of each service's section (its first key, for a section of several).
SECTIONS = {
    "contacts": "contact",
    "sales": "sales",
    "marketing": "marketing",
    "support": "support",
    "notifications": "notifications",
}

# The contacts section is one answer (ContactOverviewService.GetContactOverview: one call, where a call
# per part would multiply the fan-out of the gateway's hottest path) shown as these keys: `contact` is
# the Contact as GetContact answers it, as before; the others are null together with it.
CONTACT_PARTS = ("contact", "companies", "consents", "timeline", "counts")
# service -> every response key of its section
SECTION_KEYS = {service: (key,) for service, key in SECTIONS.items()} | {"contacts": CONTACT_PARTS}


# The resource type whose read right a section needs (crm_platform.access); the contact itself is
# checked by the contacts service, and a contact the caller may not see is a 404 for the whole view.
SECTION_RESOURCES = {
    "sales": "deal",
    "marketing": "campaign",
    "support": "ticket",
    "notifications": "notification",
}
FORBIDDEN_SECTION = "you may not see this section"


def _method(module: Any, service: str, method: str) -> tuple[str, type[Message]]:
    """The call path and response class of one method, from the generated descriptors."""
    descriptor = module.DESCRIPTOR.services_by_name[service].methods_by_name[method]
    response: type[Message] = getattr(module, descriptor.output_type.name)
    return f"/{descriptor.containing_service.full_name}/{method}", response


# service -> (call path, response class) of the method asked for its section
METHODS = {
    "contacts": _method(overview_pb2, "ContactOverviewService", "GetContactOverview"),
    "sales": _method(sales_pb2, "SalesService", "GetSalesSummary"),
    "marketing": _method(marketing_pb2, "MarketingService", "GetMarketingSummary"),
    "support": _method(support_pb2, "SupportService", "GetSupportSummary"),
    "notifications": _method(notifications_pb2, "NotificationsService", "ListNotifications"),
}


class ContactNotFound(Exception):
    pass


def section_requests(contact_id: str) -> dict[str, Message]:
    """service -> the request of its section's method (METHODS)."""
    return {
        "contacts": overview_pb2.GetContactOverviewRequest(id=contact_id, timeline_limit=TIMELINE_SHOWN),
        "sales": sales_pb2.GetSalesSummaryRequest(contact_id=contact_id),
        "marketing": marketing_pb2.GetMarketingSummaryRequest(contact_id=contact_id),
        "support": support_pb2.GetSupportSummaryRequest(contact_id=contact_id),
        "notifications": notifications_pb2.ListNotificationsRequest(
            contact_id=contact_id, limit=NOTIFICATIONS_SHOWN
        ),
    }


def _contacts_section(overview: Any) -> dict[str, Any]:
    return {
        "contact": protojson.encode(overview.contact),
        "companies": [protojson.encode(link) for link in overview.companies],
        "consents": [protojson.encode(state) for state in overview.consents],
        "timeline": [protojson.encode(entry) for entry in overview.timeline],
        "counts": protojson.encode(overview.counts),
    }


def _section(key: str, render: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    return lambda message: {key: render(message)}


def _notifications(message: Any) -> dict[str, Any]:
    return {"items": [protojson.encode(n) for n in message.items]}


# service -> how its answer becomes its section's keys (SECTION_KEYS); a renderer that raises costs only
# its section, all of its keys.
RENDERERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "contacts": _contacts_section,
    "sales": _section("sales", protojson.encode),
    "marketing": _section("marketing", protojson.encode),
    "support": _section("support", protojson.encode),
    "notifications": _section("notifications", _notifications),
}

CIRCUIT_OPEN = "service unavailable (circuit open)"
NOT_CALLED = "service could not be called"
NOT_RENDERED = "section could not be rendered"

# Read at import, i.e. when the app's routes are built, so that a bad GATEWAY_BREAKER_* value stops the
# gateway at start like every other setting rather than failing the first view.
BREAKER_POLICY = BreakerPolicy.from_env()
_breakers: weakref.WeakKeyDictionary[ServiceClients, CircuitBreakers] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def breakers_for(clients: ServiceClients) -> CircuitBreakers:
    """The circuit breakers of one gateway app's upstreams (one set per ServiceClients, so two apps in
    one process, as in tests, do not share what they learnt); policy from the GATEWAY_BREAKER_* settings."""
    found = _breakers.get(clients)
    if found is None:
        with _breakers_lock:
            found = _breakers.get(clients)
            if found is None:
                found = _breakers[clients] = CircuitBreakers(BREAKER_POLICY)
    return found


def install_breakers(clients: ServiceClients, breakers: CircuitBreakers) -> None:
    """Use `breakers` for `clients` (tests: another policy or a fake clock)."""
    with _breakers_lock:
        _breakers[clients] = breakers


def _finished(span: Any, breaker: CircuitBreaker, call: grpc.Future) -> None:
    """Done-callback of each section's call: its span, and its verdict for the service's breaker."""
    telemetry.end_grpc_client_span(span, call)
    breaker.record(call.code())


def _reason(code: grpc.StatusCode | None, deadline_seconds: float) -> str:
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"service did not answer within {deadline_seconds:g} s"
    if code in FAILURE_CODES:
        return f"service unavailable ({code.name})"
    return f"service answered {code.name if code else 'nothing'}"


def compose(
    clients: ServiceClients,
    contact_id: str,
    *,
    metadata: Sequence[tuple[str, str]],
    deadline_seconds: float,
    may_read: Callable[[str], bool] = lambda _resource_type: True,
) -> dict[str, Any]:
    """The 360 view; raises ContactNotFound when the contacts service says there is no such contact
    (or that the caller may not see it, which must look the same).

    Each section stands alone: a service whose circuit is open, that cannot be called, that fails or
    runs out of time, or whose answer cannot be rendered leaves its section null, its name in
    `unavailable` and why in `unavailable_reasons`. A section the caller has no right to read (by
    `may_read(resource type)`, or the service's PERMISSION_DENIED) is null and named in `forbidden`
    instead: nothing is wrong, and retrying will not bring it.
    """
    breakers = breakers_for(clients)
    pending: dict[str, grpc.Future] = {}
    reasons: dict[str, str] = {}
    forbidden: set[str] = set()
    caller = tuple(metadata)
    for service, request in section_requests(contact_id).items():
        resource_type = SECTION_RESOURCES.get(service)
        if resource_type is not None and not may_read(resource_type):
            forbidden.add(service)  # not even asked: the service would refuse, and it costs a call
            continue
        breaker = breakers[service]
        if not breaker.allow():
            reasons[service] = CIRCUIT_OPEN
            continue
        span = None
        try:
            call = clients.plain_unary(service, *METHODS[service])
            span, trace_metadata = telemetry.start_grpc_client_span(METHODS[service][0])
            future = call.future(request, timeout=deadline_seconds, metadata=caller + trace_metadata)
            future.add_done_callback(partial(_finished, span, breaker))
            pending[service] = future
        except Exception as error:  # a bad address or a broken channel costs the section, not the page
            if span is not None:
                telemetry.fail_grpc_client_span(span, error)
            breaker.failed()
            log.exception("could not call the %s service", service)
            reasons[service] = NOT_CALLED

    view: dict[str, Any] = dict.fromkeys(key for keys in SECTION_KEYS.values() for key in keys)
    try:
        for service, future in pending.items():
            try:
                answer = future.result()
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else None
                if service == "contacts" and code in (
                    grpc.StatusCode.NOT_FOUND,
                    grpc.StatusCode.INVALID_ARGUMENT,
                ):
                    raise ContactNotFound(contact_id) from None
                if code is grpc.StatusCode.PERMISSION_DENIED:
                    forbidden.add(service)
                    continue
                log.warning("%s left out of customer-360: %s", service, code)
                reasons[service] = _reason(code, deadline_seconds)
                continue
            try:
                view.update(RENDERERS[service](answer))  # only once every key rendered
            except Exception:  # a bug in one section's rendering must not cost the others
                log.exception("could not render the %s section of customer-360", service)
                reasons[service] = NOT_RENDERED
    finally:
        for future in pending.values():
            future.cancel()  # no-op for finished calls; stops waiting on the rest after a 404
    view["unavailable"] = [s for s in SECTIONS if s in reasons]
    view["unavailable_reasons"] = {s: reasons[s] for s in SECTIONS if s in reasons}
    view["forbidden"] = [s for s in SECTIONS if s in forbidden]
    return view
