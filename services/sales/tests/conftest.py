"""A real sales gRPC server on a fresh database (SQLite, then PostgreSQL), a real contacts gRPC server
beside it on a database of its own (lead conversion calls it), and a client calling as signed-in users."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from crm.sales.v1 import deals_pb2_grpc, leads_pb2_grpc
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime
from crm_platform.testing import create_database, drop_database, postgres_reachable
from crm_platform.testing.service_server import serve_in_process
from sales.store import messaging


@dataclass
class Sales:
    """Stubs of the sales server and its runtime (for the outbox and direct handler calls)."""

    runtime: Runtime
    channel: grpc.Channel
    server: GrpcServer

    @property
    def deals(self) -> deals_pb2_grpc.DealsServiceStub:
        return deals_pb2_grpc.DealsServiceStub(self.channel)

    @property
    def pipelines(self) -> deals_pb2_grpc.PipelinesServiceStub:
        return deals_pb2_grpc.PipelinesServiceStub(self.channel)

    @property
    def leads(self) -> leads_pb2_grpc.LeadsServiceStub:
        return leads_pb2_grpc.LeadsServiceStub(self.channel)

    @property
    def scoring(self) -> leads_pb2_grpc.LeadScoringRulesServiceStub:
        return leads_pb2_grpc.LeadScoringRulesServiceStub(self.channel)

    @property
    def assignment(self) -> leads_pb2_grpc.LeadAssignmentRulesServiceStub:
        return leads_pb2_grpc.LeadAssignmentRulesServiceStub(self.channel)

    @property
    def forms(self) -> leads_pb2_grpc.LeadFormsServiceStub:
        return leads_pb2_grpc.LeadFormsServiceStub(self.channel)

    def outbox(self, event_type: str = "") -> list[dict[str, Any]]:
        """Payloads of the events recorded so far (of one type, when given), oldest first."""
        outbox = messaging.outbox
        query = select(outbox).order_by(outbox.c.created_at)
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [json.loads(r.payload) for r in rows if not event_type or r.routing_key == event_type]


def _serve(name: str, url: str) -> Iterator[tuple[GrpcServer, Runtime, grpc.Channel]]:
    server, runtime = serve_in_process(name, url)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield server, runtime, channel
    finally:
        channel.close()
        server.stop(0)
        runtime.engine.dispose()


@pytest.fixture
def contacts_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The contacts server's own database, of the same kind as the sales one."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'contacts.db'}"
    return request.getfixturevalue("postgres_database")("contacts")


@pytest.fixture
def contacts_channel(contacts_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[grpc.Channel]:
    """A real contacts server; the sales server started after it calls it (CONTACTS_GRPC_ADDR)."""
    for server, _runtime, channel in _serve("contacts", contacts_url):
        monkeypatch.setenv("CONTACTS_GRPC_ADDR", f"127.0.0.1:{server.port}")
        yield channel


@pytest.fixture
def sales(database_url: str) -> Iterator[Sales]:
    for server, runtime, channel in _serve("sales", database_url):
        yield Sales(runtime, channel, server)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database of each kind shared by one module's tests (those that make their own records and
    look only at them), so a module pays for one server and one migration per kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sales') / 'shared.db'}"
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable at CRM_TEST_POSTGRES_URL")
    url = create_database("sales_shared")
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def shared_sales(module_database_url: str) -> Iterator[Sales]:
    for server, runtime, channel in _serve("sales", module_database_url):
        yield Sales(runtime, channel, server)
