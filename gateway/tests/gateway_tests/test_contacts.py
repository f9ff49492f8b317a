"""Contacts through the gateway: create, read, list, conflicts, and Idempotency-Key."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from gateway.models import Contact, ContactList
from gateway.schema import IdempotencyRecord
from gateway.users import create_user


def test_create_returns_201_with_location_and_the_stored_contact(api) -> None:
    email = api.new_email()
    reply = api.post(
        "/api/v1/contacts",
        json={"first_name": " Ada ", "last_name": "Lovelace", "email": email.upper(), "company": "Engines"},
    )
    assert reply.status_code == 201, reply.text
    created = reply.json()
    Contact.model_validate(created)  # the documented shape
    assert created["email"] == email  # normalised by the service
    assert created["first_name"] == "Ada"
    assert created["company"] == "Engines" and created["phone"] is None
    assert created["created_at"].endswith("Z")
    assert datetime.fromisoformat(created["created_at"]) == datetime.fromisoformat(created["updated_at"])
    assert reply.headers["Location"] == f"/api/v1/contacts/{created['id']}"
    fetched = api.get(reply.headers["Location"])
    assert fetched.status_code == 200 and fetched.json() == created


def test_duplicate_email_is_409_whatever_its_case(api) -> None:
    email = api.new_email()
    api.create_contact(email=email)
    problem = api.assert_problem(api.post("/api/v1/contacts", json=_body(email=email.upper())), 409)
    assert email in problem["detail"]


def test_field_errors_from_the_service_come_back_as_422_errors(api) -> None:
    reply = api.post("/api/v1/contacts", json=_body(email="not-an-email", phone="call me"))
    problem = api.assert_problem(reply, 422)
    assert {e["field"] for e in problem["errors"]} == {"email", "phone"}
    assert all(e["message"] for e in problem["errors"])


def test_unknown_contact_is_404(api) -> None:
    api.assert_problem(api.get("/api/v1/contacts/00000000-0000-4000-8000-000000000000"), 404)


def test_pagination_walks_every_contact_exactly_once(api) -> None:
    created = {api.create_contact()["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        reply = api.get("/api/v1/contacts", params=params)
        assert reply.status_code == 200, reply.text
        page = ContactList.model_validate(reply.json())
        assert len(page.items) <= 2
        seen += [c.id for c in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 3


def test_default_page_size_and_next_cursor_null_on_last_page(api) -> None:
    api.create_contact()
    body = api.get("/api/v1/contacts", params={"limit": 200}).json()
    assert body["next_cursor"] is None
    assert len(api.get("/api/v1/contacts").json()["items"]) <= 50


def _body(**fields: str) -> dict[str, str]:
    return {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": f"gh-{secrets.token_hex(6)}@example.com",
    } | fields


def test_idempotency_key_replays_the_first_response(api) -> None:
    key = secrets.token_hex(8)
    body = _body()
    first = api.post("/api/v1/contacts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    # Same request again, keys in another order: the stored response, not a 409 duplicate.
    again = api.post("/api/v1/contacts", json=dict(reversed(body.items())), headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_idempotency_key_with_a_different_body_is_refused(api) -> None:
    key = secrets.token_hex(8)
    assert api.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key}).status_code == 201
    reply = api.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key})
    problem = api.assert_problem(reply, 422)
    assert "Idempotency-Key" in problem["detail"]


def test_idempotency_keys_belong_to_their_caller(gateway, api) -> None:
    sessions = gateway.app.extensions["crm_gateway"].database.sessions
    email = api.new_email()
    with sessions.begin() as session:
        create_user(session, email, "another-users-password", ("sales",))
    other = gateway.client(gateway.token(email, "another-users-password"))
    key = secrets.token_hex(8)
    mine = api.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key})
    theirs = other.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_client_errors_are_replayed_too(api) -> None:
    key = secrets.token_hex(8)
    body = _body(email="broken")
    first = api.post("/api/v1/contacts", json=body, headers={"Idempotency-Key": key})
    again = api.post("/api/v1/contacts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["Content-Type"].startswith("application/problem+json")


def test_a_server_failure_releases_the_key(service_factory, own_gateway) -> None:
    contacts = service_factory("contacts")
    running = own_gateway({"contacts": contacts.address})
    contacts.stop()
    client = running.client()
    key = secrets.token_hex(8)
    client.assert_problem(
        client.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key}), 503
    )
    with running.app.extensions["crm_gateway"].database.sessions() as session:
        assert session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).all() == []


def test_bad_idempotency_keys_are_400(api) -> None:
    for key in ("x" * 256, "tab\tin-key", "é"):
        reply = api.post(
            "/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key.encode().decode("latin-1")}
        )
        api.assert_problem(reply, 400)


def test_a_retry_while_the_first_request_runs_is_409(gateway) -> None:
    from gateway.idempotency import IdempotencyStore
    from gateway.problems import Problem

    store = IdempotencyStore(gateway.app.extensions["crm_gateway"].database.sessions)
    key = secrets.token_hex(8)
    assert store.claim("user-1", key, "hash-a") is None
    for request_hash, status in (("hash-a", 409), ("hash-b", 422)):
        try:
            store.claim("user-1", key, request_hash)
        except Problem as problem:
            assert problem.status == status
        else:
            raise AssertionError("a claimed key was handed out twice")
    store.release("user-1", key)
    assert store.claim("user-1", key, "hash-b") is None
