"""Trivial gRPC servers for the baseline: the method of each customer-360 section, answering at once.

Each answer is fixed. With `--answers DIR` it is the platform's own answer for one seeded contact
(`DIR/<service>.bin`, recorded by bench_360 through the very requests the gateway sends), so the baseline
moves and renders the same bytes as the platform; without it, a small well-formed stand-in.

Run as `python bench/trivial_grpc.py SERVICE ADDRESS [--answers DIR]`, one process per service, because
that is the platform's shape: each service is its own process with its own GIL, so the five parallel
calls of one 360 request can be served on both cores at once. Five servers sharing one GIL would
serialise the fan-out and make the baseline look slower than the topology allows, which would flatter
the platform in the ratio.
"""

from __future__ import annotations

import argparse
import signal
import threading
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from crm.common.v1 import money_pb2
from crm.contacts.v1 import contacts_pb2, overview_pb2
from crm.marketing.v1 import marketing_pb2
from crm.notifications.v1 import notifications_pb2
from crm.sales.v1 import sales_pb2
from crm.support.v1 import support_pb2
from gateway.customer360 import METHODS, section_requests

# service -> the request class of its section's method
SECTION_REQUESTS = {service: type(request) for service, request in section_requests("x").items()}

# The platform's GrpcServer default, so both sides have the same number of request threads.
MAX_WORKERS = 16
FIXED_TIME = Timestamp(seconds=1_700_000_000, nanos=123_456_000)


def _stand_ins() -> dict[str, Message]:
    """Small answers for a fresh contact (one welcome notification, one currency in the pipeline)."""
    contact = contacts_pb2.Contact(
        id="00000000-0000-4000-8000-000000000000",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        company="Analytical Engines Ltd",
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
    )
    welcome = notifications_pb2.Notification(
        id="00000000-0000-4000-8000-000000000001",
        contact_id=contact.id,
        kind="welcome",
        channel="in_app",
        title="Welcome, Ada",
        body="Thanks for joining Analytical Engines Ltd on our CRM.",
        created_at=FIXED_TIME,
        source_event_id="00000000-0000-4000-8000-000000000002",
    )
    return {
        "contacts": overview_pb2.ContactOverview(contact=contact),
        "sales": sales_pb2.SalesSummary(
            contact_id=contact.id,
            open_deals=1,
            open_pipeline_value=[money_pb2.Money(amount_minor=125_000, currency="EUR")],
        ),
        "marketing": marketing_pb2.MarketingSummary(contact_id=contact.id, segments=["newsletter"]),
        "support": support_pb2.SupportSummary(contact_id=contact.id),
        "notifications": notifications_pb2.ListNotificationsResponse(items=[welcome]),
    }


def fixed_answer(service: str, answers_dir: Path | None) -> Message:
    """The answer `service` gives every call: the recorded one when `answers_dir` holds it."""
    path, response_class = answers_dir / f"{service}.bin" if answers_dir else None, METHODS[service][1]
    if path is not None and path.exists():
        return response_class.FromString(path.read_bytes())
    return _stand_ins()[service]


def _handler(service: str, answer: Message) -> grpc.GenericRpcHandler:
    """The section's one method (customer360.METHODS), answering `answer` whatever it is asked."""
    full_method, _response_class = METHODS[service]
    service_name, method = full_method.lstrip("/").split("/")
    request_class = SECTION_REQUESTS[service]
    return grpc.method_handlers_generic_handler(
        service_name,
        {
            method: grpc.unary_unary_rpc_method_handler(
                lambda _request, _context: answer,
                request_deserializer=request_class.FromString,
                response_serializer=type(answer).SerializeToString,
            )
        },
    )


def serve(service: str, address: str, answers_dir: Path | None = None) -> None:
    # No interceptors (no tracing, no error mapping): only what any gRPC server needs.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS), options=[("grpc.so_reuseport", 0)]
    )
    server.add_generic_rpc_handlers((_handler(service, fixed_answer(service, answers_dir)),))
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


def main() -> None:
    parser = argparse.ArgumentParser(description="one trivial gRPC server of the baseline")
    parser.add_argument("service", choices=sorted(METHODS))
    parser.add_argument("address", help="HOST:PORT")
    parser.add_argument("--answers", type=Path, help="directory of recorded answers (<service>.bin)")
    args = parser.parse_args()
    serve(args.service, args.address, args.answers)


if __name__ == "__main__":
    main()
