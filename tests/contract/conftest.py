"""The echo service (a contract the gateway has never seen) behind the real gateway over real HTTP."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from crm_platform.grpc_server import GrpcServer
from crm_platform.testing.service_server import peers, serve_in_process
from gateway.app import create_app
from gateway.main import prepare
from gateway.settings import SERVICES, GatewaySettings

from .echo_service import compile_echo, start_echo
from .tokens import ADMIN_EMAIL, admin_token


@dataclass
class EchoGateway:
    url: str
    token: str
    app: Any
    echo: GrpcServer
    messages: ModuleType

    def session(self, token: str | None = "") -> requests.Session:
        http = requests.Session()
        chosen = self.token if token == "" else token
        if chosen:
            http.headers["Authorization"] = f"Bearer {chosen}"
        return http


@pytest.fixture(scope="session")
def echo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoGateway]:
    work: Path = tmp_path_factory.mktemp("echo")
    descriptor_set, messages, services = compile_echo(work / "generated")
    echo = start_echo(messages, services)
    # The five platform services are not started: these tests reach only the echo service, and every
    # check the gateway makes before calling a service (auth, unknown fields, types) needs none.
    addresses = {service: "127.0.0.1:1" for service in SERVICES}
    settings = GatewaySettings(
        jwt_secret=secrets.token_urlsafe(48),
        admin_email=ADMIN_EMAIL,
        admin_password=secrets.token_urlsafe(18),
        database_url=f"sqlite:///{work / 'gateway.db'}",
        service_addrs={**addresses, "echo": f"127.0.0.1:{echo.port}"},
        extra_contracts=(str(descriptor_set),),
        call_deadline_seconds=2.0,
    )
    prepare(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = app.extensions["crm_gateway"]
    token = admin_token(state)
    try:
        yield EchoGateway(f"http://127.0.0.1:{server.server_port}", token, app, echo, messages)
    finally:
        server.shutdown()
        echo.stop(0)
        state.close()


@dataclass
class PlatformGateway:
    url: str
    token: str


def _start_service(name: str, data_dir: Path) -> tuple[GrpcServer, Any]:
    return serve_in_process(name, f"sqlite:///{data_dir / name}.db")


@pytest.fixture(scope="session")
def platform_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformGateway]:
    """The five real services (real servicers over real gRPC, SQLite) behind the real gateway."""
    work: Path = tmp_path_factory.mktemp("platform")
    started = {name: _start_service(name, work) for name in SERVICES}
    settings = GatewaySettings(
        jwt_secret=secrets.token_urlsafe(48),
        admin_email=ADMIN_EMAIL,
        admin_password=secrets.token_urlsafe(18),
        database_url=f"sqlite:///{work / 'gateway.db'}",
        service_addrs={name: f"127.0.0.1:{server.port}" for name, (server, _) in started.items()},
        # Every service and the gateway run in this pytest worker, whose heap by then holds hundreds of
        # tests' objects: under a loaded suite one call took over 2 s (GET /price-lists, 504 "did not
        # answer in time", in a clean-clone run). What is judged here is the contract (schemas, status
        # codes, no 5xx from the code), not latency, which the benches measure; under st's 10 s timeout.
        call_deadline_seconds=8.0,
    )
    prepare(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = app.extensions["crm_gateway"]
    token = admin_token(state)
    try:
        with peers(settings.service_addrs):  # sales asks contacts as the caller
            yield PlatformGateway(f"http://127.0.0.1:{server.server_port}", token)
    finally:
        server.shutdown()
        state.close()
        for grpc_server, runtime in started.values():
            grpc_server.stop(0)
            runtime.engine.dispose()
