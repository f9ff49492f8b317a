"""The contacts gRPC server, for real, on SQLite and PostgreSQL: status codes, pagination, outbox."""

from __future__ import annotations

import json

import grpc
import pytest
from sqlalchemy import select

from contacts.store import messaging
from crm.contacts.v1 import contacts_pb2
from crm_platform.errors import field_errors_from


def new(email: str = "ada@example.com", **fields: str) -> contacts_pb2.CreateContactRequest:
    return contacts_pb2.CreateContactRequest(
        first_name=fields.get("first_name", "Ada"), last_name="Lovelace", email=email
    )


def test_create_then_get(stub) -> None:
    created = stub.CreateContact(new("Ada@Example.com"), timeout=5)
    assert created.email == "ada@example.com"
    assert stub.GetContact(contacts_pb2.GetContactRequest(id=created.id), timeout=5) == created


def test_create_writes_contact_created_to_the_outbox_in_the_same_transaction(stub, runtime) -> None:
    created = stub.CreateContact(new(), timeout=5)
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(messaging.outbox)).all()
    [row] = rows
    assert row.routing_key == "contact_created"
    assert row.exchange == "contacts.events"
    assert json.loads(row.payload)["contact_id"] == created.id


def test_invalid_contact_is_invalid_argument_naming_fields_and_writes_nothing(stub, runtime) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateContact(new("not-an-email", first_name=""), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(raised.value)) == {"email", "first_name"}
    with runtime.engine.connect() as conn:
        assert conn.execute(select(messaging.outbox)).all() == []


def test_duplicate_email_is_already_exists_and_announces_nothing(stub, runtime) -> None:
    stub.CreateContact(new(), timeout=5)
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateContact(new("ADA@example.com"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with runtime.engine.connect() as conn:
        assert len(conn.execute(select(messaging.outbox)).all()) == 1


def test_unknown_id_is_not_found(stub) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetContact(contacts_pb2.GetContactRequest(id="nope"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_list_pages_through_everything_in_order(stub) -> None:
    ids = [stub.CreateContact(new(f"p{i}@example.com"), timeout=5).id for i in range(7)]
    seen, cursor = [], ""
    while True:
        page = stub.ListContacts(contacts_pb2.ListContactsRequest(limit=3, cursor=cursor), timeout=5)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == ids


@pytest.mark.parametrize(("limit", "cursor"), [(-1, ""), (1000, ""), (0, "garbage")])
def test_bad_list_arguments_are_invalid_argument(stub, limit: int, cursor: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.ListContacts(contacts_pb2.ListContactsRequest(limit=limit, cursor=cursor), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
