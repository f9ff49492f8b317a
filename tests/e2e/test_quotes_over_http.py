"""Quotes through the real gateway over HTTP, in front of the real sales and contacts services: a rep's
quote over their discount allowance waits for their manager's approval (422 APPROVAL_REQUIRED until
then, the approval in the manager's queue and in the quote's history), is sent, rendered as a PDF
(served raw by the gateway's generic HttpBody support), accepted into an order that names it, kept from
a partner user, and shown on the customer's timeline."""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as escape

import pytest
from crm_devrun.client import GatewayClient, Reply
from pypdf import PdfReader

PASSWORD = "quotes-e2e-password-1"
PROBLEM = "application/problem+json"


@dataclass
class Cast:
    admin: GatewayClient
    rep: GatewayClient
    manager: GatewayClient
    partner: GatewayClient
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
    team = _ok(admin.request("POST", "/api/v1/teams", {"name": f"Quotes-{run}"}), 201)["id"]
    account = _ok(
        admin.request("POST", "/api/v1/partner-accounts", {"name": f"Q-{run}", "kind": "distributor"}), 201
    )["id"]
    clients = {}
    for label, roles, teams, partner in (
        ("rep", ["sales_rep"], [team], None),
        ("manager", ["manager"], [team], None),
        ("partner", ["partner"], [], account),
    ):
        email = f"quotes-{label}-{run}@example.com"
        user = {"email": email, "name": label, "password": PASSWORD, "roles": roles, "team_ids": teams}
        if partner:
            user["partner_account_id"] = partner
        _ok(admin.request("POST", "/api/v1/users", user), 201)
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield Cast(admin, clients["rep"], clients["manager"], clients["partner"], run)
    for client in (admin, *clients.values()):
        client.close()


def test_a_quote_is_approved_sent_rendered_and_accepted_into_an_order(cast: Cast) -> None:
    admin, rep, manager, run = cast.admin, cast.rep, cast.manager, cast.run
    widget = _ok(
        admin.request(
            "POST", "/api/v1/products", {"sku": f"QW-{run}", "name": "Widget", "tax_rate_bp": 2000}
        ),
        201,
    )
    listed = _ok(
        admin.request(
            "POST",
            "/api/v1/price-lists",
            {
                "name": f"Quotes {run}",
                "currency": "EUR",
                "prices": [{"product_id": widget["id"], "unit_amount_minor": 1999}],
            },
        ),
        201,
    )
    customer = _ok(
        rep.request(
            "POST",
            "/api/v1/contacts",
            {"first_name": "Ada", "last_name": "Lovelace", "email": f"quotes-{run}@example.com"},
        ),
        201,
    )
    body = {
        "lines": [{"product_id": widget["id"], "quantity": 10, "discount_bp": 1500}],  # over a rep's 10%
        "price_list_id": listed["id"],
        "contact_id": customer["id"],
    }
    created = rep.request("POST", "/api/v1/quotes", body, headers={"Idempotency-Key": f"quote-{run}"})
    quote = _ok(created, 201)
    assert created.headers["location"] == f"/api/v1/quotes/{quote['id']}"
    # 10 x 19.99 = 199.90; 15% = 29.985 -> 29.98 (half-even); net 169.92; tax 20% = 33.984 -> 33.98
    assert quote["total"] == {
        "subtotal": {"amount_minor": 19990, "currency": "EUR"},
        "discount": {"amount_minor": 2998, "currency": "EUR"},
        "net": {"amount_minor": 16992, "currency": "EUR"},
        "tax": {"amount_minor": 3398, "currency": "EUR"},
        "grand_total": {"amount_minor": 20390, "currency": "EUR"},
    }
    assert (quote["status"], quote["approval"]["state"]) == ("draft", "pending")
    path = f"/api/v1/quotes/{quote['id']}"

    refused = _problem(rep.request("POST", f"{path}:send", {}), 422)
    assert refused["reason"] == "APPROVAL_REQUIRED"
    _problem(rep.request("POST", f"{path}:approve", {"reason": "me"}), 403)
    queue = _ok(manager.request("GET", "/api/v1/quotes?filter=" + escape('approval_state = "pending"')))
    assert quote["id"] in [q["id"] for q in queue["items"]]
    approved = _ok(manager.request("POST", f"{path}:approve", {"reason": "key account"}))
    assert approved["approval"]["state"] == "approved"
    stale = _problem(rep.request("POST", f"{path}:send", {}, headers={"If-Match": f'"{quote["etag"]}"'}), 412)
    assert stale["status"] == 412
    sent = _ok(rep.request("POST", f"{path}:send", {}, headers={"If-Match": f'"{approved["etag"]}"'}))
    assert sent["status"] == "sent"
    _problem(rep.request("PATCH", path, {"notes": "too late"}), 409)

    document = rep.request("GET", f"{path}.pdf")
    assert document.status == 200 and document.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document.body)).pages)
    for expected in (
        quote["number"],
        "Ada Lovelace",
        "199.90 EUR",
        "29.98 EUR",
        "203.90 EUR",
        quote["valid_until"],
    ):
        assert expected in text, expected
    _problem(cast.partner.request("GET", f"{path}.pdf"), 404)
    _problem(cast.partner.request("GET", path), 404)
    assert _ok(cast.partner.request("GET", "/api/v1/quotes"))["items"] == []

    accepted = _ok(rep.request("POST", f"{path}:accept", {}))
    assert accepted["status"] == "accepted"
    order = _ok(rep.request("GET", f"/api/v1/orders/{accepted['order_id']}"))
    assert (order["quote_id"], order["contact_id"]) == (quote["id"], customer["id"])
    assert order["total"]["grand_total"] == quote["total"]["grand_total"]
    assert order["lines"][0]["discount"] == {"amount_minor": 2998, "currency": "EUR"}

    history = _ok(rep.request("GET", f"{path}/history"))["items"]
    fields = [[c["field"] for c in entry["changes"]] for entry in reversed(history)]
    assert ["approval"] in fields  # the manager's decision
    assert any("order_id" in f for f in fields)

    deadline, titles = time.monotonic() + 20, []
    while time.monotonic() < deadline and not any("accepted" in t for t in titles):
        entries = _ok(rep.request("GET", f"/api/v1/contacts/{customer['id']}/timeline?limit=200"))["items"]
        titles = [entry["title"] for entry in entries if entry["kind"] == "quote"]
        time.sleep(0.3)
    assert f"Quote {quote['number']} accepted" in titles and f"Quote {quote['number']} sent" in titles, titles
