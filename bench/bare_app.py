"""The baseline's HTTP side: a bare Flask app making the gateway's five customer-360 gRPC calls.

It does what `gateway/gateway/customer360.py` does on the wire (the same five requests, issued together
with `.future()`, each with its own deadline, then JSON) and nothing else: no token check, no tracing
(no interceptors, no Flask instrumentation), no id validation, no error mapping, and a hand-written JSON
shape instead of the gateway's reflective renderer. It is served by gunicorn with the gateway's own
settings (gthread workers x threads, no preload, channels opened after fork), so what separates the two
figures is the platform's own code, not the server or the transport.

Run as `python bench/bare_app.py --port P --workers W --threads T SERVICE=HOST:PORT ...`.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication

from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm.marketing.v1 import marketing_pb2, marketing_pb2_grpc
from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm.support.v1 import support_pb2, support_pb2_grpc

DEADLINE_SECONDS = 1.0  # the gateway's default GATEWAY_SERVICE_DEADLINE_SECONDS
NOTIFICATIONS_SHOWN = 20  # as the gateway asks


class Stubs:
    """One channel per service per worker process, opened on first use (after gunicorn's fork)."""

    def __init__(self, addresses: Mapping[str, str]) -> None:
        self._addresses = dict(addresses)
        self._lock = threading.Lock()
        self._stubs: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._stubs is None:
                # The channel options of gateway/gateway/clients.py, without its tracing interceptor.
                options = [("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 1)]
                chan = {s: grpc.insecure_channel(a, options=options) for s, a in self._addresses.items()}
                self._stubs = {
                    "contacts": contacts_pb2_grpc.ContactsServiceStub(chan["contacts"]),
                    "sales": sales_pb2_grpc.SalesServiceStub(chan["sales"]),
                    "marketing": marketing_pb2_grpc.MarketingServiceStub(chan["marketing"]),
                    "support": support_pb2_grpc.SupportServiceStub(chan["support"]),
                    "notifications": notifications_pb2_grpc.NotificationsServiceStub(chan["notifications"]),
                }
            return self._stubs


def _stamp(ts: Any) -> str:
    return ts.ToDatetime().isoformat() + "Z"


def create_app(addresses: Mapping[str, str]) -> Flask:
    app = Flask("bare")
    stubs = Stubs(addresses)

    @app.get("/api/v1/customers/<contact_id>/360")
    def customer_360(contact_id: str) -> Response:
        s = stubs.get()
        t = DEADLINE_SECONDS
        # All five in flight at once, as the gateway does; the page waits for the slowest.
        contact_f = s["contacts"].GetContact.future(contacts_pb2.GetContactRequest(id=contact_id), timeout=t)
        sales_f = s["sales"].GetSalesSummary.future(
            sales_pb2.GetSalesSummaryRequest(contact_id=contact_id), timeout=t
        )
        marketing_f = s["marketing"].GetMarketingSummary.future(
            marketing_pb2.GetMarketingSummaryRequest(contact_id=contact_id), timeout=t
        )
        support_f = s["support"].GetSupportSummary.future(
            support_pb2.GetSupportSummaryRequest(contact_id=contact_id), timeout=t
        )
        notifications_f = s["notifications"].ListNotifications.future(
            notifications_pb2.ListNotificationsRequest(contact_id=contact_id, limit=NOTIFICATIONS_SHOWN),
            timeout=t,
        )
        c, sa, m, su, n = (f.result() for f in (contact_f, sales_f, marketing_f, support_f, notifications_f))
        return jsonify(
            contact={
                "id": c.id,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "email": c.email,
                "phone": c.phone or None,
                "company": c.company or None,
                "created_at": _stamp(c.created_at),
                "updated_at": _stamp(c.updated_at),
            },
            sales={
                "contact_id": sa.contact_id,
                "open_deals": sa.open_deals,
                "won_deals": sa.won_deals,
                "open_orders": sa.open_orders,
                "open_tasks": sa.open_tasks,
                "open_pipeline_value": [
                    {"amount_minor": v.amount_minor, "currency": v.currency} for v in sa.open_pipeline_value
                ],
            },
            marketing={
                "contact_id": m.contact_id,
                "segments": list(m.segments),
                "campaigns_targeted": m.campaigns_targeted,
                "responses": m.responses,
            },
            support={
                "contact_id": su.contact_id,
                "open_tickets": su.open_tickets,
                "escalated_tickets": su.escalated_tickets,
                "sla_breaches": su.sla_breaches,
                "surveys_answered": su.surveys_answered,
            },
            notifications={
                "items": [
                    {
                        "id": x.id,
                        "contact_id": x.contact_id,
                        "kind": x.kind,
                        "channel": x.channel,
                        "title": x.title,
                        "body": x.body,
                        "created_at": _stamp(x.created_at),
                        "source_event_id": x.source_event_id,
                    }
                    for x in n.items
                ]
            },
            unavailable=[],
        )

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app


class BareServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with the options of gateway.main.GatewayServer (timeouts included)."""

    def __init__(self, port: int, workers: int, threads: int, addresses: Mapping[str, str]) -> None:
        self._options = {
            "bind": [f"127.0.0.1:{port}"],
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": False,
            "timeout": 30,
            "graceful_timeout": 20,
            "proc_name": "bench-bare-app",
        }
        self._addresses = dict(addresses)
        super().__init__()

    def load_config(self) -> None:
        options = dict(self._options)
        # As gateway.main does: newer gunicorn opens a per-user control socket; two servers would clash.
        if "control_socket_disable" in self.cfg.settings:
            options["control_socket_disable"] = True
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self._addresses)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="bare Flask customer-360 for the baseline")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("addresses", nargs=5, help="SERVICE=HOST:PORT for each of the five services")
    args = parser.parse_args(argv)
    addresses = dict(a.split("=", 1) for a in args.addresses)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    BareServer(args.port, args.workers, args.threads, addresses).run()


if __name__ == "__main__":
    main()
