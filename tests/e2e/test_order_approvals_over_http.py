"""Orders beyond a partner's usual terms through the real gateway over HTTP, in front of the real sales and
contacts services: the terms' approval threshold set with PATCH /api/v1/partner-accounts/{id}/terms, a
partner user's order above it placed waiting for an approval (422 APPROVAL_REQUIRED on :confirm, 403 on
the buyer's own :approve, in the manager's queue), approved by the channel team's manager and then
confirmed, another asking for longer payment terms rejected with a reason (and so cancelled), each
decision in the order's history and announced on `sales.events`. And a payment recorded without a
contact reaches the timeline of the contact its order names."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as escape

import pika
import pytest
from crm_devrun.client import GatewayClient, Reply

from crm_platform.events import wire

PASSWORD = "approvals-e2e-password-1"
PROBLEM = "application/problem+json"
EVENTS = ("order_approval_requested", "order_approval_decided")


@dataclass
class Cast:
    admin: GatewayClient
    buyer: GatewayClient
    manager: GatewayClient
    account: str
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
    team = _ok(admin.request("POST", "/api/v1/teams", {"name": f"Channel-{run}"}), 201)["id"]
    account = _ok(
        admin.request("POST", "/api/v1/partner-accounts", {"name": f"A-{run}", "kind": "distributor"}), 201
    )["id"]
    clients = {}
    for label, roles, partner in (("buyer", ["partner"], account), ("manager", ["manager"], None)):
        email = f"approvals-{label}-{run}@example.com"
        user = {"email": email, "name": label, "password": PASSWORD, "roles": roles, "team_ids": [team]}
        if partner:
            user["partner_account_id"] = partner
        _ok(admin.request("POST", "/api/v1/users", user), 201)
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield Cast(admin, clients["buyer"], clients["manager"], account, run)
    for client in (admin, *clients.values()):
        client.close()


class Announcements:
    """A queue bound to `sales.events` for the order approval events, as any consumer would bind one."""

    def __init__(self, amqp_url: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        exchange = wire.exchange_name("sales")
        wire.declare_exchange(self.channel, exchange)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        for event_type in EVENTS:
            self.channel.queue_bind(self.queue, exchange, routing_key=event_type)
        self.received: list[tuple[str, dict[str, Any]]] = []

    def of(self, order_id: str, count: int, timeout: float = 20) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [(kind, body) for kind, body in self.received if body.get("order_id") == order_id]
            if len(mine) >= count:
                return mine
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            self.received.append((method.routing_key, json.loads(body)))
        raise AssertionError(f"{count} approval events of order {order_id} not announced in {timeout} s")


@pytest.fixture
def announcements(platform) -> Iterator[Announcements]:  # type: ignore[no-untyped-def]
    probe = Announcements(platform.config.amqp_url)
    try:
        yield probe
    finally:
        probe.connection.close()


def test_an_order_beyond_the_partners_terms_waits_for_the_managers_approval(
    cast: Cast, announcements: Announcements
) -> None:
    admin, buyer, manager, run = cast.admin, cast.buyer, cast.manager, cast.run
    widget = _ok(
        admin.request("POST", "/api/v1/products", {"sku": f"AP-{run}", "name": "Pump", "tax_rate_bp": 2000}),
        201,
    )
    listed = _ok(
        admin.request(
            "POST",
            "/api/v1/price-lists",
            {
                "name": f"Approvals {run}",
                "currency": "EUR",
                "prices": [{"product_id": widget["id"], "unit_amount_minor": 1999}],
                "partner_account_ids": [cast.account],
            },
        ),
        201,
    )
    terms = _ok(
        admin.request(
            "PATCH",
            f"/api/v1/partner-accounts/{cast.account}/terms",
            {
                "price_list_id": listed["id"],
                "credit_limit": {"amount_minor": 1_000_000, "currency": "EUR"},
                "payment_terms_days": 14,
                "approval_threshold": {"amount_minor": 10_000, "currency": "EUR"},
            },
        )
    )
    assert terms["approval_threshold"] == {"amount_minor": 10_000, "currency": "EUR"}
    customer = _ok(
        buyer.request(
            "POST",
            "/api/v1/contacts",
            {"first_name": "Grace", "last_name": "Hopper", "email": f"approvals-{run}@example.com"},
        ),
        201,
    )

    usual = _ok(
        buyer.request("POST", "/api/v1/orders", {"lines": [{"product_id": widget["id"], "quantity": 2}]}), 201
    )
    assert usual["approval"]["state"] == "not_required"
    big = _ok(
        buyer.request(
            "POST",
            "/api/v1/orders",
            {"lines": [{"product_id": widget["id"], "quantity": 5}], "contact_id": customer["id"]},
        ),
        201,
    )
    assert big["total"]["grand_total"] == {"amount_minor": 11994, "currency": "EUR"}
    assert (big["approval"]["state"], big["approval"]["reasons"]) == ("pending", ["above_approval_threshold"])
    path = f"/api/v1/orders/{big['id']}"

    refused = _problem(manager.request("POST", f"{path}:confirm", {}), 422)
    assert refused["reason"] == "APPROVAL_REQUIRED"
    _problem(buyer.request("POST", f"{path}:approve", {"reason": "mine"}), 403)  # never one's own
    queue = _ok(manager.request("GET", "/api/v1/orders?filter=" + escape('approval_state = "pending"')))
    assert big["id"] in [order["id"] for order in queue["items"]]
    assert usual["id"] not in [order["id"] for order in queue["items"]]

    stale = _problem(
        manager.request("POST", f"{path}:approve", {}, headers={"If-Match": '"not-the-etag"'}), 412
    )
    assert stale["status"] == 412
    approved = _ok(
        manager.request(
            "POST", f"{path}:approve", {"reason": "spring campaign"}, headers={"If-Match": f'"{big["etag"]}"'}
        )
    )
    assert (approved["approval"]["state"], approved["approval"]["reason"]) == ("approved", "spring campaign")
    assert _ok(manager.request("POST", f"{path}:confirm", {}))["status"] == "confirmed"

    history = _ok(manager.request("GET", f"{path}/history"))["items"]
    decisions = [
        (entry["actor_id"], change["new_value"]["state"])
        for entry in history
        for change in entry["changes"]
        if change["field"] == "approval"
    ]
    assert decisions == [(approved["approval"]["decided_by"], "approved")]
    announced = announcements.of(big["id"], 2)
    assert [(kind, body["approval"]["state"]) for kind, body in announced] == [
        ("order_approval_requested", "pending"),
        ("order_approval_decided", "approved"),
    ]
    assert announced[1][1]["reason"] == "spring campaign"

    # Longer payment terms than the account's 14 days: rejected, with a reason, and so cancelled.
    longer = _ok(
        buyer.request(
            "POST",
            "/api/v1/orders",
            {"lines": [{"product_id": widget["id"], "quantity": 1}], "payment_terms_days": 60},
        ),
        201,
    )
    assert longer["approval"]["reasons"] == ["longer_payment_terms"]
    longer_path = f"/api/v1/orders/{longer['id']}"
    unexplained = _problem(manager.request("POST", f"{longer_path}:reject", {}), 422)  # a rejection says why
    assert unexplained["reason"] == "INVALID_ARGUMENT"
    rejected = _ok(manager.request("POST", f"{longer_path}:reject", {"reason": "net 14 only"}))
    assert (rejected["status"], rejected["cancel_reason"], rejected["approval"]["state"]) == (
        "cancelled",
        "net 14 only",
        "rejected",
    )
    _problem(manager.request("POST", f"{longer_path}:confirm", {}), 409)
    [(_, requested), (_, decided)] = announcements.of(longer["id"], 2)
    assert (decided["approval"]["state"], decided["reason"], decided["status"]) == (
        "rejected",
        "net 14 only",
        "cancelled",
    )
    assert requested["actor_id"] == approved["approval"]["requested_by"]

    # A payment that names no contact is on the timeline of the contact its order names.
    payment = _ok(
        admin.request(
            "POST",
            "/api/v1/payments",
            {
                "amount": {"amount_minor": 11994, "currency": "EUR"},
                "method": "bank_transfer",
                "partner_account_id": cast.account,
                "allocations": [
                    {"order_id": big["id"], "amount": {"amount_minor": 11994, "currency": "EUR"}}
                ],
            },
        ),
        201,
    )
    assert not payment.get("contact_id")
    deadline, refs = time.monotonic() + 20, []
    while time.monotonic() < deadline and payment["id"] not in refs:
        entries = _ok(buyer.request("GET", f"/api/v1/contacts/{customer['id']}/timeline?limit=200"))["items"]
        refs = [entry.get("ref_id") for entry in entries if entry["kind"] == "payment"]
        time.sleep(0.3)
    assert payment["id"] in refs, refs
