"""Idempotency-Key over a real server: one contact however many times (and however concurrently) a
create is retried, the same answer for every retry, a refusal when the key comes with another body."""

from __future__ import annotations

import threading

import grpc
import pytest

from crm.contacts.v1 import contacts_pb2
from crm_platform.errors import details_from

CALLERS = 20


def test_concurrent_creates_with_one_key_create_one_contact_and_answer_alike(client) -> None:
    start = threading.Barrier(CALLERS)
    answers: list[bytes] = []
    replayed: list[bool] = []
    errors: list[grpc.RpcError] = []

    def create() -> None:
        start.wait()
        try:
            contact, call = client.stub.CreateContact.with_call(
                client_request(), metadata=client.metadata(key="create-ada"), timeout=30
            )
        except grpc.RpcError as error:
            errors.append(error)
            return
        answers.append(contact.SerializeToString(deterministic=True))
        replayed.append(("idempotent-replayed", "true") in call.initial_metadata())

    threads = [threading.Thread(target=create) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(answers) == CALLERS and len(set(answers)) == 1
    assert sorted(replayed) == [False] + [True] * (CALLERS - 1)
    assert len(client.list(limit=50).items) == 1
    assert [event for event, _ in client.outbox()] == ["contact_created"]


def test_the_same_key_with_another_body_is_refused(client) -> None:
    client.create(key="k1")
    with pytest.raises(grpc.RpcError) as raised:
        client.create("grace@example.com", key="k1")
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_from(raised.value).reason == "IDEMPOTENCY_KEY_REUSED"
    assert len(client.list().items) == 1


def test_keys_are_per_caller(client) -> None:
    client.create(key="k1", user="u1")
    with pytest.raises(grpc.RpcError) as raised:  # u2's own first use of "k1": really runs, and conflicts
        client.create(key="k1", user="u2")
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_a_refused_create_is_not_remembered(client) -> None:
    client.create()
    with pytest.raises(grpc.RpcError):
        client.create(key="k2")  # duplicate email
    client.update(client.list().items[0].id, ["email"], email="ada@lovelace.org")
    assert client.create(key="k2").email == "ada@example.com"  # the retry runs again, and now succeeds


def client_request() -> contacts_pb2.CreateContactRequest:
    return contacts_pb2.CreateContactRequest(first_name="Ada", last_name="Lovelace", email="ada@example.com")


def test_updates_and_deletes_honour_the_key_too(client) -> None:
    created = client.create()
    update = contacts_pb2.UpdateContactRequest(
        contact=contacts_pb2.Contact(id=created.id, company="Babbage & Co")
    )
    update.update_mask.paths.append("company")
    first = client.stub.UpdateContact(update, metadata=client.metadata(key="u-1"), timeout=10)
    again, call = client.stub.UpdateContact.with_call(update, metadata=client.metadata(key="u-1"), timeout=10)
    assert again == first and ("idempotent-replayed", "true") in call.initial_metadata()
    delete = contacts_pb2.DeleteContactRequest(id=created.id)
    client.stub.DeleteContact(delete, metadata=client.metadata(key="d-1"), timeout=10)
    _, call = client.stub.DeleteContact.with_call(delete, metadata=client.metadata(key="d-1"), timeout=10)
    assert ("idempotent-replayed", "true") in call.initial_metadata()
    assert [event for event, _ in client.outbox()] == [
        "contact_created",
        "contact_updated",
        "contact_archived",
    ]
