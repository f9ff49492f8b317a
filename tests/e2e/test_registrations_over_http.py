"""Partner deal registration through the real gateway over HTTP, in front of the real sales and contacts
services (and their workers): a partner registers a customer, staff approve it with a deal that both then
see, a second partner's registration of the same company is refused as a 422 problem with the reason
REGISTRATION_CONFLICT, neither partner sees the other's registrations, approvals of one company by two
partners racing each other let exactly one through, and the registration reaches the customer's
timeline."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "registrations-e2e-password-1"
PROBLEM = "application/problem+json"
COLLECTION = "/api/v1/deal-registrations"


@dataclass
class Cast:
    admin: GatewayClient
    p1: GatewayClient
    p2: GatewayClient
    accounts: dict[str, str]
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


def _problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body[:400])
    assert reply.headers["content-type"].startswith(PROBLEM)
    return reply.json()


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    admin = platform.client()
    run = secrets.token_hex(4)
    accounts, clients = {}, {}
    for label in ("P1", "P2"):
        account = admin.request(
            "POST", "/api/v1/partner-accounts", {"name": f"R{label}-{run}", "kind": "reseller"}
        )
        accounts[label] = _ok(account, 201)["id"]
        email = f"registrations-{label.lower()}-{run}@example.com"
        user = {
            "email": email,
            "name": f"registrations {label}",
            "password": PASSWORD,
            "roles": ["partner"],
            "team_ids": [],
            "partner_account_id": accounts[label],
        }
        _ok(admin.request("POST", "/api/v1/users", user), 201)
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield Cast(admin, clients["P1"], clients["P2"], accounts, run)
    for client in (admin, *clients.values()):
        client.close()


def test_a_partner_registers_staff_approve_and_another_partner_is_refused(cast: Cast) -> None:
    admin, p1, p2, run = cast.admin, cast.p1, cast.p2, cast.run
    domain = f"acme-{run}.example.com"
    person = {"first_name": "Ada", "last_name": "Byron", "email": f"ada-{run}@example.com"}
    customer = _ok(p1.request("POST", "/api/v1/contacts", person), 201)
    body = {
        "title": "Acme: 200 seats",
        "company_name": "Acme",
        "company_domain": domain.upper(),
        "contact_id": customer["id"],
        "expected_amount": {"amount_minor": 1_500_000, "currency": "EUR"},
        "notes": "met at the fair",
    }
    key = {"Idempotency-Key": f"registration-{run}"}
    created = p1.request("POST", COLLECTION, body, headers=key)
    mine = _ok(created, 201)
    assert created.headers["location"] == f"{COLLECTION}/{mine['id']}"
    assert (mine["status"], mine["company_domain"], mine["partner_account_id"]) == (
        "submitted",
        domain,
        cast.accounts["P1"],
    )
    assert _ok(p1.request("POST", COLLECTION, body, headers=key), 201)["id"] == mine["id"]
    company = _ok(p1.request("GET", f"/api/v1/companies/{mine['company_id']}"))
    assert (company["domain"], company["partner_account_id"]) == (domain, cast.accounts["P1"])
    _problem(p1.request("POST", COLLECTION, {**body, "bogus": 1}), 400)
    _problem(p1.request("POST", COLLECTION, {"title": "no company"}), 422)

    path = f"{COLLECTION}/{mine['id']}"
    _problem(p1.request("POST", f"{path}:approve", {}), 403)
    _problem(admin.request("POST", f"{path}:approve", {}, headers={"If-Match": '"0"'}), 412)
    approved = _ok(admin.request("POST", f"{path}:approve", {"create_deal": True, "reason": "first"}))
    assert approved["status"] == "approved" and approved["protected_until"] and approved["deal_id"]

    # The deal: staff's, with P1's account, which P1 reads and P2 does not.
    deal_path = f"/api/v1/deals/{approved['deal_id']}"
    deal = _ok(p1.request("GET", deal_path))
    assert (deal["partner_account_id"], deal["company_id"], deal["contact_id"]) == (
        cast.accounts["P1"],
        mine["company_id"],
        customer["id"],
    )
    assert deal["owner_id"] == _ok(admin.request("GET", "/api/v1/me"))["id"]
    _problem(p2.request("GET", deal_path), 404)

    # P2 registering the same company (its own book's record, the same domain) is refused.
    refused = _problem(p2.request("POST", COLLECTION, {**body, "contact_id": None}), 422)
    assert refused["reason"] == "REGISTRATION_CONFLICT"
    assert cast.accounts["P1"] not in str(refused) and mine["id"] not in str(refused)

    # Neither partner sees the other's registrations.
    _problem(p2.request("GET", path), 404)
    _problem(p2.request("GET", f"{path}/history"), 404)
    _problem(p2.request("POST", f"{path}:reject", {"reason": "mine now"}), 404)
    assert _ok(p2.request("GET", COLLECTION))["items"] == []
    assert [r["id"] for r in _ok(p1.request("GET", COLLECTION))["items"]] == [mine["id"]]
    history = _ok(p1.request("GET", f"{path}/history"))["items"]
    assert [h["action"] for h in history] == ["updated", "created"]

    # The registration and its approval reach the customer's timeline (through sales.events).
    deadline, titles = time.monotonic() + 20, []
    while time.monotonic() < deadline and len(titles) < 2:
        entries = _ok(p1.request("GET", f"/api/v1/contacts/{customer['id']}/timeline?limit=200"))["items"]
        titles = [e["title"] for e in entries if e["kind"] == "deal_registration"]
        time.sleep(0.3)
    assert sorted(titles) == [
        "Deal registered by a partner: Acme: 200 seats",
        "Deal registration approved: Acme: 200 seats",
    ], titles


def test_concurrent_approvals_of_one_company_for_two_partners_let_exactly_one_win(
    cast: Cast, platform: Any
) -> None:
    pairs = []
    for n in range(3):
        domain = f"race{n}-{cast.run}.example.com"
        body = {"title": f"Race {n}", "company_name": f"Race {n}", "company_domain": domain}
        pairs.append([_ok(p.request("POST", COLLECTION, body), 201)["id"] for p in (cast.p1, cast.p2)])

    def approve(registration_id: str) -> str:
        client = platform.client()  # one connection per thread
        try:
            reply = client.request("POST", f"{COLLECTION}/{registration_id}:approve", {})
        finally:
            client.close()
        return (
            reply.json()["status"] if reply.status == 200 else reply.json().get("reason", str(reply.status))
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(approve, [r for pair in pairs for r in pair]))
    for n in range(3):
        assert sorted(outcomes[2 * n : 2 * n + 2]) == ["REGISTRATION_CONFLICT", "approved"], outcomes
