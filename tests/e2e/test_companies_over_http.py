"""Companies through the real gateway over HTTP, in front of the real contacts service: the routes
transcoded from crm/contacts/v1/companies.proto, as signed-in users of different teams and a partner
account (created through the identity API): standard methods, REST conventions, bad input as
problem+json naming the field (never a 500), the domain unique per book, and the people links."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "companies-e2e-password-1"
PROBLEM = "application/problem+json"


@dataclass
class Cast:
    admin: GatewayClient
    rep_a: GatewayClient
    rep_b: GatewayClient
    partner: GatewayClient
    ids: dict[str, str]
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


def _problem(reply: Reply, statuses: set[int]) -> dict[str, Any]:
    assert reply.status in statuses, (reply.status, reply.body[:400])
    assert reply.headers["content-type"].startswith(PROBLEM)
    return reply.json()


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    admin = platform.client()
    run = secrets.token_hex(4)
    teams = {t: _ok(admin.request("POST", "/api/v1/teams", {"name": f"C{t}-{run}"}), 201)["id"] for t in "AB"}
    partner_account = _ok(
        admin.request("POST", "/api/v1/partner-accounts", {"name": f"CP-{run}", "kind": "reseller"}), 201
    )["id"]
    clients, ids = {}, {"team_a": teams["A"], "team_b": teams["B"], "partner_account": partner_account}
    for name, role, team_ids, partner in (
        ("rep_a", "sales_rep", [teams["A"]], None),
        ("rep_b", "sales_rep", [teams["B"]], None),
        ("partner", "partner", [], partner_account),
    ):
        email = f"companies-{name.replace('_', '-')}-{run}@example.com"
        user = _ok(
            admin.request(
                "POST",
                "/api/v1/users",
                {
                    "email": email,
                    "name": name,
                    "password": PASSWORD,
                    "roles": [role],
                    "team_ids": team_ids,
                    "partner_account_id": partner,
                },
            ),
            201,
        )
        ids[name] = user["id"]
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[name] = client
    yield Cast(admin, clients["rep_a"], clients["rep_b"], clients["partner"], ids, run)
    for client in (admin, *clients.values()):
        client.close()


def test_a_company_through_the_gateway(cast: Cast) -> None:
    rep, run = cast.rep_a, cast.run
    body = {
        "name": "Acme Corp",
        "domain": f"WWW.Acme-{run}.com",
        "industry": "Manufacturing",
        "size": "51_200",
        "address": {"street": "1 Main St", "city": "Springfield", "country": "us"},
        "website": "https://acme.example",
    }
    created = rep.request("POST", "/api/v1/companies", body)
    company = _ok(created, 201)
    assert created.headers["location"] == f"/api/v1/companies/{company['id']}"
    assert created.headers["etag"] == f'"{company["etag"]}"'
    assert company["domain"] == f"acme-{run}.com" and company["size"] == "51_200"
    assert company["address"] == {
        "street": "1 Main St",
        "city": "Springfield",
        "region": None,
        "postal_code": None,
        "country": "US",
    }
    assert (company["owner_id"], company["team_id"], company["partner_account_id"]) == (
        cast.ids["rep_a"],
        cast.ids["team_a"],
        None,
    )
    assert company["parent_company_id"] is None and company["archived_at"] is None
    path = f"/api/v1/companies/{company['id']}"
    assert _ok(rep.request("GET", path)) == company

    subsidiary = _ok(
        rep.request(
            "POST", "/api/v1/companies", {"name": f"Acme Sub {run}", "parent_company_id": company["id"]}
        ),
        201,
    )
    listed = _ok(
        rep.request("GET", f"/api/v1/companies?filter=parent_company_id%20%3D%20%22{company['id']}%22")
    )
    assert [c["id"] for c in listed["items"]] == [subsidiary["id"]] and listed["next_cursor"] is None
    ordered = _ok(rep.request("GET", "/api/v1/companies?order_by=name%20desc&limit=200"))
    names = [c["name"] for c in ordered["items"]]
    assert names == sorted(names, reverse=True) and company["name"] in names

    stale = rep.request("PATCH", path, {"description": "x"}, headers={"If-Match": '"stale-etag"'})
    assert stale.status in (412, 400), stale.body[:300]
    changed = _ok(
        rep.request(
            "PATCH",
            path,
            {"description": "Makes everything", "address": {"city": "Shelbyville"}},
            headers={"If-Match": f'"{company["etag"]}"'},
        )
    )
    assert changed["description"] == "Makes everything"
    assert changed["address"]["city"] == "Shelbyville" and changed["address"]["street"] == "1 Main St"
    again = rep.request("PATCH", path, {"industry": "Retail"}, headers={"If-Match": f'"{company["etag"]}"'})
    _problem(again, {412})

    # Nobody of another team sees it; a cycle through the parent is refused.
    _problem(cast.rep_b.request("GET", path), {404})
    _problem(cast.rep_b.request("PATCH", path, {"description": "mine now"}), {404})
    _problem(cast.partner.request("GET", path), {404})
    cycle = _problem(rep.request("PATCH", path, {"parent_company_id": subsidiary["id"]}), {400, 422})
    assert [e["field"] for e in cycle["errors"]] == ["parent_company_id"]

    history = _ok(rep.request("GET", f"{path}/history"))["items"]
    assert [e["action"] for e in history] == ["updated", "created"]
    assert {c["field"] for c in history[0]["changes"]} == {"description", "address"}
    assert history[0]["actor_id"] == cast.ids["rep_a"]

    deleted = rep.request("DELETE", path, headers={"If-Match": f'"{changed["etag"]}"'})
    assert deleted.status == 204, deleted.body[:300]
    assert _ok(rep.request("GET", path))["archived_at"] is not None
    assert company["id"] not in [
        c["id"] for c in _ok(rep.request("GET", "/api/v1/companies?limit=200"))["items"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "A" * 5000}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Acme", "domain": "not a domain"}, "domain"),
        ({"name": "Acme", "domain": "https://acme.com/"}, "domain"),
        ({"name": "Acme", "size": "huge"}, "size"),
        ({"name": "Acme", "address": {"country": "XX"}}, "address.country"),
        ({"name": "Acme", "address": {"country": "Germany"}}, "address.country"),
        ({"name": "Acme", "address": {"planet": "Mars"}}, "address.planet"),
        ({"name": "Acme", "website": "acme.com"}, "website"),
        ({"name": "Acme", "parent_company_id": "no-such-company"}, "parent_company_id"),
        ({"name": "Acme", "colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(cast: Cast, body: dict[str, Any], field: str) -> None:
    problem = _problem(cast.rep_a.request("POST", "/api/v1/companies", body), {400, 422})
    assert field in [e["field"] for e in problem["errors"]], problem


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/companies?filter=website%20%3D", None),
        ("GET", "/api/v1/companies?order_by=phone", None),
        ("GET", "/api/v1/companies?limit=1000", None),
        ("GET", "/api/v1/companies?cursor=garbage", None),
        ("PATCH", "/api/v1/companies/x", {"domain": "no"}),
        ("POST", "/api/v1/companies/x/people", {}),
        ("POST", "/api/v1/companies/x/people", {"contact_id": "y", "role": "boss"}),
        ("GET", "/api/v1/contacts/x/companies?limit=-1", None),
    ],
)
def test_bad_requests_are_never_a_server_error(cast: Cast, method: str, path: str, body: Any) -> None:
    reply = cast.rep_a.request(method, path, body)
    assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
    assert reply.headers["content-type"].startswith(PROBLEM)


def test_a_domain_is_unique_per_book_without_telling_who_has_it(cast: Cast) -> None:
    domain = f"taken-{cast.run}.com"
    theirs = _ok(cast.rep_b.request("POST", "/api/v1/companies", {"name": "Taken", "domain": domain}), 201)
    conflict = _problem(
        cast.rep_a.request("POST", "/api/v1/companies", {"name": "Copy", "domain": domain}), {409}
    )
    assert theirs["id"] not in str(conflict)
    # The partner account's book is its own.
    mine = cast.partner.request("POST", "/api/v1/companies", {"name": "Partner's", "domain": domain.upper()})
    assert _ok(mine, 201)["partner_account_id"] == cast.ids["partner_account"]


def test_people_linked_to_companies(cast: Cast) -> None:
    rep, run = cast.rep_a, cast.run
    acme = _ok(rep.request("POST", "/api/v1/companies", {"name": f"People Inc {run}"}), 201)
    globex = _ok(rep.request("POST", "/api/v1/companies", {"name": f"Globex {run}"}), 201)
    ada = rep.create_contact(first_name="Ada", last_name="Lovelace", email=f"ada-{run}@example.com")
    bob = rep.create_contact(first_name="Bob", last_name="Babbage", email=f"bob-{run}@example.com")
    people = f"/api/v1/companies/{acme['id']}/people"

    link = _ok(
        rep.request(
            "POST",
            people,
            {"contact_id": ada["id"], "role": "decision_maker", "title": "CTO", "is_primary": True},
        )
    )
    assert (link["role"], link["title"], link["is_primary"]) == ("decision_maker", "CTO", True)
    assert link["company"]["id"] == acme["id"] and link["contact"]["email"] == ada["email"]
    _ok(rep.request("POST", people, {"contact_id": bob["id"], "title": "Buyer"}))
    _ok(rep.request("POST", f"/api/v1/companies/{globex['id']}/people", {"contact_id": ada["id"]}))

    first = _ok(rep.request("GET", f"{people}?limit=1"))
    assert [p["contact_id"] for p in first["items"]] == [ada["id"]] and first["next_cursor"]
    rest = _ok(rep.request("GET", f"{people}?limit=1&cursor={first['next_cursor']}"))
    assert [p["contact_id"] for p in rest["items"]] == [bob["id"]]
    companies = _ok(rep.request("GET", f"/api/v1/contacts/{ada['id']}/companies"))["items"]
    assert [c["company"]["name"] for c in companies] == [acme["name"], globex["name"]]

    # Another team's rep: the company and the contact are out of scope, so everything is a 404.
    other = cast.rep_b
    _problem(other.request("GET", people), {404})
    _problem(other.request("POST", people, {"contact_id": ada["id"]}), {404})
    _problem(other.request("DELETE", f"{people}/{ada['id']}"), {404})
    _problem(other.request("GET", f"/api/v1/contacts/{ada['id']}/companies"), {404})
    theirs = other.create_contact(first_name="Cy", last_name="Other", email=f"cy-{run}@example.com")
    _problem(rep.request("POST", people, {"contact_id": theirs["id"]}), {404})

    removed = rep.request("DELETE", f"{people}/{bob['id']}")
    assert removed.status == 204, removed.body[:300]
    assert [p["contact_id"] for p in _ok(rep.request("GET", people))["items"]] == [ada["id"]]
    _problem(rep.request("DELETE", f"{people}/{bob['id']}"), {404})
