"""Partner online ordering through the real gateway over HTTP, in front of the real sales and contacts
services: the catalogue, a price list assigned to a partner account and its terms (PATCH
/api/v1/partner-accounts/{id}/terms), an order placed by a partner user (priced by the service,
Idempotency-Key honoured), the credit limit's refusal as a 422 problem with its reason, the status
flow, a payment and the balance, the partner boundary (another partner sees none of it), and the order
and the payment on the customer's timeline."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "orders-e2e-password-1"
PROBLEM = "application/problem+json"


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
            "POST", "/api/v1/partner-accounts", {"name": f"O{label}-{run}", "kind": "distributor"}
        )
        accounts[label] = _ok(account, 201)["id"]
        email = f"orders-{label.lower()}-{run}@example.com"
        _ok(
            admin.request(
                "POST",
                "/api/v1/users",
                {
                    "email": email,
                    "name": f"orders {label}",
                    "password": PASSWORD,
                    "roles": ["partner"],
                    "team_ids": [],
                    "partner_account_id": accounts[label],
                },
            ),
            201,
        )
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield Cast(admin, clients["P1"], clients["P2"], accounts, run)
    for client in (admin, *clients.values()):
        client.close()


def test_a_partner_orders_online_within_its_credit_limit(cast: Cast) -> None:
    admin, p1, p2, run = cast.admin, cast.p1, cast.p2, cast.run
    account = cast.accounts["P1"]
    widget = _ok(
        admin.request("POST", "/api/v1/products", {"sku": f"W-{run}", "name": "Widget", "tax_rate_bp": 2000}),
        201,
    )
    assert _problem(admin.request("POST", "/api/v1/products", {"sku": f"W-{run}", "name": "Again"}), 409)
    prices = [
        {"product_id": widget["id"], "unit_amount_minor": 1999},
        {"product_id": widget["id"], "unit_amount_minor": 1799, "min_quantity": 10},
    ]
    listed = _ok(
        admin.request(
            "POST",
            "/api/v1/price-lists",
            {
                "name": f"Distributors {run}",
                "currency": "EUR",
                "prices": prices,
                "partner_account_ids": [account],
            },
        ),
        201,
    )
    terms_path = f"/api/v1/partner-accounts/{account}/terms"
    terms = _ok(
        admin.request(
            "PATCH",
            terms_path,
            {
                "price_list_id": listed["id"],
                "credit_limit": {"amount_minor": 50_000, "currency": "EUR"},
                "payment_terms_days": 30,
            },
        )
    )
    assert terms["credit_limit"] == {"amount_minor": 50_000, "currency": "EUR"}
    assert _ok(p1.request("GET", terms_path)) == terms
    _problem(p2.request("GET", terms_path), 404)
    _problem(p1.request("PATCH", terms_path, {"payment_terms_days": 90}), 403)
    _problem(p2.request("GET", f"/api/v1/price-lists/{listed['id']}"), 404)
    assert [p["id"] for p in _ok(p1.request("GET", "/api/v1/price-lists"))["items"]] == [listed["id"]]

    customer = _ok(
        p1.request(
            "POST",
            "/api/v1/contacts",
            {"first_name": "Grace", "last_name": "Hopper", "email": f"orders-{run}@example.com"},
        ),
        201,
    )
    body = {"lines": [{"product_id": widget["id"], "quantity": 12}], "contact_id": customer["id"]}
    key = {"Idempotency-Key": f"order-{run}"}
    created = p1.request("POST", "/api/v1/orders", body, headers=key)
    order = _ok(created, 201)
    assert created.headers["location"] == f"/api/v1/orders/{order['id']}"
    # 12 x 17.99 (the 10+ break) = 215.88, tax 20% = 43.176 -> 43.18
    assert order["total"] == {
        "net": {"amount_minor": 21588, "currency": "EUR"},
        "tax": {"amount_minor": 4318, "currency": "EUR"},
        "grand_total": {"amount_minor": 25906, "currency": "EUR"},
    }
    assert (
        order["status"],
        order["partner_account_id"],
        order["lines"][0]["unit_price"]["amount_minor"],
    ) == (
        "submitted",
        account,
        1799,
    )
    assert _ok(p1.request("POST", "/api/v1/orders", body, headers=key), 201)["id"] == order["id"]
    refused = _problem(p1.request("POST", "/api/v1/orders", body), 422)  # 25,906 x 2 > 50,000
    assert refused["reason"] == "CREDIT_LIMIT_EXCEEDED"
    _problem(p1.request("POST", "/api/v1/orders", {"lines": []}), 422)
    _problem(
        p1.request(
            "POST", "/api/v1/orders", {"lines": [{"product_id": widget["id"], "quantity": 1}], "bogus": 1}
        ),
        400,
    )

    path = f"/api/v1/orders/{order['id']}"
    _problem(p2.request("GET", path), 404)
    assert _ok(p2.request("GET", "/api/v1/orders"))["items"] == []
    confirmed = _ok(admin.request("POST", f"{path}:confirm", {}))
    assert confirmed["status"] == "confirmed"
    _problem(admin.request("POST", f"{path}:deliver", {}), 409)
    history = _ok(admin.request("GET", f"{path}/history"))["items"]
    assert [h["action"] for h in history] == ["updated", "created"]

    payment = _ok(
        admin.request(
            "POST",
            "/api/v1/payments",
            {
                "amount": {"amount_minor": 25906, "currency": "EUR"},
                "method": "bank_transfer",
                "reference": f"TX-{run}",
                "contact_id": customer["id"],
                "partner_account_id": account,
                "allocations": [
                    {"order_id": order["id"], "amount": {"amount_minor": 25906, "currency": "EUR"}}
                ],
            },
        ),
        201,
    )
    assert _ok(p1.request("GET", path))["balance"]["amount_minor"] == 0
    assert _ok(p1.request("GET", f"/api/v1/payments/{payment['id']}"))["id"] == payment["id"]
    _problem(p2.request("GET", f"/api/v1/payments/{payment['id']}"), 404)
    balance = _ok(admin.request("GET", f"/api/v1/sales/balance?partner_account_id={account}"))
    assert (balance["outstanding"], balance["open_orders"]) == ([], 0)
    _ok(p1.request("POST", "/api/v1/orders", body), 201)  # paid: the credit is free again

    # The order and the payment reach the customer's timeline (through sales.events).
    deadline, kinds = time.monotonic() + 20, set()
    while time.monotonic() < deadline and not {"order", "payment"} <= kinds:
        entries = _ok(p1.request("GET", f"/api/v1/contacts/{customer['id']}/timeline?limit=200"))["items"]
        kinds = {entry["kind"] for entry in entries}
        time.sleep(0.3)
    assert {"order", "payment"} <= kinds, kinds
