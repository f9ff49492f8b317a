"""Lead to cash on the real platform, through the gateway over HTTP: a rep's lead is converted into a
contact, a company and a deal; the deal is moved, quoted from (the quote names the deal only and takes its
customer), the quote sent and accepted into an order, the order confirmed, shipped and delivered, paid, and
the deal won. At each stage the customer-360's sales section says where the customer stands (open deal,
last orders, outstanding balance down to zero after the payment, lifetime value, next task) and every
step reaches the contact's timeline (through sales.events and the contacts worker, so polled with a
bounded wait)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply
from crm_devrun.probes import wait_until

PASSWORD = "lead-to-cash-e2e-password-1"


@dataclass
class Cast:
    admin: GatewayClient
    rep: GatewayClient
    rep_id: str
    team_id: str
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    admin = platform.client()
    run = secrets.token_hex(4)
    team = _ok(admin.request("POST", "/api/v1/teams", {"name": f"L2C-{run}"}), 201)["id"]
    email = f"l2c-rep-{run}@example.com"
    user = _ok(
        admin.request(
            "POST",
            "/api/v1/users",
            {"email": email, "name": "Rep", "password": PASSWORD, "roles": ["sales_rep"], "team_ids": [team]},
        ),
        201,
    )
    rep = platform.client(login=False)
    rep.login(email, PASSWORD)
    yield Cast(admin, rep, user["id"], team, run)
    for client in (admin, rep):
        client.close()


def _eur(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "EUR"}


def test_a_lead_becomes_a_paid_order_and_the_360_and_timeline_follow_every_step(cast: Cast) -> None:
    admin, rep, run = cast.admin, cast.rep, cast.run

    # The catalogue (staff's): one product at 250.00 EUR, 20% tax.
    product = _ok(
        admin.request(
            "POST",
            "/api/v1/products",
            {"sku": f"L2C-{run}", "name": "Analytical engine", "tax_rate_bp": 2000},
        ),
        201,
    )
    prices = [{"product_id": product["id"], "unit_amount_minor": 25_000}]
    price_list = _ok(
        admin.request(
            "POST", "/api/v1/price-lists", {"name": f"L2C {run}", "currency": "EUR", "prices": prices}
        ),
        201,
    )

    # Lead -> convert: contact, company and deal, linked.
    lead = _ok(
        rep.request(
            "POST",
            "/api/v1/leads",
            {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": f"l2c-{run}@example.com",
                "company": f"Engines {run}",
                "company_domain": f"engines-{run}.example",
            },
        ),
        201,
    )
    assert (lead["owner_id"], lead["status"]) == (cast.rep_id, "new")
    converted = _ok(
        rep.request(
            "POST", f"/api/v1/leads/{lead['id']}:convert", {"create_deal": True, "deal_amount": _eur(120_000)}
        )
    )
    contact_id, deal_id = converted["contact_id"], converted["deal_id"]
    assert contact_id and deal_id and converted["company_id"]
    assert _ok(rep.request("GET", f"/api/v1/leads/{lead['id']}"))["status"] == "converted"
    deal_path = f"/api/v1/deals/{deal_id}"
    deal = _ok(rep.request("GET", deal_path))
    assert (deal["contact_id"], deal["company_id"], deal["owner_id"], deal["status"]) == (
        contact_id,
        converted["company_id"],
        cast.rep_id,
        "open",
    )

    def view() -> dict[str, Any]:
        return _ok(rep.request("GET", f"/api/v1/customers/{contact_id}/360"))

    first = view()
    assert first["unavailable"] == []
    assert converted["company_id"] in {c["company_id"] for c in first["companies"]}
    sales = first["sales"]
    assert [d["id"] for d in sales["open_deal_list"]] == [deal_id]
    assert (sales["last_orders"], sales["outstanding_balance"], sales["lifetime_value"]) == ([], [], [])

    # The deal moves to the proposal stage and is quoted from: the quote names the deal only.
    pipeline = _ok(rep.request("GET", f"/api/v1/pipelines/{deal['pipeline_id']}"))
    proposal = pipeline["stages"][2]
    _ok(rep.request("POST", f"{deal_path}:move", {"stage_id": proposal["id"]}))
    quote = _ok(
        rep.request(
            "POST",
            "/api/v1/quotes",
            {
                "deal_id": deal_id,
                "price_list_id": price_list["id"],
                "lines": [{"product_id": product["id"], "quantity": 4, "discount_bp": 500}],
            },
            headers={"Idempotency-Key": f"l2c-quote-{run}"},
        ),
        201,
    )
    assert (quote["contact_id"], quote["company_id"]) == (contact_id, converted["company_id"])
    # 4 x 250.00 = 1,000.00; 5% off = 50.00; net 950.00; tax 20% = 190.00; total 1,140.00
    grand_total = _eur(114_000)
    assert quote["total"]["grand_total"] == grand_total and quote["approval"]["state"] != "pending"
    quote_path = f"/api/v1/quotes/{quote['id']}"
    assert _ok(rep.request("POST", f"{quote_path}:send", {}))["status"] == "sent"
    accepted = _ok(rep.request("POST", f"{quote_path}:accept", {}))
    order_path = f"/api/v1/orders/{accepted['order_id']}"
    order = _ok(rep.request("GET", order_path))
    assert (order["quote_id"], order["contact_id"], order["status"]) == (quote["id"], contact_id, "submitted")
    assert order["total"]["grand_total"] == grand_total and order["balance"] == grand_total

    sales = view()["sales"]
    assert [o["id"] for o in sales["last_orders"]] == [order["id"]]
    assert sales["outstanding_balance"] == [grand_total] and sales["lifetime_value"] == [grand_total]
    assert sales["open_orders"] == 1 and [d["id"] for d in sales["open_deal_list"]] == [deal_id]

    # The deal is won; the order goes through its status flow and is paid in full.
    assert _ok(rep.request("POST", f"{deal_path}:win", {"reason": "quote accepted"}))["status"] == "won"
    for step, status in ((":confirm", "confirmed"), (":ship", "shipped"), (":deliver", "delivered")):
        assert _ok(rep.request("POST", f"{order_path}{step}", {}))["status"] == status
    payment = _ok(
        rep.request(
            "POST",
            "/api/v1/payments",
            {
                "amount": grand_total,
                "method": "bank_transfer",
                "reference": f"L2C-{run}",
                "contact_id": contact_id,
                "allocations": [{"order_id": order["id"], "amount": grand_total}],
            },
            headers={"Idempotency-Key": f"l2c-payment-{run}"},
        ),
        201,
    )
    assert _ok(rep.request("GET", order_path))["balance"] == _eur(0)
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0)
    task = _ok(
        rep.request(
            "POST",
            "/api/v1/tasks",
            {
                "title": "Ask how the engine runs",
                "contact_id": contact_id,
                "deal_id": deal_id,
                "due_at": due.isoformat().replace("+00:00", "Z"),
            },
        ),
        201,
    )

    sales = view()["sales"]
    assert sales["open_deal_list"] == [] and sales["open_orders"] == 0
    assert sales["outstanding_balance"] == [] and sales["lifetime_value"] == [grand_total]
    assert sales["purchase_history"] == [
        {"year": dt.datetime.now(dt.UTC).year, "orders": 1, "total": grand_total}
    ]
    assert [o["status"] for o in sales["last_orders"]] == ["delivered"]
    assert (sales["open_tasks"], sales["next_task"]["id"]) == (1, task["id"])

    # Every step on the contact's timeline, each about its own record.
    number, title = order["number"], deal["title"]
    expected = {
        ("lead_converted", lead["id"]),
        ("deal_created", deal_id),
        ("deal_stage_changed", deal_id),
        ("deal_won", deal_id),
        ("quote_sent", quote["id"]),
        ("quote_accepted", quote["id"]),
        ("order_placed", order["id"]),
        ("order_status_changed", order["id"]),
        ("payment_received", payment["id"]),
        ("task_created", task["id"]),
    }

    def entries() -> list[dict[str, Any]]:
        return _ok(rep.request("GET", f"/api/v1/contacts/{contact_id}/timeline?limit=200"))["items"]

    def all_there() -> bool:
        seen = [(e["event_type"], e["ref_id"]) for e in entries()]
        return expected <= set(seen) and seen.count(("order_status_changed", order["id"])) == 3

    wait_until(
        all_there,
        timeout=30,
        what="every lead-to-cash step on the contact's timeline",
    )
    titles = {e["title"] for e in entries()}
    for shown in (
        f"Converted from lead: Engines {run}",
        f"Deal created: {title}",
        f"Deal {title} moved to {proposal['name']}",
        f"Deal won: {title}",
        f"Quote {quote['number']} sent",
        f"Quote {quote['number']} accepted",
        f"Order placed: {number}",
        f"Order {number} confirmed",
        f"Order {number} shipped",
        f"Order {number} delivered",
        "Payment received",
        "Task: Ask how the engine runs",
    ):
        assert shown in titles, (shown, sorted(titles))
    # The 360 carries the same timeline, newest first: the task is the latest step.
    assert view()["timeline"][0]["ref_id"] == task["id"]
