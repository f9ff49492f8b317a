"""Trivial gRPC servers for the baseline: the five generated servicer base classes, answering at once.

Each answer is fixed but well formed and about the size of the real one for a fresh contact (one
welcome notification, one currency in the pipeline), so the baseline moves the same bytes as the platform.

Run as `python bench/trivial_grpc.py SERVICE ADDRESS`, one process per service. One process per service
(rather than five servers in one process) because that is the platform's shape: each service is its own
process with its own GIL, so the five parallel calls of one 360 request can be served on both cores at
once. Five servers sharing one GIL would serialise the fan-out and make the baseline look slower than
the topology allows, which would flatter the platform in the ratio.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from crm.common.v1 import money_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm.marketing.v1 import marketing_pb2, marketing_pb2_grpc
from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm.support.v1 import support_pb2, support_pb2_grpc

# The platform's GrpcServer default, so both sides have the same number of request threads.
MAX_WORKERS = 16
FIXED_TIME = Timestamp(seconds=1_700_000_000, nanos=123_456_000)


class Contacts(contacts_pb2_grpc.ContactsServiceServicer):
    def GetContact(self, request: contacts_pb2.GetContactRequest, context: Any) -> contacts_pb2.Contact:
        return contacts_pb2.Contact(
            id=request.id,
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            company="Analytical Engines Ltd",
            created_at=FIXED_TIME,
            updated_at=FIXED_TIME,
        )


class Sales(sales_pb2_grpc.SalesServiceServicer):
    def GetSalesSummary(
        self, request: sales_pb2.GetSalesSummaryRequest, context: Any
    ) -> sales_pb2.SalesSummary:
        return sales_pb2.SalesSummary(
            contact_id=request.contact_id,
            open_deals=1,
            open_pipeline_value=[money_pb2.Money(amount_minor=125_000, currency="EUR")],
        )


class Marketing(marketing_pb2_grpc.MarketingServiceServicer):
    def GetMarketingSummary(
        self, request: marketing_pb2.GetMarketingSummaryRequest, context: Any
    ) -> marketing_pb2.MarketingSummary:
        return marketing_pb2.MarketingSummary(contact_id=request.contact_id, segments=["newsletter"])


class Support(support_pb2_grpc.SupportServiceServicer):
    def GetSupportSummary(
        self, request: support_pb2.GetSupportSummaryRequest, context: Any
    ) -> support_pb2.SupportSummary:
        return support_pb2.SupportSummary(contact_id=request.contact_id)


class Notifications(notifications_pb2_grpc.NotificationsServiceServicer):
    def ListNotifications(
        self, request: notifications_pb2.ListNotificationsRequest, context: Any
    ) -> notifications_pb2.ListNotificationsResponse:
        welcome = notifications_pb2.Notification(
            id="00000000-0000-4000-8000-000000000001",
            contact_id=request.contact_id,
            kind="welcome",
            channel="in_app",
            title="Welcome, Ada",
            body="Thanks for joining Analytical Engines Ltd on our CRM.",
            created_at=FIXED_TIME,
            source_event_id="00000000-0000-4000-8000-000000000002",
        )
        return notifications_pb2.ListNotificationsResponse(items=[welcome])


REGISTER: dict[str, Callable[[grpc.Server], None]] = {
    "contacts": lambda s: contacts_pb2_grpc.add_ContactsServiceServicer_to_server(Contacts(), s),
    "sales": lambda s: sales_pb2_grpc.add_SalesServiceServicer_to_server(Sales(), s),
    "marketing": lambda s: marketing_pb2_grpc.add_MarketingServiceServicer_to_server(Marketing(), s),
    "support": lambda s: support_pb2_grpc.add_SupportServiceServicer_to_server(Support(), s),
    "notifications": lambda s: notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(
        Notifications(), s
    ),
}


def serve(service: str, address: str) -> None:
    # No interceptors (no tracing, no error mapping): only what any gRPC server needs.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS), options=[("grpc.so_reuseport", 0)]
    )
    REGISTER[service](server)
    # Health only so the runner can tell when it serves, as it does for the platform; never on the hot path.
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"cannot bind {address}")
    server.start()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in REGISTER:
        raise SystemExit(f"usage: trivial_grpc.py {{{','.join(REGISTER)}}} HOST:PORT")
    serve(sys.argv[1], sys.argv[2])
