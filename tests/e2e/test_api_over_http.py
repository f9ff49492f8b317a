"""The real gateway under gunicorn, in front of the real services: authentication and bad input never yield a
500, and the routes transcoded from the contracts behave as documented."""

from __future__ import annotations

import secrets

import pytest
from crm_devrun.client import GatewayClient

PROBLEM = "application/problem+json"


def assert_problem(reply, status: int) -> dict:
    assert reply.status == status, reply.body[:300]
    assert reply.headers["content-type"].startswith(PROBLEM)
    body = reply.json()
    assert body["status"] == status and body["title"]
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/contacts"),
        ("POST", "/api/v1/contacts"),
        ("GET", "/api/v1/contacts/x"),
        ("PATCH", "/api/v1/contacts/x"),
        ("DELETE", "/api/v1/contacts/x"),
        ("GET", "/api/v1/contacts/x/history"),
        ("GET", "/api/v1/customers/x/360"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.jwt", "Basic YTpi"])
def test_routes_require_a_valid_token(platform, method: str, path: str, authorization: str | None) -> None:
    client = GatewayClient(platform.config.gateway_url)
    headers = {"Authorization": authorization} if authorization else {}
    assert_problem(client.request(method, path, headers=headers), 401)


def test_wrong_password_is_401(platform) -> None:
    client = GatewayClient(platform.config.gateway_url)
    reply = client.request("POST", "/api/v1/auth/token", {"email": "admin@example.com", "password": "nope"})
    assert_problem(reply, 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"first_name": "A", "last_name": "B"},
        {"first_name": 1, "last_name": ["B"], "email": {"x": 1}},
        {"first_name": "A", "last_name": "B", "email": "not-an-email"},
        {"first_name": "A" * 5000, "last_name": "B", "email": "a@b.co"},
    ],
)
def test_invalid_contacts_are_422_naming_fields(api: GatewayClient, body: dict) -> None:
    problem = assert_problem(api.request("POST", "/api/v1/contacts", body), 422)
    assert problem["errors"] and all("field" in e for e in problem["errors"])


@pytest.mark.parametrize(
    ("method", "path", "body", "named"),
    [
        (
            "POST",
            "/api/v1/contacts",
            {"first_name": "A", "last_name": "B", "email": "a@b.co", "nick": "x"},
            "nick",
        ),
        ("PATCH", "/api/v1/contacts/x", {"first_name": "A", "fist_name": "B"}, "fist_name"),
        ("GET", "/api/v1/contacts?colour=blue", None, "colour"),
    ],
)
def test_unknown_fields_and_parameters_are_400_naming_them(
    api: GatewayClient, method: str, path: str, body: dict | None, named: str
) -> None:
    problem = assert_problem(api.request(method, path, body), 400)
    assert [e["field"] for e in problem["errors"]] == [named]


@pytest.mark.parametrize("raw", [b"{", b"[1,2]", b"null", b"\xff\xfe"])
def test_malformed_json_is_400(api: GatewayClient, raw: bytes) -> None:
    reply = api.request("POST", "/api/v1/contacts", raw=raw, headers={"Content-Type": "application/json"})
    assert_problem(reply, 400)


def test_huge_body_is_413(api: GatewayClient) -> None:
    raw = b'{"first_name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    reply = api.request("POST", "/api/v1/contacts", raw=raw, headers={"Content-Type": "application/json"})
    assert_problem(reply, 413)
    api.close()


def test_duplicate_email_is_409(api: GatewayClient) -> None:
    fields = {"first_name": "Alan", "last_name": "Turing", "email": "alan.dup@example.com"}
    first = api.request("POST", "/api/v1/contacts", fields)
    assert first.status in (201, 409)
    assert_problem(api.request("POST", "/api/v1/contacts", {**fields, "email": "ALAN.DUP@example.com"}), 409)


@pytest.mark.parametrize("query", ["limit=0x10", "limit=-1", "limit=100000", "cursor=%%%", "cursor=abc"])
def test_bad_pagination_is_4xx(api: GatewayClient, query: str) -> None:
    reply = api.request("GET", f"/api/v1/contacts?{query}")
    assert 400 <= reply.status < 500
    assert reply.headers["content-type"].startswith(PROBLEM)


def test_unknown_ids_and_routes_are_404(api: GatewayClient) -> None:
    assert_problem(api.request("GET", "/api/v1/contacts/does-not-exist"), 404)
    assert_problem(api.request("GET", "/api/v1/nothing-here"), 404)


def test_pagination_walks_every_contact_once(api: GatewayClient) -> None:
    created = {
        api.create_contact(first_name="P", last_name=str(i), email=f"page{i}-{id(api)}@example.com")["id"]
        for i in range(5)
    }
    seen: list[str] = []
    cursor = None
    while True:
        path = "/api/v1/contacts?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.request("GET", path).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))


def test_openapi_and_docs_are_served(platform) -> None:
    client = GatewayClient(platform.config.gateway_url)
    spec = client.request("GET", "/api/v1/openapi.json")
    assert spec.status == 200 and spec.json()["openapi"].startswith("3.1")
    docs = client.request("GET", "/docs")
    assert docs.status == 200 and b"<html" in docs.body.lower()


def test_a_contacts_life_over_http(api: GatewayClient) -> None:
    """Create (retried with its Idempotency-Key), update under If-Match, archive, read the history."""
    email = f"life-{secrets.token_hex(4)}@example.com"
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": email}
    key = {"Idempotency-Key": secrets.token_hex(8)}
    created = api.request("POST", "/api/v1/contacts", body, headers=key)
    retried = api.request("POST", "/api/v1/contacts", body, headers=key)
    assert created.status == retried.status == 201, created.body[:300]
    assert retried.body == created.body and retried.headers["idempotent-replayed"] == "true"
    contact = created.json()
    path = created.headers["location"]
    assert path == f"/api/v1/contacts/{contact['id']}"
    etag = created.headers["etag"]
    assert etag == f'"{contact["etag"]}"'

    updated = api.request("PATCH", path, {"company": "Engines"}, headers={"If-Match": etag})
    assert updated.status == 200, updated.body[:300]
    assert updated.json()["company"] == "Engines" and updated.json()["first_name"] == "Ada"
    assert updated.headers["etag"] != etag
    stale = assert_problem(api.request("PATCH", path, {"company": "Other"}, headers={"If-Match": etag}), 412)
    assert stale["reason"] == "ETAG_MISMATCH"

    archived = api.request("DELETE", path, headers={"If-Match": updated.headers["etag"]})
    assert archived.status == 204 and archived.body == b""
    assert api.request("GET", path).json()["archived_at"]
    history = api.request("GET", f"{path}/history").json()["items"]
    assert [entry["action"] for entry in history] == ["deleted", "updated", "created"]
