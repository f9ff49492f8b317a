"""Contacts through the gateway, routed from the contract: create, read, list, conflicts, unknown fields."""

from __future__ import annotations

import secrets
from datetime import datetime


def _body(**fields: str | None) -> dict[str, str | None]:
    return {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": f"gh-{secrets.token_hex(6)}@example.com",
    } | fields


def test_create_returns_201_with_location_and_the_stored_contact(api) -> None:
    email = api.new_email()
    reply = api.post(
        "/api/v1/contacts",
        json={"first_name": " Ada ", "last_name": "Lovelace", "email": email.upper(), "company": "Engines"},
    )
    assert reply.status_code == 201, reply.text
    created = reply.json()
    api.assert_documented(created, "contacts.v1.Contact")
    assert created["email"] == email  # normalised by the service
    assert created["first_name"] == "Ada"
    assert created["company"] == "Engines" and created["phone"] is None
    assert created["archived_at"] is None and "etag" in created
    assert created["created_at"].endswith("Z")
    assert datetime.fromisoformat(created["created_at"]) == datetime.fromisoformat(created["updated_at"])
    assert reply.headers["Location"] == f"/api/v1/contacts/{created['id']}"
    fetched = api.get(reply.headers["Location"])
    assert fetched.status_code == 200 and fetched.json() == created


def test_duplicate_email_is_409_whatever_its_case(api) -> None:
    email = api.new_email()
    api.create_contact(email=email)
    problem = api.assert_problem(api.post("/api/v1/contacts", json=_body(email=email.upper())), 409)
    assert problem["type"] == "urn:crm:problem:conflict" and problem["reason"] == "ALREADY_EXISTS"


def test_field_errors_from_the_service_come_back_as_422_errors(api) -> None:
    reply = api.post("/api/v1/contacts", json=_body(email="not-an-email", phone="call me"))
    problem = api.assert_problem(reply, 422)
    assert {e["field"] for e in problem["errors"]} == {"email", "phone"}
    assert all(e["message"] for e in problem["errors"])


def test_contract_rules_are_enforced_before_the_domain_sees_the_request(api) -> None:
    reply = api.post("/api/v1/contacts", json=_body(first_name="A" * 101, company="C" * 201))
    problem = api.assert_problem(reply, 422)
    assert {e["field"] for e in problem["errors"]} == {"first_name", "company"}


def test_an_unknown_field_is_400_naming_it_and_creates_nothing(api) -> None:
    body = _body(fist_name="typo")
    problem = api.assert_problem(api.post("/api/v1/contacts", json=body), 400)
    assert problem["errors"] == [{"field": "fist_name", "message": "is not a field of this request"}]
    assert "fist_name" in problem["detail"]
    del body["fist_name"]
    assert api.post("/api/v1/contacts", json=body).status_code == 201  # the email was still free


def test_output_only_fields_are_not_accepted_on_create(api) -> None:
    problem = api.assert_problem(api.post("/api/v1/contacts", json=_body(id="mine")), 400)
    assert [e["field"] for e in problem["errors"]] == ["id"]


def test_unknown_contact_is_404(api) -> None:
    problem = api.assert_problem(api.get("/api/v1/contacts/00000000-0000-4000-8000-000000000000"), 404)
    assert problem["reason"] == "NOT_FOUND"


def test_pagination_walks_every_contact_exactly_once(api) -> None:
    created = {api.create_contact()["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        reply = api.get("/api/v1/contacts", params=params)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
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
    assert api.get("/api/v1/contacts", params={"limit": 0}).json() == api.get("/api/v1/contacts").json()
