"""Contacts through the gateway, routed from the contract: create, read, list (filtered, ordered), update with
If-Match, archive, history, and Idempotency-Key as the contacts service deduplicates it."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import jwt
import requests

from gateway.users import create_user


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
    first = api.create_contact(email=email)
    problem = api.assert_problem(api.post("/api/v1/contacts", json=_body(email=email.upper())), 409)
    assert problem["type"] == "urn:crm:problem:conflict" and problem["reason"] == "ALREADY_EXISTS"
    # The caller may read the holder, so the problem names it.
    assert problem["existing"] == {"type": "contact", "id": first["id"]}


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


def _only(api, email: str) -> list[dict[str, Any]]:
    """The active contacts with this email (the list's filter, AIP-160)."""
    reply = api.get("/api/v1/contacts", params={"filter": f'email = "{email}"'})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def _concurrently(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """`call(i)` for i in range(count), all released at once from their own threads."""
    start = threading.Barrier(count)

    def run(index: int) -> requests.Response:
        start.wait(10)
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


# --- Idempotency-Key, deduplicated by the contacts service -----------------------------------------


def test_twenty_concurrent_posts_with_one_key_create_one_contact(gateway, api) -> None:
    key, body = secrets.token_hex(8), _body()
    token = api.http.headers["Authorization"].removeprefix("Bearer ")
    clients = [gateway.client(token) for _ in range(20)]
    try:
        replies = _concurrently(
            20, lambda i: clients[i].post("/api/v1/contacts", json=body, headers={"Idempotency-Key": key})
        )
    finally:
        for client in clients:
            client.http.close()
    assert [r.status_code for r in replies] == [201] * 20, [r.text for r in replies if r.status_code != 201]
    assert len({r.text for r in replies}) == 1  # the same body, byte for byte
    assert len({r.headers["Location"] for r in replies}) == 1
    fresh = [r for r in replies if "Idempotent-Replayed" not in r.headers]
    assert len(fresh) == 1
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in replies if r is not fresh[0])
    [stored] = _only(api, body["email"])
    assert stored == replies[0].json()


def test_a_retry_with_the_same_key_replays_the_first_answer(api) -> None:
    key, body = secrets.token_hex(8), _body()
    first = api.post("/api/v1/contacts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    # Same request again, keys in another order: the stored answer, not a 409 duplicate.
    again = api.post("/api/v1/contacts", json=dict(reversed(body.items())), headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["ETag"] == first.headers["ETag"]


def test_the_same_key_with_another_body_is_422_and_creates_nothing(api) -> None:
    key, first_body, other_body = secrets.token_hex(8), _body(), _body()
    assert api.post("/api/v1/contacts", json=first_body, headers={"Idempotency-Key": key}).status_code == 201
    reply = api.post("/api/v1/contacts", json=other_body, headers={"Idempotency-Key": key})
    problem = api.assert_problem(reply, 422)
    assert problem["type"] == "urn:crm:problem:idempotency-key-reused"
    assert problem["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert _only(api, other_body["email"]) == []


def test_idempotency_keys_belong_to_their_caller(gateway, api) -> None:
    sessions = gateway.app.extensions["crm_gateway"].database.sessions
    email = api.new_email()
    with sessions.begin() as session:
        create_user(session, email, "another-users-password", ("sales_rep",))
    other = gateway.client(gateway.token(email, "another-users-password"))
    key = secrets.token_hex(8)
    mine = api.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key})
    theirs = other.post("/api/v1/contacts", json=_body(), headers={"Idempotency-Key": key})
    other.http.close()
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


# --- PATCH, If-Match, DELETE, history --------------------------------------------------------------


def _contact(api, contact_id: str) -> requests.Response:
    reply = api.get(f"/api/v1/contacts/{contact_id}")
    assert reply.status_code == 200, reply.text
    return reply


def test_etag_header_on_create_get_and_patch_matches_the_body(api) -> None:
    created = api.post("/api/v1/contacts", json=_body())
    contact = created.json()
    assert contact["etag"] and created.headers["ETag"] == f'"{contact["etag"]}"'
    fetched = _contact(api, contact["id"])
    assert fetched.headers["ETag"] == created.headers["ETag"]
    patched = api.patch(f"/api/v1/contacts/{contact['id']}", json={"company": "Engines"})
    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] == f'"{patched.json()["etag"]}"' != created.headers["ETag"]
    assert _contact(api, contact["id"]).headers["ETag"] == patched.headers["ETag"]


def test_patch_changes_only_the_fields_present(api) -> None:
    contact = api.create_contact(company="Engines", phone="+44 20 7946 0000")
    reply = api.patch(f"/api/v1/contacts/{contact['id']}", json={"first_name": "Augusta"})
    assert reply.status_code == 200, reply.text
    patched = reply.json()
    api.assert_documented(patched, "contacts.v1.Contact")
    unchanged = {"id", "last_name", "email", "phone", "company", "created_at", "archived_at"}
    assert {k: patched[k] for k in unchanged} == {k: contact[k] for k in unchanged}
    assert patched["first_name"] == "Augusta"
    assert patched["updated_at"] > contact["updated_at"] and patched["etag"] != contact["etag"]
    assert _contact(api, contact["id"]).json() == patched


def test_patch_with_null_clears_a_field_and_ignores_output_only_ones(api) -> None:
    contact = api.create_contact(company="Engines")
    reply = api.patch(
        f"/api/v1/contacts/{contact['id']}",
        json={"company": None, "created_at": "2000-01-01T00:00:00Z", "id": "another-id"},
    )
    assert reply.status_code == 200, reply.text
    patched = reply.json()
    assert patched["company"] is None
    assert patched["created_at"] == contact["created_at"] and patched["id"] == contact["id"]


def test_patch_with_an_update_mask_changes_only_the_named_fields(api) -> None:
    contact = api.create_contact()
    reply = api.patch(
        f"/api/v1/contacts/{contact['id']}",
        params={"update_mask": "last_name"},
        json={"first_name": "Ignored", "last_name": "Byron"},
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["first_name"], reply.json()["last_name"]) == (contact["first_name"], "Byron")


def test_patch_refusals_name_the_field_as_the_client_sent_it(api) -> None:
    contact, other = api.create_contact(), api.create_contact()
    path = f"/api/v1/contacts/{contact['id']}"
    problem = api.assert_problem(api.patch(path, json={"first_name": "", "email": "nope"}), 422)
    assert {e["field"] for e in problem["errors"]} == {"first_name", "email"}
    api.assert_problem(api.patch(path, json={"email": other["email"].upper()}), 409)
    api.assert_problem(
        api.patch("/api/v1/contacts/00000000-0000-4000-8000-000000000000", json={"last_name": "X"}), 404
    )
    assert _contact(api, contact["id"]).json() == contact


def test_a_stale_if_match_is_412_and_changes_nothing(api) -> None:
    contact = api.create_contact()
    path = f"/api/v1/contacts/{contact['id']}"
    current = api.patch(path, json={"company": "Engines"}, headers={"If-Match": f'"{contact["etag"]}"'})
    assert current.status_code == 200, current.text
    stale = api.patch(path, json={"company": "Babbage & Co"}, headers={"If-Match": f'"{contact["etag"]}"'})
    problem = api.assert_problem(stale, 412)
    assert problem["type"] == "urn:crm:problem:precondition-failed" and problem["reason"] == "ETAG_MISMATCH"
    assert _contact(api, contact["id"]).json() == current.json()
    api.assert_problem(api.delete(path, headers={"If-Match": f'"{contact["etag"]}"'}), 412)
    assert _contact(api, contact["id"]).json()["archived_at"] is None


def test_if_match_forms_that_name_the_current_version_are_accepted(api) -> None:
    contact = api.create_contact()
    path = f"/api/v1/contacts/{contact['id']}"
    weak = api.patch(path, json={"last_name": "A"}, headers={"If-Match": f'W/"{contact["etag"]}"'})
    assert weak.status_code == 200, weak.text
    anything = api.patch(path, json={"last_name": "B"}, headers={"If-Match": "*"})
    assert anything.status_code == 200, anything.text


def test_eight_concurrent_patches_with_one_etag_let_exactly_one_through(gateway, api) -> None:
    contact = api.create_contact()
    token = api.http.headers["Authorization"].removeprefix("Bearer ")
    clients = [gateway.client(token) for _ in range(8)]
    try:
        replies = _concurrently(
            8,
            lambda i: clients[i].patch(
                f"/api/v1/contacts/{contact['id']}",
                json={"first_name": f"Writer{i}"},
                headers={"If-Match": f'"{contact["etag"]}"'},
            ),
        )
    finally:
        for client in clients:
            client.http.close()
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [412] * 7, [r.text for r in replies]
    [winner] = [r.json() for r in replies if r.status_code == 200]
    assert _contact(api, contact["id"]).json() == winner
    history = api.get(f"/api/v1/contacts/{contact['id']}/history").json()["items"]
    assert [entry["action"] for entry in history] == ["updated", "created"]


def test_delete_archives_the_contact_out_of_the_list(api) -> None:
    contact = api.create_contact()
    reply = api.delete(f"/api/v1/contacts/{contact['id']}", headers={"If-Match": f'"{contact["etag"]}"'})
    assert reply.status_code == 204, reply.text
    assert reply.content == b"" and "Content-Type" not in reply.headers
    archived = _contact(api, contact["id"]).json()  # archived contacts are still readable
    assert archived["archived_at"] and archived["archived_at"].endswith("Z")
    assert archived["etag"] != contact["etag"]
    assert _only(api, contact["email"]) == []
    listed = api.get("/api/v1/contacts", params={"limit": 200, "order_by": "created_at desc"}).json()["items"]
    assert contact["id"] not in {c["id"] for c in listed}
    again = api.delete(f"/api/v1/contacts/{contact['id']}")  # archiving an archived contact: still done
    assert again.status_code == 204
    api.assert_problem(api.delete("/api/v1/contacts/00000000-0000-4000-8000-000000000000"), 404)


def test_history_lists_every_change_newest_first(gateway, api) -> None:
    contact = api.create_contact(company="Engines")
    path = f"/api/v1/contacts/{contact['id']}"
    assert api.patch(path, json={"first_name": "Augusta", "company": None}).status_code == 200
    assert api.delete(path).status_code == 204
    reply = api.get(f"{path}/history")
    assert reply.status_code == 200, reply.text
    page = reply.json()
    api.assert_documented(page, "common.v1.ListHistoryResponse")
    entries = page["items"]
    assert [e["action"] for e in entries] == ["deleted", "updated", "created"]
    assert [e["occurred_at"] for e in entries] == sorted((e["occurred_at"] for e in entries), reverse=True)
    admin = jwt.decode(api.http.headers["Authorization"].split()[1], options={"verify_signature": False})
    assert {e["actor_id"] for e in entries} == {admin["sub"]}
    assert all(e["resource_id"] == contact["id"] and e["resource_type"] == "contact" for e in entries)
    assert entries[1]["changes"] == [
        {"field": "first_name", "old_value": "Ada", "new_value": "Augusta"},
        {"field": "company", "old_value": "Engines", "new_value": None},
    ]
    first = api.get(f"{path}/history", params={"limit": 1}).json()
    assert [e["id"] for e in first["items"]] == [entries[0]["id"]] and first["next_cursor"]
    rest = api.get(f"{path}/history", params={"limit": 5, "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in rest["items"]] == [e["id"] for e in entries[1:]] and rest["next_cursor"] is None


def test_list_filter_and_order_by_reach_the_service(api) -> None:
    surname = f"Filter{secrets.token_hex(4)}"
    made = [api.create_contact(first_name=name, last_name=surname) for name in ("Bea", "Al", "Cy")]
    reply = api.get(
        "/api/v1/contacts", params={"filter": f'last_name = "{surname}"', "order_by": "first_name desc"}
    )
    assert reply.status_code == 200, reply.text
    assert [c["first_name"] for c in reply.json()["items"]] == ["Cy", "Bea", "Al"]
    assert {c["id"] for c in reply.json()["items"]} == {c["id"] for c in made}
    for params, field in (({"filter": "last_name =="}, "filter"), ({"order_by": "shoe_size"}, "order_by")):
        problem = api.assert_problem(api.get("/api/v1/contacts", params=params), 400)
        assert [e["field"] for e in problem["errors"]] == [field]
