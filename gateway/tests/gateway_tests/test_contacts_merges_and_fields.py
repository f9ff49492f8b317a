"""Contacts and companies through the real gateway over HTTP, in front of the real services: a request
with bad built-in and bad custom fields is one 422 naming them all (create and update, contacts and
companies); writes to a merged contact are a 409 naming the survivor (`moved_to`) while reads under it
are 308s; and what a careless or hostile client may send a merge (itself, a tombstone, a stranger,
unknown fields, ids no record has) is a 4xx problem that changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest


def _fields(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors") or []}


@pytest.fixture
def definitions(api) -> Iterator[dict[str, str]]:
    """A single-choice custom field on contacts and a number one on companies (uniquely named, since the
    gateway tests share their services), deleted again afterwards."""
    run = secrets.token_hex(3)
    made = {}
    for resource, name, extra in (
        ("contacts", f"tier_{run}", {"type": "single_choice", "choices": ["gold", "silver"]}),
        ("companies", f"score_{run}", {"type": "number"}),
    ):
        body = {"resource": resource, "name": name, "label": name, **extra}
        reply = api.post("/api/v1/custom-fields", json=body)
        assert reply.status_code == 201, reply.text[:300]
        made[resource] = reply.json()
    yield {resource: field["name"] for resource, field in made.items()}
    for field in made.values():
        assert api.delete(f"/api/v1/custom-fields/{field['id']}").status_code == 204


def test_bad_built_in_and_custom_fields_are_one_422_naming_them_all(api, definitions) -> None:
    tier, score = definitions["contacts"], definitions["companies"]
    body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "not an email",
        "phone": "+1 555",
        "custom_fields": {tier: "platinum", "nope": 1},
    }
    problem = api.assert_problem(api.post("/api/v1/contacts", json=body), 422)
    assert _fields(problem) == {"email", "phone", f"custom_fields.{tier}", "custom_fields.nope"}, problem
    contact = api.create_contact(custom_fields={tier: "gold"})
    patch = {"email": "x@", "custom_fields": {tier: "bronze"}}
    problem = api.assert_problem(api.patch(f"/api/v1/contacts/{contact['id']}", json=patch), 422)
    assert _fields(problem) == {"email", f"custom_fields.{tier}"}, problem
    assert api.get(f"/api/v1/contacts/{contact['id']}").json()["custom_fields"] == {tier: "gold"}

    company = {"name": "", "domain": "not a domain", "custom_fields": {score: "high"}}
    problem = api.assert_problem(api.post("/api/v1/companies", json=company), 422)
    assert _fields(problem) == {"name", "domain", f"custom_fields.{score}"}, problem
    made = api.post("/api/v1/companies", json={"name": f"Acme {secrets.token_hex(3)}"})
    assert made.status_code == 201, made.text[:300]
    patch = {"name": "x" * 201, "custom_fields": {score: [1]}}
    problem = api.assert_problem(api.patch(f"/api/v1/companies/{made.json()['id']}", json=patch), 422)
    assert _fields(problem) == {"name", f"custom_fields.{score}"}, problem
    api.patch(f"/api/v1/contacts/{contact['id']}", json={"custom_fields": {tier: None}})


def test_writes_to_a_merged_contact_are_409_naming_the_survivor_and_reads_are_308(api) -> None:
    survivor, loser = api.create_contact(), api.create_contact()
    reply = api.post(f"/api/v1/contacts/{survivor['id']}:merge", json={"source_ids": [loser["id"]]})
    assert reply.status_code == 200, reply.text[:300]
    gone = f"/api/v1/contacts/{loser['id']}"
    writes = [
        ("POST", f"{gone}/interactions", {"kind": "call", "subject": "after the merge"}),
        ("PATCH", gone, {"job_title": "Engineer"}),
        ("POST", f"{gone}:erase", {}),
        ("DELETE", gone, None),
    ]
    for method, path, body in writes:
        problem = api.assert_problem(api.request(method, path, json=body), 409)
        assert problem["reason"] == "MERGED", problem
        assert problem["moved_to"] == {"type": "contact", "id": survivor["id"]}, problem
    moved = api.get(f"{gone}/interactions", allow_redirects=False)
    assert moved.status_code == 308, moved.text[:300]
    assert moved.headers["Location"] == f"/api/v1/contacts/{survivor['id']}/interactions"


@pytest.mark.parametrize(
    "body, status",
    [
        ({"source_ids": []}, 422),
        ({"source_ids": ["SELF"]}, 422),
        ({"source_ids": ["no-such-contact"]}, 404),
        ({"source_ids": ["a" * 65]}, 422),
        ({"source_ids": ["x"] * 21}, 422),
        ({"source_ids": "not a list"}, 422),
        ({"source_ids": [{"id": 1}]}, 422),
        ({"source_ids": ["\U0001f984\u0000"]}, 422),
        ({"source_ids": ["OTHER"], "field_choices": {"owner_id": "OTHER"}}, 422),
        ({"source_ids": ["OTHER"], "field_choices": {"no_such_field": "OTHER"}}, 422),
        ({"source_ids": ["OTHER"], "field_choices": {"email": "someone-else"}}, 422),
        ({"source_ids": ["OTHER"], "field_choices": {"email": 5}}, 422),
        ({"source_ids": ["OTHER"], "unknown": True}, 400),
    ],
)
def test_bad_merges_are_4xx_problems_that_change_nothing(api, body: dict[str, Any], status: int) -> None:
    me, other = api.create_contact(), api.create_contact()
    ids = {"SELF": me["id"], "OTHER": other["id"]}

    def named(value: Any) -> Any:
        if isinstance(value, list):
            return [named(item) for item in value]
        if isinstance(value, dict):
            return {key: named(item) for key, item in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    reply = api.post(f"/api/v1/contacts/{me['id']}:merge", json=named(body))
    api.assert_problem(reply, status)
    for contact in (me, other):
        assert api.get(f"/api/v1/contacts/{contact['id']}").json()["etag"] == contact["etag"]


def test_merging_with_a_tombstone_or_erasing_one_is_refused(api) -> None:
    survivor, loser, third = api.create_contact(), api.create_contact(), api.create_contact()
    assert api.post(f"/api/v1/contacts/{survivor['id']}:merge", json={"source_ids": [loser["id"]]}).ok
    again = api.post(f"/api/v1/contacts/{third['id']}:merge", json={"source_ids": [loser["id"]]})
    assert api.assert_problem(again, 409)["detail"]
    into = api.post(f"/api/v1/contacts/{loser['id']}:merge", json={"source_ids": [third["id"]]})
    api.assert_problem(into, 409)
    assert api.get(f"/api/v1/contacts/{third['id']}").json()["etag"] == third["etag"]
