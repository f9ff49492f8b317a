"""Idempotency-Key: the gateway checks its shape and hands it to the service (gRPC metadata
`idempotency-key`), which deduplicates in its own write transaction and says when it replayed
(`idempotent-replayed: true` in its initial metadata -> `Idempotent-Replayed: true`).

These tests use a recording servicer behind the real gateway, so they test what the gateway does and
nothing else; what the contacts service does with the key is tested in test_contacts.py.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import jwt
import pytest

from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.access.context import CallerContextCheck
from crm_platform.errors import IdempotencyKeyReused

BODY = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}


@dataclass
class _Recording(contacts_pb2_grpc.ContactsServiceServicer):
    """Creates nothing: records each call's metadata and answers as a deduplicating service would."""

    calls: list[dict[str, str]] = field(default_factory=list)
    answers: dict[str, tuple[bytes, contacts_pb2.Contact]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def CreateContact(self, request: contacts_pb2.CreateContactRequest, context: grpc.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata())
        with self.lock:
            self.calls.append(metadata)
            key = metadata.get("idempotency-key")
            fingerprint = request.SerializeToString(deterministic=True)
            if key is not None and key in self.answers:
                first, answer = self.answers[key]
                if first != fingerprint:
                    raise IdempotencyKeyReused("this Idempotency-Key was used for another request")
                context.send_initial_metadata((("idempotent-replayed", "true"),))
                return answer
            answer = contacts_pb2.Contact(id=secrets.token_hex(8), first_name=request.first_name)
            if key is not None:
                self.answers[key] = (fingerprint, answer)
            return answer

    def UpdateContact(self, request: contacts_pb2.UpdateContactRequest, context: grpc.ServicerContext) -> Any:
        with self.lock:
            self.calls.append(dict(context.invocation_metadata()))
        return request.contact


@dataclass
class Recorded:
    servicer: _Recording
    client: Any
    user_id: str


@pytest.fixture
def recorded(raw_server, own_gateway) -> Iterator[Recorded]:
    servicer = _Recording()
    server = raw_server(
        "contacts", lambda s: contacts_pb2_grpc.add_ContactsServiceServicer_to_server(servicer, s)
    )
    running = own_gateway({"contacts": f"127.0.0.1:{server.port}"})
    token = running.token()
    client = running.client(token)
    yield Recorded(servicer, client, jwt.decode(token, options={"verify_signature": False})["sub"])
    client.http.close()


def test_the_key_and_the_caller_reach_the_service_as_metadata(recorded) -> None:
    key = "order-2026-0001:retry-safe"
    reply = recorded.client.post("/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key})
    assert reply.status_code == 201, reply.text
    assert "Idempotent-Replayed" not in reply.headers
    [metadata] = recorded.servicer.calls
    assert metadata["idempotency-key"] == key
    caller = CallerContextCheck().caller_from(tuple(metadata.items()))
    assert caller.subject == recorded.user_id


def test_no_key_no_metadata(recorded) -> None:
    assert recorded.client.post("/api/v1/contacts", json=BODY).status_code == 201
    [metadata] = recorded.servicer.calls
    assert "idempotency-key" not in metadata


def test_a_replay_the_service_reports_is_flagged_to_the_client(recorded) -> None:
    key = secrets.token_hex(8)
    first = recorded.client.post("/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key})
    again = recorded.client.post("/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_a_key_reused_for_another_body_is_422(recorded) -> None:
    key = secrets.token_hex(8)
    assert recorded.client.post("/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key}).ok
    reply = recorded.client.post(
        "/api/v1/contacts", json=BODY | {"first_name": "Other"}, headers={"Idempotency-Key": key}
    )
    problem = recorded.client.assert_problem(reply, 422)
    assert problem["type"] == "urn:crm:problem:idempotency-key-reused"
    assert problem["reason"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "tab\tin-key", "é", "new\x7fline"],
    ids=["empty", "too-long", "tab", "non-ascii", "del"],
)
def test_malformed_keys_are_400_and_never_reach_the_service(recorded, key: str) -> None:
    reply = recorded.client.post(
        "/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key.encode().decode("latin-1")}
    )
    problem = recorded.client.assert_problem(reply, 400)
    assert "Idempotency-Key" in problem["detail"]
    assert recorded.servicer.calls == []


def test_keys_of_every_allowed_length_and_character_pass(recorded) -> None:
    for key in ("k", "x" * 255, "".join(chr(c) for c in range(0x21, 0x7F)), "inner space"):
        reply = recorded.client.post("/api/v1/contacts", json=BODY, headers={"Idempotency-Key": key})
        assert reply.status_code == 201, (key, reply.text)
    assert [call["idempotency-key"] for call in recorded.servicer.calls][1] == "x" * 255


def test_only_post_passes_the_key_on(recorded) -> None:
    reply = recorded.client.patch(
        "/api/v1/contacts/c1", json={"first_name": "A"}, headers={"Idempotency-Key": "k"}
    )
    assert reply.status_code == 200, reply.text
    [metadata] = recorded.servicer.calls
    assert "idempotency-key" not in metadata
