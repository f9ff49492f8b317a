"""The people profile through the real gateway over HTTP, in front of the real contacts service: the whole
profile round-trips through POST, GET, list and PATCH (a list replaced whole, `email`/`phone` and their
lists kept in step), phones come back in E.164 beside their international format, each invalid value is
a problem naming its field (422, the platform's status for field errors), a secondary email is taken
within its book (409 naming the holder only to who may read it), history records the changes, lists
filter and order by the segmentation fields, and the OpenAPI document describes the new fields; custom
fields are defined, written, refused, filtered and documented the same way."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "people-profile-e2e-password-1"
PROBLEM = "application/problem+json"


@dataclass
class Cast:
    admin: GatewayClient
    rep_a: GatewayClient
    rep_b: GatewayClient
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:600])
    return reply.json() if reply.body else None


def _problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body[:600])
    assert reply.headers["content-type"].startswith(PROBLEM)
    return reply.json()


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    admin = platform.client()
    run = secrets.token_hex(4)
    teams = {
        t: _ok(admin.request("POST", "/api/v1/teams", {"name": f"PP{t}-{run}"}), 201)["id"] for t in "AB"
    }
    clients = {}
    for name, team in (("rep_a", teams["A"]), ("rep_b", teams["B"])):
        email = f"people-{name.replace('_', '-')}-{run}@example.com"
        body = {
            "email": email,
            "name": name,
            "password": PASSWORD,
            "roles": ["sales_rep"],
            "team_ids": [team],
        }
        _ok(admin.request("POST", "/api/v1/users", body), 201)
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[name] = client
    yield Cast(admin, clients["rep_a"], clients["rep_b"], run)
    for client in (admin, *clients.values()):
        client.close()


def _profile(run: str) -> dict[str, Any]:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"Ada-{run}@Example.com",
        "emails": [
            {"address": f"ada-{run}@example.com", "label": "work", "primary": True},
            {"address": f"ada-{run}@home.example", "label": "home"},
        ],
        "phones": [
            {"number": "+44 20 7946 0000", "label": "work", "primary": True},
            {"number": "(202) 555-0125", "label": "mobile"},
        ],
        "addresses": [
            {"street": "12 St James's Square", "city": "London", "postal_code": "sw1y 4jh", "country": "gb"}
        ],
        "social_profiles": [{"network": "LinkedIn", "url": "https://www.linkedin.com/in/ada"}],
        "job_title": "Analyst",
        "preferred_channel": "email",
        "preferred_contact_time": "weekday mornings",
        "language": "en-gb",
        "time_zone": "Europe/London",
        "lead_source": "referral",
        "industry": f"Computing-{run}",
        "occupation": "Mathematician",
        "birth_date": "1815-12-10",
        "region": "Greater London",
        "country": "GB",
        "city": "London",
        "important_dates": [{"kind": "anniversary", "date": "1835-07-08", "label": "Wedding"}],
        "hobbies": ["horse riding"],
        "interests": ["mathematics"],
        "memberships": [{"name": "Royal Society", "kind": "association", "since": "1840-01-01"}],
        "tags": ["VIP", "vip", "Engines"],
        "notes": "Writes the first program.\nLikes poetry.",
    }


def test_the_whole_profile_through_the_gateway(cast: Cast) -> None:
    rep, run = cast.rep_a, cast.run
    created = rep.request("POST", "/api/v1/contacts", _profile(run))
    contact = _ok(created, 201)
    path = created.headers["location"]
    assert contact["email"] == f"ada-{run}@example.com" and contact["phone"] == "+442079460000"
    assert contact["emails"] == [
        {"address": f"ada-{run}@example.com", "label": "work", "primary": True},
        {"address": f"ada-{run}@home.example", "label": "home", "primary": False},
    ]
    assert contact["phones"] == [
        {"number": "+442079460000", "formatted": "+44 20 7946 0000", "label": "work", "primary": True},
        {"number": "+12025550125", "formatted": "+1 202-555-0125", "label": "mobile", "primary": False},
    ]
    assert contact["addresses"] == [
        {
            "street": "12 St James's Square",
            "city": "London",
            "region": None,
            "postal_code": "SW1Y 4JH",
            "country": "GB",
            "label": None,
            "primary": True,
        }
    ]
    assert contact["social_profiles"] == [
        {"network": "linkedin", "handle": None, "url": "https://www.linkedin.com/in/ada"}
    ]
    assert (contact["language"], contact["time_zone"], contact["country"]) == ("en-GB", "Europe/London", "GB")
    assert contact["tags"] == ["vip", "engines"] and contact["preferred_channel"] == "email"
    assert contact["important_dates"] == [{"kind": "anniversary", "date": "1835-07-08", "label": "Wedding"}]
    assert contact["memberships"] == [
        {"name": "Royal Society", "kind": "association", "member_number": None, "since": "1840-01-01"}
    ]
    assert contact["notes"] == "Writes the first program.\nLikes poetry."
    assert _ok(rep.request("GET", path)) == contact

    # PATCH: a list replaced whole; `phone` replaces the primary number; other fields keep their values.
    patched = _ok(
        rep.request(
            "PATCH",
            path,
            {"tags": ["gold"], "phone": "+49 30 1234567", "time_zone": "america/new_york"},
            headers={"If-Match": f'"{contact["etag"]}"'},
        )
    )
    assert patched["tags"] == ["gold"] and patched["time_zone"] == "America/New_York"
    assert patched["phone"] == "+49301234567"
    assert [p["number"] for p in patched["phones"]] == ["+49301234567", "+12025550125"]
    assert patched["emails"] == contact["emails"] and patched["hobbies"] == ["horse riding"]
    # A GET-modify-PATCH round trip of the whole profile: the list's new primary email wins.
    body = {
        k: v for k, v in patched.items() if k not in {"id", "etag", "created_at", "updated_at", "archived_at"}
    }
    body["emails"] = [
        {"address": f"ada-{run}@example.com", "label": "work"},
        {"address": f"ada-{run}@home.example", "label": "home", "primary": True},
    ]
    swapped = _ok(rep.request("PATCH", path, body, headers={"If-Match": f'"{patched["etag"]}"'}))
    assert swapped["email"] == f"ada-{run}@home.example"
    assert [e["address"] for e in swapped["emails"]] == [f"ada-{run}@home.example", f"ada-{run}@example.com"]
    assert swapped["phones"] == patched["phones"]  # sent back with their formatted forms: unchanged

    history = _ok(rep.request("GET", f"{path}/history"))["items"]
    changes = [{c["field"]: (c["old_value"], c["new_value"]) for c in entry["changes"]} for entry in history]
    assert changes[0]["email"] == (f"ada-{run}@example.com", f"ada-{run}@home.example")
    assert changes[1]["tags"] == (["vip", "engines"], ["gold"])
    assert changes[1]["time_zone"] == ("Europe/London", "America/New_York")
    assert changes[2]["notes"] == (None, "Writes the first program.\nLikes poetry.")

    # Lists filter and order by the segmentation fields.
    industry = quote(f'industry = "Computing-{run}" AND country = "GB" AND preferred_channel = "email"')
    listed = _ok(rep.request("GET", f"/api/v1/contacts?filter={industry}&order_by=country%20desc,city"))
    assert [c["id"] for c in listed["items"]] == [contact["id"]]
    by_tag = quote('tags = "gold"')
    bad = _problem(rep.request("GET", f"/api/v1/contacts?filter={by_tag}"), 400)
    assert bad["errors"][0]["field"] == "filter"


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phones": [{"number": "+12025550125"}, {"number": "555"}]}, "phones[1].number"),
        ({"phone": "123"}, "phone"),
        ({"addresses": [{"city": "Berlin", "country": "XX"}]}, "addresses[0].country"),
        ({"country": "ZZ"}, "country"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"language": "en-US-US"}, "language"),
        ({"birth_date": TOMORROW}, "birth_date"),
        ({"birth_date": "2021-02-30"}, "birth_date"),
        ({"important_dates": [{"kind": "birthday", "date": "2021-13-01"}]}, "important_dates[0].date"),
        ({"memberships": [{"name": "Club", "since": TOMORROW}]}, "memberships[0].since"),
        (
            {
                "emails": [
                    {"address": "a@example.com", "primary": True},
                    {"address": "b@example.com", "primary": True},
                ]
            },
            "emails[1].primary",
        ),
        ({"social_profiles": [{"network": "x"}]}, "social_profiles[0].handle"),
    ],
)
def test_an_invalid_value_is_a_problem_naming_the_field(
    cast: Cast, fields: dict[str, Any], field: str
) -> None:
    """The platform's convention for a field a service refuses (gateway/gateway/rpc_errors.py): 422 with
    `errors` naming each field, as for every other resource (a malformed request is the 400)."""
    rep, run = cast.rep_a, cast.run
    body = {"first_name": "A", "last_name": "B", "email": f"bad-{secrets.token_hex(4)}-{run}@example.com"}
    problem = _problem(rep.request("POST", "/api/v1/contacts", {**body, **fields}), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    contact = _ok(rep.request("POST", "/api/v1/contacts", body), 201)
    problem = _problem(rep.request("PATCH", f"/api/v1/contacts/{contact['id']}", fields), 422)
    assert field in [e["field"] for e in problem["errors"]], problem


def test_a_secondary_email_is_taken_in_its_book(cast: Cast) -> None:
    rep_a, rep_b, run = cast.rep_a, cast.rep_b, cast.run
    second = f"second-{run}@example.com"
    body = {
        "first_name": "A",
        "last_name": "B",
        "email": f"first-{run}@example.com",
        "emails": [{"address": second}],
    }
    holder = _ok(rep_a.request("POST", "/api/v1/contacts", body), 201)
    assert [e["address"] for e in holder["emails"]] == [f"first-{run}@example.com", second]
    # The holder's team reads it: the 409 names it.
    taken = _problem(
        rep_a.request(
            "POST", "/api/v1/contacts", {"first_name": "C", "last_name": "D", "email": second.upper()}
        ),
        409,
    )
    assert taken["existing"] == {"type": "contact", "id": holder["id"]}
    # Another team's rep may not read it: the same 409, naming nobody.
    hidden = _problem(
        rep_b.request(
            "POST",
            "/api/v1/contacts",
            {
                "first_name": "C",
                "last_name": "D",
                "email": f"c-{run}@example.com",
                "emails": [{"address": second}],
            },
        ),
        409,
    )
    assert "existing" not in hidden or hidden["existing"] is None


def test_the_openapi_document_describes_the_profile(cast: Cast) -> None:
    document = _ok(cast.admin.request("GET", "/api/v1/openapi.json"))
    schemas = document["components"]["schemas"]
    contact = schemas["contacts.v1.Contact"]["properties"]
    for name in ("emails", "phones", "addresses", "time_zone", "language", "tags", "birth_date", "notes"):
        assert contact[name].get("description"), name
    assert contact["emails"]["type"] == "array"
    create = document["paths"]["/api/v1/contacts"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"]["properties"]["tags"]["maxItems"] == 50  # the contract's rules, on input
    phone = schemas["contacts.v1.ContactPhone"]["properties"]
    assert phone["formatted"]["readOnly"] is True and "E.164" in phone["number"]["description"]


def test_custom_fields_over_http_and_in_the_openapi_document(cast: Cast) -> None:
    """Custom fields end to end: an admin defines one (a sales rep may not), a contact's value is a plain
    JSON property of `custom_fields`, a wrong value is a 422 naming `custom_fields.<name>`, lists filter
    and order by it, and the OpenAPI document lists it as a property of the `custom_fields` object."""
    admin, rep, run = cast.admin, cast.rep_a, cast.run
    name = f"tier_{run}"
    definition = {
        "resource": "contacts",
        "name": name,
        "label": "Tier",
        "type": "single_choice",
        "choices": ["gold", "silver"],
    }
    _problem(rep.request("POST", "/api/v1/custom-fields", definition), 403)
    field = _ok(admin.request("POST", "/api/v1/custom-fields", definition), 201)
    assert (field["resource"], field["type"], field["choices"]) == (
        "contacts",
        "single_choice",
        ["gold", "silver"],
    )
    assert name in [f["name"] for f in _ok(rep.request("GET", "/api/v1/custom-fields"))["items"]]

    body = {
        "first_name": "C",
        "last_name": "F",
        "email": f"cf-{run}@example.com",
        "custom_fields": {name: "gold"},
    }
    contact = _ok(rep.request("POST", "/api/v1/contacts", body), 201)
    assert contact["custom_fields"] == {name: "gold"}
    assert _ok(rep.request("GET", f"/api/v1/contacts/{contact['id']}"))["custom_fields"] == {name: "gold"}
    problem = _problem(
        rep.request("PATCH", f"/api/v1/contacts/{contact['id']}", {"custom_fields": {name: "bronze"}}), 422
    )
    assert f"custom_fields.{name}" in [e["field"] for e in problem["errors"]], problem
    wanted = quote(f'custom_fields.{name} = "gold"')
    listed = _ok(rep.request("GET", f"/api/v1/contacts?filter={wanted}"))
    assert [item["id"] for item in listed["items"]] == [contact["id"]]
    _ok(rep.request("GET", f"/api/v1/contacts?order_by=custom_fields.{name}%20desc&limit=1"))

    # Each gateway worker asks for the definitions at most every few seconds.
    deadline = time.monotonic() + 20
    while True:
        schemas = _ok(admin.request("GET", "/api/v1/openapi.json"))["components"]["schemas"]
        properties = schemas["contacts.v1.Contact"]["properties"]["custom_fields"].get("properties", {})
        if name in properties or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert properties[name]["enum"] == ["gold", "silver", None] and properties[name]["title"] == "Tier"

    # A field still holding values is not deleted; cleared, it is.
    _problem(admin.request("DELETE", f"/api/v1/custom-fields/{field['id']}"), 409)
    cleared = _ok(rep.request("PATCH", f"/api/v1/contacts/{contact['id']}", {"custom_fields": {name: None}}))
    assert cleared["custom_fields"] is None
    assert admin.request("DELETE", f"/api/v1/custom-fields/{field['id']}").status == 204


def test_search_over_http(cast: Cast) -> None:
    """`GET /api/v1/contacts?q=`: a one-letter typo of a surname and the phone in national form find the
    rep's contact, another team's rep finds nothing, q with order_by is a 400 problem naming order_by,
    and the OpenAPI document describes the parameter."""
    surname = f"Searchable{cast.run}"
    body = {"first_name": "Ida", "last_name": surname, "email": f"ida-{cast.run}@example.com"}
    created = _ok(cast.rep_a.request("POST", "/api/v1/contacts", {**body, "phone": "+44 20 7946 1234"}), 201)
    typo = surname[:3] + surname[4] + surname[3] + surname[5:]  # two letters swapped
    for q in (typo, "020 7946 1234", f"ida {surname[:6]}"):
        found = _ok(cast.rep_a.request("GET", f"/api/v1/contacts?q={quote(q)}"))
        assert [c["id"] for c in found["items"]] == [created["id"]], q
    assert _ok(cast.rep_b.request("GET", f"/api/v1/contacts?q={quote(surname)}"))["items"] == []
    problem = _problem(cast.rep_a.request("GET", f"/api/v1/contacts?q={surname}&order_by=last_name"), 400)
    assert [e["field"] for e in problem["errors"]] == ["order_by"]
    document = _ok(cast.admin.request("GET", "/api/v1/openapi.json"))
    parameters = document["paths"]["/api/v1/contacts"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert "one letter away" in q["description"] and q["schema"]["maxLength"] == 200
