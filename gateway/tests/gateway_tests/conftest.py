"""Fixtures for the gateway tests: the five real services in-process, the real gateway over real HTTP.

The services are the real servicers on their own SQLite files (no relay: events stay in the contacts
outbox, which these tests do not need). The gateway is the real Flask app served by Werkzeug in a thread;
`test_serve.py` covers the gunicorn path.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
from jsonschema import Draft202012Validator
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime
from crm_platform.testing.service_server import serve_in_process
from gateway.app import create_app
from gateway.main import prepare
from gateway.schema import User
from gateway.settings import SERVICES, GatewaySettings
from gateway.users import Identity

ADMIN_EMAIL = "admin@example.com"
PROBLEM_JSON = "application/problem+json"


@dataclass
class RunningService:
    name: str
    runtime: Runtime
    server: GrpcServer

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.server.stop(0)
        self.runtime.engine.dispose()


def start_service(name: str, data_dir: Path) -> RunningService:
    server, runtime = serve_in_process(name, f"sqlite:///{data_dir / name}.db")
    return RunningService(name, runtime, server)


def start_raw_server(name: str, register: Callable[[grpc.Server], Any]) -> GrpcServer:
    """A real gRPC server with a hand-written servicer: only for the slow-service cases."""

    def add(server: grpc.Server) -> list[str]:
        register(server)
        return []

    return GrpcServer(name, "127.0.0.1:0", add).start()


@dataclass
class Gateway:
    url: str
    settings: GatewaySettings
    admin_password: str
    server: BaseWSGIServer
    app: Any

    def token(self, email: str = ADMIN_EMAIL, password: str | None = None) -> str:
        """A token from POST /auth/token (password given), else one issued directly for the admin:
        argon2 is slow on purpose and test_auth.py covers the real login."""
        if password is None:
            state = self.app.extensions["crm_gateway"]
            with state.database.sessions() as session:
                admin = session.scalars(select(User).where(User.email == email)).one()
                identity = Identity(admin.id, tuple(admin.roles))
            return str(state.tokens.issue(identity).access_token)
        reply = requests.post(
            f"{self.url}/api/v1/auth/token", json={"email": email, "password": password}, timeout=10
        )
        assert reply.status_code == 200, reply.text
        token: str = reply.json()["access_token"]
        return token

    def client(self, token: str | None = None) -> Client:
        return Client(self.url, token if token is not None else self.token())


def new_email() -> str:
    return f"gw-{secrets.token_hex(6)}@example.com"


def assert_problem(reply: requests.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text[:500]
    assert reply.headers["Content-Type"].startswith(PROBLEM_JSON), reply.headers["Content-Type"]
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["title"] and body["type"] and "detail" in body and body["instance"]
    return body


class Client:
    """requests with the base URL and bearer token filled in, plus the checks every test needs (test
    modules cannot import this conftest under --import-mode=importlib, so helpers travel with the client).
    """

    assert_problem = staticmethod(assert_problem)
    new_email = staticmethod(new_email)

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self._document: dict[str, Any] | None = None
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.http.request(method, f"{self.base_url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def openapi(self) -> dict[str, Any]:
        """The gateway's OpenAPI document, as served."""
        if self._document is None:
            reply = self.get("/api/v1/openapi.json")
            assert reply.status_code == 200, reply.text[:300]
            self._document = reply.json()
        return self._document

    def assert_documented(self, value: Any, schema: str) -> None:
        """`value` matches `components.schemas[schema]` of the served document (formats checked too)."""
        root = {"$ref": f"#/components/schemas/{schema}", "components": self.openapi()["components"]}
        validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]

    def create_contact(self, **fields: Any) -> dict[str, Any]:
        body = {"first_name": "Ada", "last_name": "Lovelace", "email": new_email(), **fields}
        reply = self.post("/api/v1/contacts", json=body)
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created


def make_settings(data_dir: Path, addresses: dict[str, str], **overrides: Any) -> GatewaySettings:
    settings = GatewaySettings(
        jwt_secret=secrets.token_urlsafe(48),
        database_url=f"sqlite:///{data_dir / 'gateway.db'}",
        service_addrs=addresses,
        admin_email=ADMIN_EMAIL,
        admin_password=secrets.token_urlsafe(18),
        service_deadline_seconds=1.0,
        max_body_bytes=64 * 1024,
    )
    return replace(settings, **overrides)


def serve_gateway(settings: GatewaySettings) -> Gateway:
    prepare(settings)  # migrations + bootstrap admin, as `crm-gateway serve` does in the master
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="gateway-http", daemon=True
    ).start()
    return Gateway(f"http://127.0.0.1:{server.server_port}", settings, settings.admin_password, server, app)


def stop_gateway(gateway: Gateway) -> None:
    gateway.server.shutdown()
    gateway.server.server_close()
    gateway.app.extensions["crm_gateway"].close()


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningService]]:
    data_dir = tmp_path_factory.mktemp("services")
    running = {name: start_service(name, data_dir) for name in SERVICES}
    yield running
    for service in running.values():
        service.stop()


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, services: dict[str, RunningService]
) -> Iterator[Gateway]:
    settings = make_settings(
        tmp_path_factory.mktemp("gateway"), {name: s.address for name, s in services.items()}
    )
    running = serve_gateway(settings)
    yield running
    stop_gateway(running)


@pytest.fixture
def admin_token(gateway: Gateway) -> str:
    # A fresh one per test (issued directly: cheap). A session's token lives GATEWAY_TOKEN_TTL_SECONDS
    # (15 min), and with --dist loadfile a worker's gateway tests can span longer than that.
    return gateway.token()


@pytest.fixture
def api(gateway: Gateway, admin_token: str) -> Iterator[Client]:
    client = gateway.client(admin_token)
    yield client
    client.http.close()


@pytest.fixture
def anonymous(gateway: Gateway) -> Iterator[Client]:
    client = Client(gateway.url, None)
    yield client
    client.http.close()


@pytest.fixture
def own_gateway(tmp_path: Path, services: dict[str, RunningService]) -> Iterator[Callable[..., Gateway]]:
    """Factory for a gateway of the test's own, e.g. pointing one service at a stopped or slow server."""
    started: list[Gateway] = []

    def make(addresses: dict[str, str] | None = None, **overrides: Any) -> Gateway:
        merged = {name: s.address for name, s in services.items()} | (addresses or {})
        directory = tmp_path / f"gw{len(started)}"
        directory.mkdir()
        running = serve_gateway(make_settings(directory, merged, **overrides))
        started.append(running)
        return running

    yield make
    for running in started:
        stop_gateway(running)


@pytest.fixture
def raw_server() -> Iterator[Callable[[str, Callable[[grpc.Server], Any]], GrpcServer]]:
    """Factory for real gRPC servers with a hand-written servicer, stopped after the test."""
    started: list[GrpcServer] = []

    def make(name: str, register: Callable[[grpc.Server], Any]) -> GrpcServer:
        server = start_raw_server(name, register)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(0)


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[[str], RunningService]]:
    """Factory for a real service of the test's own (one it may stop)."""
    started: list[RunningService] = []

    def make(name: str) -> RunningService:
        directory = tmp_path / f"svc-{name}-{len(started)}"
        directory.mkdir()
        running = start_service(name, directory)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
