"""A new RPC with an HTTP annotation is a working, documented REST endpoint with no gateway code.

The echo contract lives only under tests/ and is compiled at test time; nothing in gateway/ names it.
"""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from crm_platform.access.context import CallerContextCheck


def test_create_answers_201_with_location_and_natural_json(echo_gateway) -> None:
    http = echo_gateway.session()
    body = {
        "text": "call Ada",
        "colour": "yellow",
        "weight_micrograms": 2**40,
        "due_at": "2026-03-01T09:30:00+01:00",
        "tags": ["vip"],
        "board": "b1",
    }
    reply = http.post(f"{echo_gateway.url}/api/v1/notes", json=body, timeout=5)
    assert reply.status_code == 201, reply.text
    note = reply.json()
    assert reply.headers["Location"] == f"/api/v1/notes/{note['id']}"
    assert note["weight_micrograms"] == 2**40  # a JSON number, not a string
    assert note["colour"] == "yellow"  # not NOTE_COLOUR_YELLOW
    assert note["due_at"] == "2026-03-01T08:30:00Z"  # RFC 3339, UTC
    assert note["pinned"] is False
    got = http.get(f"{echo_gateway.url}{reply.headers['Location']}", timeout=5)
    assert got.status_code == 200 and got.json() == note


def test_custom_method_query_parameters_and_additional_bindings(echo_gateway) -> None:
    http = echo_gateway.session()
    created = [
        http.post(f"{echo_gateway.url}/api/v1/notes", json=n, timeout=5).json()
        for n in (
            {"text": "a", "colour": "blue", "board": "qb", "tags": ["x", "y"]},
            {"text": "b", "colour": "yellow", "board": "qb", "tags": ["x"]},
            {"text": "c", "board": "other"},
        )
    ]
    pinned = http.post(
        f"{echo_gateway.url}/api/v1/notes/{created[0]['id']}:pin", json={"reason": "hot"}, timeout=5
    )
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True

    by_query = http.get(
        f"{echo_gateway.url}/api/v1/notes", params={"board": "qb", "tags": ["x", "y"], "limit": 5}, timeout=5
    )
    assert [n["text"] for n in by_query.json()["items"]] == ["a"]
    by_path = http.get(f"{echo_gateway.url}/api/v1/boards/qb/notes", params={"colour": "yellow"}, timeout=5)
    assert [n["text"] for n in by_path.json()["items"]] == ["b"]
    assert by_path.json()["items"][0]["colour"] == "yellow"


def _problem(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    return body


def test_contract_rules_are_enforced_by_the_service(echo_gateway) -> None:
    http = echo_gateway.session()
    problem = _problem(http.post(f"{echo_gateway.url}/api/v1/notes", json={"text": "x" * 21}, timeout=5), 422)
    assert [e["field"] for e in problem["errors"]] == ["text"]  # relative to the body, not `note.text`
    problem = _problem(http.get(f"{echo_gateway.url}/api/v1/notes", params={"limit": 11}, timeout=5), 400)
    assert [e["field"] for e in problem["errors"]] == ["limit"]


def test_bad_input_is_refused_by_the_gateway_naming_the_field(echo_gateway) -> None:
    http = echo_gateway.session()
    problem = _problem(http.post(f"{echo_gateway.url}/api/v1/notes", json={"txt": "typo"}, timeout=5), 400)
    assert problem["errors"] == [{"field": "txt", "message": "is not a field of this request"}]
    problem = _problem(
        http.post(f"{echo_gateway.url}/api/v1/notes", json={"colour": "purple"}, timeout=5), 422
    )
    assert problem["errors"][0]["field"] == "colour" and "yellow" in problem["errors"][0]["message"]
    problem = _problem(
        http.post(f"{echo_gateway.url}/api/v1/notes", json={"weight_micrograms": "12"}, timeout=5), 422
    )
    assert problem["errors"][0]["field"] == "weight_micrograms"
    problem = _problem(http.get(f"{echo_gateway.url}/api/v1/notes", params={"colur": "blue"}, timeout=5), 400)
    assert problem["errors"][0]["field"] == "colur"
    _problem(http.get(f"{echo_gateway.url}/api/v1/notes/nope", timeout=5), 404)
    _problem(echo_gateway.session(token=None).get(f"{echo_gateway.url}/api/v1/notes", timeout=5), 401)


def test_the_caller_and_the_idempotency_key_reach_the_service(echo_gateway) -> None:
    http = echo_gateway.session()
    reply = http.post(
        f"{echo_gateway.url}/api/v1/notes",
        json={"text": "keyed"},
        headers={"Idempotency-Key": "k-1"},
        timeout=5,
    )
    assert reply.status_code == 201
    metadata = echo_gateway.echo.seen_metadata[-1]
    assert metadata["idempotency-key"] == "k-1"
    # The caller arrives as the context the gateway signed, which the service verified.
    assert CallerContextCheck().caller_from(list(metadata.items())).roles == ("admin",)


def test_the_new_endpoints_are_documented_from_the_contract(echo_gateway) -> None:
    document = (
        echo_gateway.session(token=None).get(f"{echo_gateway.url}/api/v1/openapi.json", timeout=5).json()
    )
    validate(document)
    create = document["paths"]["/api/v1/notes"]["post"]
    assert create["tags"] == ["echo"]
    assert create["description"].startswith("Stores a note.")
    assert {"201", "400", "401", "422"} <= set(create["responses"])
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["text"]["maxLength"] == 20
    assert body["properties"]["colour"]["enum"] == ["yellow", "blue", None]
    assert body["additionalProperties"] is False
    assert "/api/v1/notes/{id}:pin" in document["paths"]
    assert "/api/v1/boards/{board}/notes" in document["paths"]
    search = {p["name"]: p for p in document["paths"]["/api/v1/notes"]["get"]["parameters"] if "name" in p}
    assert search["limit"]["schema"]["maximum"] == 10
    note = document["components"]["schemas"]["echo.v1.Note"]
    assert note["properties"]["weight_micrograms"]["type"] == "integer"
    assert note["description"] == "A note on a board."


def test_a_raw_body_rpc_is_served_as_it_is_at_a_path_with_an_extension(echo_gateway) -> None:
    """An RPC answering google.api.HttpBody is served raw with its content type, at `{id}.txt` beside
    `{id}`, and documented with the media type its extension names."""
    http = echo_gateway.session()
    note = http.post(f"{echo_gateway.url}/api/v1/notes", json={"text": "card", "tags": ["a", "b"]}, timeout=5)
    note_id = note.json()["id"]
    printed = http.get(f"{echo_gateway.url}/api/v1/notes/{note_id}.txt", params={"width": 8}, timeout=5)
    assert printed.status_code == 200, printed.text
    assert printed.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert printed.content == b"  card  \n#a #b\n"
    assert "ETag" not in printed.headers
    # The record itself is still at {id}: the extension routes to the rendering, not into the id.
    assert http.get(f"{echo_gateway.url}/api/v1/notes/{note_id}", timeout=5).json()["id"] == note_id
    _problem(http.get(f"{echo_gateway.url}/api/v1/notes/nope.txt", timeout=5), 404)
    _problem(http.get(f"{echo_gateway.url}/api/v1/notes/{note_id}.txt?width=81", timeout=5), 400)

    document = (
        echo_gateway.session(token=None).get(f"{echo_gateway.url}/api/v1/openapi.json", timeout=5).json()
    )
    validate(document)
    operation = document["paths"]["/api/v1/notes/{id}.txt"]["get"]
    assert operation["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string", "format": "binary"}}
    }
    assert [p["name"] for p in operation["parameters"] if "name" in p] == ["id", "width"]
