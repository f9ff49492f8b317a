"""A real contacts gRPC server on a fresh database (SQLite, then PostgreSQL), and a client for it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from contacts import api
from contacts.main import DEFINITION
from contacts.store import messaging
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata, with_default_caller
from crm_platform.testing.migrated import open_migrated_runtime


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    runtime = open_migrated_runtime(DEFINITION, database_url)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def stub(runtime: Runtime) -> Iterator[contacts_pb2_grpc.ContactsServiceStub]:
    server = GrpcServer("contacts", "127.0.0.1:0", lambda s: api.register(s, runtime), max_workers=32).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield contacts_pb2_grpc.ContactsServiceStub(with_default_caller(channel))
    channel.close()
    server.stop(0)


@dataclass
class Client:
    """Calls as a signed-in user would make them through the gateway (caller metadata, deadline)."""

    stub: contacts_pb2_grpc.ContactsServiceStub
    runtime: Runtime

    @staticmethod
    def metadata(user: str = "u1", key: str = "") -> list[tuple[str, str]]:
        extra = [("idempotency-key", key)] if key else []
        return [*caller_metadata(user), *extra]

    def create(
        self, email: str = "ada@example.com", *, user: str = "u1", key: str = "", **fields: str
    ) -> Any:
        request = contacts_pb2.CreateContactRequest(
            first_name=fields.get("first_name", "Ada"),
            last_name=fields.get("last_name", "Lovelace"),
            email=email,
            phone=fields.get("phone", ""),
            company=fields.get("company", ""),
        )
        return self.stub.CreateContact(request, metadata=self.metadata(user, key), timeout=10)

    def get(self, contact_id: str) -> contacts_pb2.Contact:
        return self.stub.GetContact(
            contacts_pb2.GetContactRequest(id=contact_id), metadata=self.metadata(), timeout=10
        )

    def update(
        self, contact_id: str, paths: Sequence[str], *, etag: str = "", user: str = "u1", **fields: str
    ) -> contacts_pb2.Contact:
        request = contacts_pb2.UpdateContactRequest(
            contact=contacts_pb2.Contact(id=contact_id, etag=etag, **fields)
        )
        request.update_mask.paths.extend(paths)
        return self.stub.UpdateContact(request, metadata=self.metadata(user), timeout=10)

    def delete(self, contact_id: str, *, etag: str = "", user: str = "u1") -> None:
        request = contacts_pb2.DeleteContactRequest(id=contact_id, etag=etag)
        self.stub.DeleteContact(request, metadata=self.metadata(user), timeout=10)

    def list(self, **fields: Any) -> contacts_pb2.ListContactsResponse:
        return self.stub.ListContacts(
            contacts_pb2.ListContactsRequest(**fields), metadata=self.metadata(), timeout=10
        )

    def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        """(event type, payload) of every event recorded so far, oldest first."""
        outbox = messaging.outbox
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.created_at)).all()
        return [(row.routing_key, json.loads(row.payload)) for row in rows]


@pytest.fixture
def client(stub: contacts_pb2_grpc.ContactsServiceStub, runtime: Runtime) -> Client:
    return Client(stub, runtime)
