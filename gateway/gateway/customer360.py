"""Customer-360: one view of a contact composed from every service, asked all at once.

All five calls are issued together (gRPC futures) and each carries its own deadline, so the page takes
as long as the slowest service *within the deadline*, not the sum. A service that fails or is too slow
only costs its own section (null, and named in `unavailable`); only "no such contact" fails the page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf.message import Message

from crm.contacts.v1 import contacts_pb2
from crm.marketing.v1 import marketing_pb2
from crm.notifications.v1 import notifications_pb2
from crm.sales.v1 import sales_pb2
from crm.support.v1 import support_pb2
from crm_platform import protojson
from gateway.clients import ServiceClients

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


class ContactNotFound(Exception):
    pass


def _calls(contact_id: str) -> dict[str, tuple[str, Message]]:
    """service -> (rpc method, request)."""
    return {
        "contacts": ("GetContact", contacts_pb2.GetContactRequest(id=contact_id)),
        "sales": ("GetSalesSummary", sales_pb2.GetSalesSummaryRequest(contact_id=contact_id)),
        "marketing": ("GetMarketingSummary", marketing_pb2.GetMarketingSummaryRequest(contact_id=contact_id)),
        "support": ("GetSupportSummary", support_pb2.GetSupportSummaryRequest(contact_id=contact_id)),
        "notifications": (
            "ListNotifications",
            notifications_pb2.ListNotificationsRequest(contact_id=contact_id, limit=NOTIFICATIONS_SHOWN),
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
    for service, (method, request) in _calls(contact_id).items():
        try:
            stub = clients.stub(service)
            pending[service] = getattr(stub, method).future(
                request, timeout=deadline_seconds, metadata=tuple(metadata)
            )
        except Exception:  # a bad address or a broken channel costs the section, not the page
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
