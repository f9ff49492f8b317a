"""The baseline's HTTP side: a bare Flask app making the gateway's five customer-360 gRPC calls.

It does what `gateway/gateway/customer360.py` does on the wire (the same five requests, issued together
with `.future()`, each with its own deadline) and renders the same JSON with the gateway's own section
renderers (`customer360.RENDERERS`: the platform's protobuf-JSON mapping) and orjson, and nothing else: no
token check, no caller context, no tracing (no interceptors, no request span), no id validation, no
circuit breakers, no error mapping. It is served by gunicorn with the gateway's own settings (gthread
workers x threads, no preload, channels opened after fork), so what separates the two figures is the
platform's own code, not the server, the transport or the size of the answer.

Run as `python bench/bare_app.py --port P --workers W --threads T SERVICE=HOST:PORT ...`.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
import orjson
from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication

from crm.contacts.v1 import overview_pb2_grpc
from crm.marketing.v1 import marketing_pb2_grpc
from crm.notifications.v1 import notifications_pb2_grpc
from crm.sales.v1 import sales_pb2_grpc
from crm.support.v1 import support_pb2_grpc
from gateway.customer360 import METHODS, RENDERERS, section_requests

DEADLINE_SECONDS = 1.0  # the gateway's default GATEWAY_SERVICE_DEADLINE_SECONDS


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
                    "contacts": overview_pb2_grpc.ContactOverviewServiceStub(chan["contacts"]),
                    "sales": sales_pb2_grpc.SalesServiceStub(chan["sales"]),
                    "marketing": marketing_pb2_grpc.MarketingServiceStub(chan["marketing"]),
                    "support": support_pb2_grpc.SupportServiceStub(chan["support"]),
                    "notifications": notifications_pb2_grpc.NotificationsServiceStub(chan["notifications"]),
                }
            return self._stubs


def create_app(addresses: Mapping[str, str]) -> Flask:
    app = Flask("bare")
    stubs = Stubs(addresses)

    @app.get("/api/v1/customers/<contact_id>/360")
    def customer_360(contact_id: str) -> Response:
        s = stubs.get()
        # All five in flight at once, as the gateway does; the page waits for the slowest.
        futures = {
            service: getattr(s[service], METHODS[service][0].rsplit("/", 1)[1]).future(
                request, timeout=DEADLINE_SECONDS
            )
            for service, request in section_requests(contact_id).items()
        }
        view: dict[str, Any] = {}
        for service, future in futures.items():
            view.update(RENDERERS[service](future.result()))
        view.update(unavailable=[], unavailable_reasons={}, forbidden=[])
        return Response(orjson.dumps(view), mimetype="application/json")

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
            "reuse_port": True,  # as the gateway: each worker its own listening socket
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
