"""Sales reports, quotas and the customer-360's sales section on the real platform, through the gateway
over HTTP: each caller's figures cover only the deals it may read (a rep with team read: the team's; a
partner user: its account's; an admin: all), a manager sets a quota for a rep of the team and the rep's
KPIs measure attainment against it, and the 360 shows the contact's open deals, last orders, purchase
history, outstanding balance, lifetime value and next task."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "reports-e2e-password-1"


@dataclass
class Cast:
    admin: GatewayClient
    users: dict[str, GatewayClient]
    ids: dict[str, str]
    teams: dict[str, str]
    partner_account: str
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    admin = platform.client()
    run = secrets.token_hex(4)
    teams = {
        label: _ok(admin.request("POST", "/api/v1/teams", {"name": f"Reports-{label}-{run}"}), 201)["id"]
        for label in ("A", "B")
    }
    account = _ok(
        admin.request("POST", "/api/v1/partner-accounts", {"name": f"R-{run}", "kind": "distributor"}), 201
    )["id"]
    people = {
        "rep_a": {"roles": ["sales_rep"], "team_ids": [teams["A"]]},
        "manager_a": {"roles": ["manager"], "team_ids": [teams["A"]]},
        "rep_b": {"roles": ["sales_rep"], "team_ids": [teams["B"]]},
        "partner": {"roles": ["partner"], "team_ids": [], "partner_account_id": account},
    }
    users, ids = {}, {}
    for label, fields in people.items():
        email = f"reports-{label}-{run}@example.com"
        body = {"email": email, "name": label, "password": PASSWORD, **fields}
        ids[label] = _ok(admin.request("POST", "/api/v1/users", body), 201)["id"]
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        users[label] = client
    yield Cast(admin, users, ids, teams, account, run)
    for client in (admin, *users.values()):
        client.close()


def _deal(client: GatewayClient, pipeline: dict[str, Any], amount: int, currency: str, **fields: Any) -> Any:
    body = {
        "title": "Reports deal",
        "pipeline_id": pipeline["id"],
        "amount": {"amount_minor": amount, "currency": currency},
        "expected_close_date": dt.datetime.now(dt.UTC).date().isoformat(),
        **fields,
    }
    return _ok(client.request("POST", "/api/v1/deals", body), 201)


def test_reports_show_each_caller_the_deals_it_may_read_and_quota_attainment(cast: Cast) -> None:
    admin, users, year = cast.admin, cast.users, str(dt.datetime.now(dt.UTC).year)
    stages = [{"name": name, "probability": p} for name, p in (("In", 20), ("Offer", 50), ("Signed", 90))]
    pipeline = _ok(
        admin.request("POST", "/api/v1/pipelines", {"name": f"Reports {cast.run}", "stages": stages}), 201
    )
    offer = pipeline["stages"][1]["id"]
    won_a = _deal(users["rep_a"], pipeline, 100_000, "EUR")
    _ok(users["rep_a"].request("POST", f"/api/v1/deals/{won_a['id']}:move", {"stage_id": offer}))
    _ok(users["rep_a"].request("POST", f"/api/v1/deals/{won_a['id']}:win", {"reason": "fit"}))
    _deal(users["rep_a"], pipeline, 40_000, "EUR")
    _deal(users["rep_b"], pipeline, 5_000, "USD")
    _deal(users["partner"], pipeline, 700, "EUR")

    def funnel(client: GatewayClient) -> dict[str, Any]:
        path = f"/api/v1/sales/reports/funnel?pipeline_id={pipeline['id']}&period={year}"
        return _ok(client.request("GET", path))

    entered = {label: funnel(c)["stages"][0]["entered"] for label, c in (("admin", admin), *users.items())}
    assert entered == {"admin": 4, "rep_a": 2, "manager_a": 2, "rep_b": 1, "partner": 1}
    first = funnel(users["rep_a"])["stages"][0]
    assert first["entered_value"] == [{"amount_minor": 140_000, "currency": "EUR"}]
    assert (first["advanced"], first["conversion_rate"]) == (1, 0.5)

    # Forecast: rep A sees the team's open deal only (the won one is no longer forecast), weighted 20%.
    forecast = _ok(
        users["rep_a"].request(
            "GET", f"/api/v1/sales/reports/forecast?pipeline_id={pipeline['id']}&period={year}"
        )
    )
    assert [(r["owner_id"], r["amount"], r["weighted"]) for r in forecast["rows"]] == [
        (
            cast.ids["rep_a"],
            {"amount_minor": 40_000, "currency": "EUR"},
            {"amount_minor": 8_000, "currency": "EUR"},
        )
    ]
    everything = _ok(
        admin.request("GET", f"/api/v1/sales/reports/forecast?pipeline_id={pipeline['id']}&period={year}")
    )
    assert {t["amount"]["currency"]: t["deals"] for t in everything["totals"]} == {"EUR": 2, "USD": 1}

    # A quota set by rep A's manager: rep A's KPIs measure against it; rep B sees neither.
    quota = {
        "period": year,
        "amount": {"amount_minor": 200_000, "currency": "EUR"},
        "owner_id": cast.ids["rep_a"],
        "team_id": cast.teams["A"],
    }
    assert users["rep_a"].request("POST", "/api/v1/quotas", quota).status == 403
    _ok(users["manager_a"].request("POST", "/api/v1/quotas", quota), 201)
    kpis = _ok(users["rep_a"].request("GET", f"/api/v1/sales/reports/rep-kpis?period={year}"))
    mine = {r["owner_id"]: r for r in kpis["reps"]}[cast.ids["rep_a"]]
    assert (mine["deals_won"], mine["revenue"], mine["quota_attainment"]) == (
        1,
        [{"amount_minor": 100_000, "currency": "EUR"}],
        0.5,
    )
    assert mine["quota"] == {"amount_minor": 200_000, "currency": "EUR"}
    theirs = _ok(users["rep_b"].request("GET", f"/api/v1/sales/reports/rep-kpis?period={year}"))
    assert cast.ids["rep_a"] not in {r["owner_id"] for r in theirs["reps"]}
    # A partner user has no quota rights: creating one is refused, and the list holds nothing.
    assert users["partner"].request("POST", "/api/v1/quotas", quota).status == 403
    assert _ok(users["partner"].request("GET", "/api/v1/quotas"))["items"] == []
    # Bad input is a 4xx problem, never a 500.
    assert admin.request("GET", "/api/v1/sales/reports/funnel?period=2026-13").status in (400, 422)
    assert admin.request("GET", "/api/v1/sales/reports/funnel?period=2026&pipeline_id=nope").status == 404


def test_the_360_sales_section_shows_deals_orders_purchases_balance_and_lifetime_value(cast: Cast) -> None:
    admin, run = cast.admin, cast.run
    contact = _ok(
        admin.request(
            "POST",
            "/api/v1/contacts",
            {"first_name": "Ada", "last_name": "Reports", "email": f"reports-360-{run}@example.com"},
        ),
        201,
    )
    pipeline = _ok(admin.request("GET", "/api/v1/pipelines"))["items"][0]
    deal = _deal(admin, pipeline, 90_000, "EUR", contact_id=contact["id"])
    product = _ok(
        admin.request("POST", "/api/v1/products", {"sku": f"R-{run}", "name": "Kit", "tax_rate_bp": 0}), 201
    )
    prices = [{"product_id": product["id"], "unit_amount_minor": 1_000}]
    price_list = _ok(
        admin.request(
            "POST", "/api/v1/price-lists", {"name": f"Reports {run}", "currency": "EUR", "prices": prices}
        ),
        201,
    )

    def order(quantity: int) -> dict[str, Any]:
        body = {
            "lines": [{"product_id": product["id"], "quantity": quantity}],
            "contact_id": contact["id"],
            "price_list_id": price_list["id"],
        }
        return _ok(admin.request("POST", "/api/v1/orders", body), 201)

    paid, cancelled, latest = order(3), order(5), order(2)
    _ok(admin.request("POST", f"/api/v1/orders/{cancelled['id']}:cancel", {"reason": "changed mind"}))
    payment = {
        "amount": {"amount_minor": 3_000, "currency": "EUR"},
        "method": "bank_transfer",
        "contact_id": contact["id"],
        "allocations": [{"order_id": paid["id"], "amount": {"amount_minor": 3_000, "currency": "EUR"}}],
    }
    _ok(admin.request("POST", "/api/v1/payments", payment), 201)
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
    task = _ok(
        admin.request(
            "POST", "/api/v1/tasks", {"title": "Follow up", "contact_id": contact["id"], "due_at": due}
        ),
        201,
    )

    sales = _ok(admin.request("GET", f"/api/v1/customers/{contact['id']}/360"))["sales"]
    assert [d["id"] for d in sales["open_deal_list"]] == [deal["id"]]
    assert [o["id"] for o in sales["last_orders"]] == [latest["id"], cancelled["id"], paid["id"]]
    year = dt.datetime.now(dt.UTC).year
    assert sales["purchase_history"] == [
        {"year": year, "orders": 2, "total": {"amount_minor": 5_000, "currency": "EUR"}}
    ]
    assert sales["lifetime_value"] == [{"amount_minor": 5_000, "currency": "EUR"}]
    assert sales["outstanding_balance"] == [{"amount_minor": 2_000, "currency": "EUR"}]
    assert sales["open_orders"] == 2
    assert (sales["open_tasks"], sales["next_task"]["id"]) == (1, task["id"])
    # A partner user of another account reads neither the deal nor the orders.
    other = cast.users["partner"].request("GET", f"/api/v1/customers/{contact['id']}/360")
    assert other.status == 404
