"""Bad input on every route is a 4xx problem+json, never a 500 (and never an HTML error page)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

VALID = {"first_name": "Ada", "last_name": "Lovelace", "email": "bad-input@example.com"}

BAD_CONTACT_BODIES: list[Any] = [
    {},
    {"first_name": "A", "last_name": "B"},
    {"first_name": 1, "last_name": ["B"], "email": {"x": 1}},
    {"first_name": None, "last_name": None, "email": None},
    {"first_name": True, "last_name": 1.5, "email": 10**30},
    {**VALID, "first_name": "   "},
    {**VALID, "first_name": "A" * 5000},
    {**VALID, "email": "x" * 300 + "@example.com"},
    {**VALID, "phone": 12345},
    {**VALID, "company": {"name": "Engines"}},
    {**VALID, "fist_name": "typo"},
    {**VALID, "email": "not-an-email"},
    {**VALID, "phone": "call me maybe"},
    {**VALID, "last_name": "nul\u0000byte"},
    {**VALID, "company": "line\nbreak"},
]
BAD_TOKEN_BODIES: list[Any] = [
    {},
    {"email": "a@b.co"},
    {"email": None, "password": 5},
    {"email": "", "password": ""},
]
NOT_OBJECTS = [b"[1,2]", b"null", b"42", b'"text"', b"true"]
NOT_JSON = [
    b'{"first_name": "\\ud800", "last_name": "B", "email": "a@b.co"}',
    b"{",
    b"\xff\xfe",
    b"{'single': 'quotes'}",
    b"\x00\x01",
    b"{}{}",
    b"NaN-ish",
    b"   ",
    b"",
]
WRONG_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
]
POST_ROUTES = ["/api/v1/contacts", "/api/v1/auth/token"]


def check(reply: Any, *allowed: int) -> dict[str, Any]:
    assert reply.status_code in allowed, (reply.status_code, reply.text[:300])
    assert reply.headers["Content-Type"].startswith("application/problem+json"), reply.headers["Content-Type"]
    body: dict[str, Any] = reply.json()
    assert body["status"] == reply.status_code
    assert "Traceback" not in reply.text
    return body


@pytest.mark.parametrize("body", BAD_CONTACT_BODIES, ids=range(len(BAD_CONTACT_BODIES)))
def test_invalid_contacts_are_422_naming_each_bad_field(api, body: Any) -> None:
    problem = check(api.post("/api/v1/contacts", json=body), 422)
    assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"])


def test_missing_fields_are_each_named(api) -> None:
    problem = check(api.post("/api/v1/contacts", json={}), 422)
    assert {e["field"] for e in problem["errors"]} == {"first_name", "last_name", "email"}


@pytest.mark.parametrize("body", BAD_TOKEN_BODIES, ids=range(len(BAD_TOKEN_BODIES)))
def test_invalid_token_requests_are_422(anonymous, body: Any) -> None:
    check(anonymous.post("/api/v1/auth/token", json=body), 422)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_bodies_that_are_not_json_objects_are_400(api, path: str) -> None:
    for raw in NOT_OBJECTS + NOT_JSON:
        check(api.post(path, data=raw, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_deeply_nested_json_is_400_not_a_recursion_error(api, path: str) -> None:
    raw = b"[" * 20_000 + b"]" * 20_000  # within the 64 KiB limit of the test gateway
    check(api.post(path, data=raw, headers={"Content-Type": "application/json"}), 400)
    nested = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    check(api.post(path, data=nested, headers={"Content-Type": "application/json"}), 400, 422)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_wrong_content_type_is_415(api, path: str) -> None:
    for content_type in WRONG_TYPES:
        check(api.post(path, data=json.dumps(VALID), headers={"Content-Type": content_type}), 415)
    check(api.post(path, data=json.dumps(VALID).encode()), 415)  # no Content-Type at all


@pytest.mark.parametrize("path", POST_ROUTES)
def test_body_over_the_limit_is_413(gateway, api, path: str) -> None:
    limit = gateway.settings.max_body_bytes
    raw = b'{"first_name": "' + b"x" * (limit + 1) + b'"}'
    check(api.post(path, data=raw, headers={"Content-Type": "application/json"}), 413)


def test_chunked_body_over_the_limit_is_413(gateway, api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"first_name": "'
        for _ in range(gateway.settings.max_body_bytes // 4096 + 2):
            yield b"x" * 4096
        yield b'"}'

    check(api.post("/api/v1/contacts", data=chunks(), headers={"Content-Type": "application/json"}), 413)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1",
        "limit=201",
        "limit=100000",
        "limit=0x10",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=99999999999999999999999",
        "cursor=",
        "cursor=abc",
        "cursor=%25%25%25",
        "cursor=" + "A" * 600,
        "cursor=eyJub3QiOiJhIGN1cnNvciJ9",
        "cursor=WyJub3QgYSBkYXRlIiwgIngiXQ",
        "cursor=%FF%FE",
        "cursor=%ED%A0%80",
        "limit=%FF",
    ],
)
def test_bad_limit_or_cursor_is_4xx(api, query: str) -> None:
    problem = check(api.get(f"/api/v1/contacts?{query}"), 400, 422)
    assert problem["errors"]
    assert problem["errors"][0]["field"] in {"limit", "cursor"}


@pytest.mark.parametrize(
    "contact_id",
    [
        "unknown",
        "%00",
        "a%20b",
        "%E2%98%83",
        "%FF",
        "%ED%A0%80",
        "x" * 1000,
        "..",
        "00000000-0000-4000-8000-000000000000",
    ],
)
def test_unknown_or_odd_ids_are_404(api, contact_id: str) -> None:
    check(api.get(f"/api/v1/contacts/{contact_id}"), 404)
    check(api.get(f"/api/v1/customers/{contact_id}/360"), 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/nothing-here", 404),
        ("GET", "/api/v2/contacts", 404),
        ("DELETE", "/api/v1/contacts", 405),
        ("PUT", "/api/v1/contacts/x", 405),
        ("GET", "/api/v1/auth/token", 405),
        ("POST", "/api/v1/customers/x/360", 405),
        ("POST", "/healthz", 405),
    ],
)
def test_unknown_routes_and_methods_are_problems(api, method: str, path: str, status: int) -> None:
    reply = api.request(method, path)
    check(reply, status)
    if status == 405:
        assert reply.headers["Allow"]


def test_an_unexpected_error_is_a_500_problem_without_internals(gateway, api, monkeypatch, caplog) -> None:
    import gateway.routes.contacts as routes

    def explode(*_: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(routes, "parse_query", explode)
    reply = api.get("/api/v1/contacts")
    problem = check(reply, 500)
    assert "secret" not in reply.text
    assert problem["trace_id"]
    [record] = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert "secret internal detail" in str(record.exc_info[1])
