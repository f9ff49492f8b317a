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
    {**VALID, "email": "not-an-email"},
    {**VALID, "phone": "call me maybe"},
    {**VALID, "last_name": "nul\u0000byte"},
]
# A field the contract does not have: a 400 naming it, whatever else is wrong with the body.
UNKNOWN_FIELD_BODIES: list[tuple[Any, list[str]]] = [
    ({**VALID, "fist_name": "typo"}, ["fist_name"]),
    ({"first_name": 1, "nickname": "x", "extra": {"deep": 1}}, ["nickname", "extra"]),
    ({**VALID, "created_at": "2026-01-01T00:00:00Z"}, ["created_at"]),
    ({"": 1}, [""]),
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
# (method, path) of every route that reads a JSON body: hand-written and transcoded from the contract.
BODY_ROUTES = [
    ("POST", "/api/v1/contacts"),
    ("PATCH", "/api/v1/contacts/some-id"),
    ("POST", "/api/v1/auth/token"),
]


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


def test_wrong_json_types_are_422_naming_each_field(api) -> None:
    problem = check(
        api.post("/api/v1/contacts", json={"first_name": 1, "last_name": ["B"], "email": {}}), 422
    )
    assert {e["field"]: e["message"] for e in problem["errors"]} == {
        "first_name": "must be a string",
        "last_name": "must be a string",
        "email": "must be a string",
    }


@pytest.mark.parametrize(("body", "named"), UNKNOWN_FIELD_BODIES, ids=range(len(UNKNOWN_FIELD_BODIES)))
def test_unknown_fields_are_400_naming_them(api, body: Any, named: list[str]) -> None:
    problem = check(api.post("/api/v1/contacts", json=body), 400)
    assert [e["field"] for e in problem["errors"]] == named


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"first_name": "A", "fist_name": "typo"}, ["fist_name"]),
        ({"first_name": "A", "update_mask": "first_name"}, ["update_mask"]),  # a query parameter here
        ({"contact": {"first_name": "A"}}, ["contact"]),  # the body *is* the contact
    ],
)
def test_unknown_fields_in_a_patch_are_400_naming_them(api, body: Any, named: list[str]) -> None:
    problem = check(api.patch("/api/v1/contacts/some-id", json=body), 400)
    assert [e["field"] for e in problem["errors"]] == named


@pytest.mark.parametrize(
    "query",
    ["bogus=1", "limit=5&Limit=5", "first_name=Ada", "items=1", "next_cursor=x", "limit=1&limit=2"],
)
def test_unknown_or_repeated_query_parameters_are_400_naming_them(api, query: str) -> None:
    problem = check(api.get(f"/api/v1/contacts?{query}"), 400)
    assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"])
    assert {e["field"] for e in problem["errors"]} <= {
        "bogus",
        "Limit",
        "first_name",
        "items",
        "next_cursor",
        "limit",
    }


def test_query_parameters_on_a_body_route_are_400(api) -> None:
    problem = check(api.post("/api/v1/contacts?email=a@b.co", json=VALID), 400)
    assert [e["field"] for e in problem["errors"]] == ["email"]


def test_if_match_on_a_route_without_an_etag_is_400(api) -> None:
    check(api.post("/api/v1/contacts", json=VALID, headers={"If-Match": '"abc"'}), 400)


def test_a_patch_that_names_no_field_is_422(api) -> None:
    problem = check(api.patch("/api/v1/contacts/some-id", json={}), 422)
    assert [e["field"] for e in problem["errors"]] == ["(body)"]


@pytest.mark.parametrize("body", BAD_TOKEN_BODIES, ids=range(len(BAD_TOKEN_BODIES)))
def test_invalid_token_requests_are_422(anonymous, body: Any) -> None:
    check(anonymous.post("/api/v1/auth/token", json=body), 422)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_bodies_that_are_not_json_objects_are_400(api, method: str, path: str) -> None:
    for raw in NOT_OBJECTS + NOT_JSON:
        check(api.request(method, path, data=raw, headers=JSON), 400)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deeply_nested_json_is_4xx_not_a_recursion_error(api, method: str, path: str) -> None:
    raw = b"[" * 20_000 + b"]" * 20_000  # within the 64 KiB limit of the test gateway
    check(api.request(method, path, data=raw, headers=JSON), 400)
    nested = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    check(api.request(method, path, data=nested, headers=JSON), 400, 422)
    shallow_enough = b'{"company":' * 500 + b"1" + b"}" * 500  # parses; the contract says no
    check(api.request(method, path, data=shallow_enough, headers=JSON), 422)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_wrong_content_type_is_415(api, method: str, path: str) -> None:
    for content_type in WRONG_TYPES:
        check(api.request(method, path, data=json.dumps(VALID), headers={"Content-Type": content_type}), 415)
    check(api.request(method, path, data=json.dumps(VALID).encode()), 415)  # no Content-Type at all


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_body_over_the_limit_is_413(gateway, api, method: str, path: str) -> None:
    limit = gateway.settings.max_body_bytes
    raw = b'{"first_name": "' + b"x" * (limit + 1) + b'"}'
    check(api.request(method, path, data=raw, headers=JSON), 413)


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
        "limit=-1",
        "limit=201",
        "limit=100000",
        "limit=0x10",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=99999999999999999999999",
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
def test_bad_limit_or_cursor_is_400_naming_it(api, query: str) -> None:
    # They address the page rather than describe a resource: 400, whether the gateway or the service says so.
    problem = check(api.get(f"/api/v1/contacts?{query}"), 400)
    assert problem["errors"]
    assert {e["field"] for e in problem["errors"]} == {query.split("=")[0]}


@pytest.mark.parametrize("query", ["limit=0", "cursor=", "limit=200", "limit=1&cursor="])
def test_zero_limit_and_empty_cursor_mean_the_defaults(api, query: str) -> None:
    reply = api.get(f"/api/v1/contacts?{query}")
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    "contact_id",
    ["unknown", "a%20b", "%E2%98%83", "%FF", "%ED%A0%80", "..", "00000000-0000-4000-8000-000000000000"],
)
def test_unknown_or_odd_ids_are_404(api, contact_id: str) -> None:
    check(api.get(f"/api/v1/contacts/{contact_id}"), 404)
    check(api.get(f"/api/v1/contacts/{contact_id}/history"), 404)
    check(api.patch(f"/api/v1/contacts/{contact_id}", json={"last_name": "X"}), 404)
    check(api.delete(f"/api/v1/contacts/{contact_id}"), 404)
    check(api.get(f"/api/v1/customers/{contact_id}/360"), 404)


@pytest.mark.parametrize("contact_id", ["%00", "x" * 65, "x" * 1000])
def test_ids_no_contact_can_have_are_400_naming_the_path_parameter(api, contact_id: str) -> None:
    # The contract says what an id can be (no NUL, at most 64 characters): such a path names nothing.
    for path in (f"/api/v1/contacts/{contact_id}", f"/api/v1/contacts/{contact_id}/history"):
        problem = check(api.get(path), 400)
        assert [e["field"] for e in problem["errors"]] == ["id"], path
    check(api.get(f"/api/v1/customers/{contact_id}/360"), 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/nothing-here", 404),
        ("GET", "/api/v2/contacts", 404),
        ("DELETE", "/api/v1/contacts", 405),
        ("PATCH", "/api/v1/contacts", 405),
        ("PUT", "/api/v1/contacts/x", 405),
        ("POST", "/api/v1/contacts/x", 405),
        ("POST", "/api/v1/contacts/x/history", 405),
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


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/contacts/x:merge", {"POST", "OPTIONS"}),
        ("/api/v1/companies/x:merge", {"POST", "OPTIONS"}),
        ("/api/v1/contacts/x:exportData", {"GET", "HEAD", "OPTIONS"}),
        ("/api/v1/users/x:deactivate", {"POST", "OPTIONS"}),
        ("/api/v1/quotes/x.pdf", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_custom_methods_path_is_not_its_resources(api, path: str, allowed: set[str]) -> None:
    """`/contacts/{id}` must not also match `/contacts/x:merge` (as id "x:merge"), nor `/quotes/{id}`
    `/quotes/x.pdf`: such a path allows only its own methods, in a 405's Allow header and in OPTIONS
    (schemathesis ST205)."""
    wrong = "DELETE"
    reply = api.request(wrong, path)
    check(reply, 405)
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == allowed
    options = api.request("OPTIONS", path)
    assert set(options.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_an_unexpected_error_is_a_500_problem_without_internals(gateway, api, monkeypatch, caplog) -> None:
    import gateway.transcoding.views as views

    def explode(*_: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(views, "build_request", explode)
    reply = api.get("/api/v1/contacts")
    problem = check(reply, 500)
    assert "secret" not in reply.text
    assert problem["trace_id"]
    [record] = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert "secret internal detail" in str(record.exc_info[1])
