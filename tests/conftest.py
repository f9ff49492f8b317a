"""Fixtures for the cross-service tests: the real platform as real processes, and an OTLP sink."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from crm_devrun.client import GatewayClient
from crm_devrun.platform import PlatformConfig, start_platform
from crm_devrun.supervisor import Supervisor
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from crm_platform.testing import rabbit

ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class SpanRecord:
    trace_id: str
    name: str
    kind: int
    service: str


class OtlpSink:
    """A real OTLP/HTTP trace receiver: the platform's exporters post protobuf batches to it."""

    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                sink._add(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(trace_service_pb2.ExportTraceServiceResponse().SerializeToString())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _add(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        with self._lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(SpanRecord(span.trace_id.hex(), span.name, span.kind, service))

    def trace(self, trace_id: str) -> list[SpanRecord]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@dataclass
class RunningPlatform:
    config: PlatformConfig
    supervisor: Supervisor

    def client(self, *, login: bool = True) -> GatewayClient:
        client = GatewayClient(self.config.gateway_url)
        if login:
            client.login(self.config.admin_email, self.config.admin_password)
        return client


@pytest.fixture(scope="session")
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink()
    yield sink
    sink.server.shutdown()


@pytest.fixture(scope="session")
def platform_vhost() -> Iterator[str]:
    if not rabbit.rabbitmq_reachable():
        pytest.fail("RabbitMQ is not reachable; `make test` starts it (scripts/ensure_rabbitmq.sh)")
    vhost = f"crm-e2e-{secrets.token_hex(4)}"
    rabbit.create_vhost(vhost)
    yield vhost
    rabbit.delete_vhost(vhost)


def launch(
    data_dir: Path, amqp_url: str, sink: OtlpSink | None, database_urls: dict[str, str] | None = None
) -> RunningPlatform:
    extra_env = {
        # Short retry back-off so dead-lettering is observable within a test.
        "CRM_EVENT_RETRY_DELAYS": "0.2,0.4",
        "GATEWAY_SERVICE_DEADLINE_SECONDS": "1.0",
        # A REST call's deadline (2 s by default): on a loaded CI machine one contacts write took longer
        # (a 504 among the authorization matrix's 21k checks). What these tests judge is behaviour, not
        # latency (the benches measure that); the tests about deadlines set their own.
        "GATEWAY_CALL_DEADLINE_SECONDS": "10",
        "GATEWAY_WORKERS": "2",
    }
    if sink is not None:
        extra_env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    config = PlatformConfig.with_free_ports(
        data_dir=data_dir,
        amqp_url=amqp_url,
        jwt_secret=secrets.token_urlsafe(48),
        admin_email=ADMIN_EMAIL,
        admin_password=secrets.token_urlsafe(16),
        database_urls=database_urls or {},
        extra_env=extra_env,
    )
    return RunningPlatform(config, start_platform(config, ready_timeout=120))


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory, platform_vhost: str, otlp_sink: OtlpSink
) -> Iterator[RunningPlatform]:
    """The whole platform (five services' serve + worker, gateway under gunicorn) on SQLite."""
    running = launch(
        tmp_path_factory.mktemp("platform"), rabbit.amqp_url_for_vhost(platform_vhost), otlp_sink
    )
    yield running
    running.supervisor.stop()


@pytest.fixture(scope="session")
def launch_platform() -> object:
    """The launcher itself, for tests that need a platform of their own (another database, say)."""
    return launch


@pytest.fixture
def api(platform: RunningPlatform) -> Iterator[GatewayClient]:
    client = platform.client()
    yield client
    client.close()
