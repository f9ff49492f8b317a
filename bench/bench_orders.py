"""Placing orders through the gateway against creating contacts, in the same run.

The whole platform runs as for `make run` (every service's serve and worker, the gateway under gunicorn)
on SQLite. A partner account gets a price list of 20 products and terms with a credit limit no run
reaches; then, in alternating windows (A B, B A, ... so that other load on the machine falls on both
alike), CONCURRENCY clients create contacts (`POST /api/v1/contacts`, as the admin, `allow_duplicate`
set: the look-alike names would otherwise be refused as duplicates) or place orders of
three lines (`POST /api/v1/orders`, as the partner's user: priced from its list, checked against its
credit limit under the terms row's lock, with history and `order_placed`). The figure is orders per
second over contacts per second.

Run: `.venv/bin/python bench/bench_orders.py [--seconds 24] [--concurrency 8]`. Target (issue "Sales,
lead to cash"): orders >= 0.5x contacts. `make bench` puts the output in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from crm_devrun.platform import PlatformConfig, start_platform

from crm_platform.testing import rabbit

PASSWORD = "bench-orders-password-1"


def _check(reply: requests.Response, status: int) -> dict:
    if reply.status_code != status:
        raise RuntimeError(
            f"{reply.request.method} {reply.request.url}: {reply.status_code} {reply.text[:300]}"
        )
    return reply.json()


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


SERIALS = itertools.count(1)


def window(
    seconds: float, concurrency: int, make_call: Callable[[requests.Session, int], int], token: str
) -> tuple[int, int, list[float]]:
    """(succeeded, failed, latencies in ms) of `concurrency` clients calling for `seconds`."""
    stop = time.monotonic() + seconds
    done, failed, latencies, lock = [0], [0], [], threading.Lock()
    statuses: dict[int, int] = {}

    def client() -> None:
        session = _session(token)
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = make_call(session, next(SERIALS))  # unique across windows: emails must not repeat
            took = (time.perf_counter() - started) * 1000
            with lock:
                if status == 201:
                    done[0] += 1
                    latencies.append(took)
                else:
                    failed[0] += 1
                    statuses[status] = statuses.get(status, 0) + 1
        session.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if statuses:
        print(f"  refused: {statuses}", flush=True)
    return done[0], failed[0], latencies


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=24.0, help="measured seconds per target, in all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    run = secrets.token_hex(4)
    vhost = f"crm-bench-orders-{run}"
    rabbit.create_vhost(vhost)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-orders-") as data_dir:
            admin_password = secrets.token_urlsafe(24)
            config = PlatformConfig.with_free_ports(
                data_dir=Path(data_dir),
                amqp_url=rabbit.amqp_url_for_vhost(vhost),
                jwt_secret=secrets.token_urlsafe(48),
                admin_email="bench-admin@example.com",
                admin_password=admin_password,
            )
            supervisor = start_platform(config, ready_timeout=180)
            try:
                return measure(config.gateway_url, config.admin_email, admin_password, run, args)
            finally:
                supervisor.stop()
    finally:
        rabbit.delete_vhost(vhost)


def measure(url: str, admin_email: str, admin_password: str, run: str, args: argparse.Namespace) -> int:
    login = {"email": admin_email, "password": admin_password}
    admin_token = _check(requests.post(f"{url}/api/v1/auth/token", json=login, timeout=30), 200)[
        "access_token"
    ]
    admin = _session(admin_token)
    account = _check(
        admin.post(f"{url}/api/v1/partner-accounts", json={"name": f"Bench {run}", "kind": "distributor"}),
        201,
    )["id"]
    email = f"bench-partner-{run}@example.com"
    user = {
        "email": email,
        "name": "bench partner",
        "password": PASSWORD,
        "roles": ["partner"],
        "partner_account_id": account,
    }
    _check(admin.post(f"{url}/api/v1/users", json=user), 201)
    partner_token = _check(
        requests.post(f"{url}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=30),
        200,
    )["access_token"]
    products = [
        _check(
            admin.post(
                f"{url}/api/v1/products",
                json={"sku": f"B-{run}-{i}", "name": f"Item {i}", "tax_rate_bp": 2000},
            ),
            201,
        )["id"]
        for i in range(20)
    ]
    prices = [
        {"product_id": p, "unit_amount_minor": 1000 + i * 37, "min_quantity": 1}
        for i, p in enumerate(products)
    ]
    prices += [
        {"product_id": p, "unit_amount_minor": 900 + i * 31, "min_quantity": 10}
        for i, p in enumerate(products)
    ]
    price_list = _check(
        admin.post(
            f"{url}/api/v1/price-lists",
            json={"name": "Bench", "currency": "EUR", "prices": prices, "partner_account_ids": [account]},
        ),
        201,
    )["id"]
    terms = {"price_list_id": price_list, "credit_limit": {"amount_minor": 10**15, "currency": "EUR"}}
    _check(admin.patch(f"{url}/api/v1/partner-accounts/{account}/terms", json=terms), 200)

    def create_contact(session: requests.Session, serial: int) -> int:
        body = {
            "first_name": "Bench",
            "last_name": f"Contact{serial}",
            "email": f"b-{run}-{serial}@example.com",
        }
        return session.post(f"{url}/api/v1/contacts", json=body, timeout=30).status_code

    def place_order(session: requests.Session, serial: int) -> int:
        lines = [
            {"product_id": products[(serial + k * 7) % 20], "quantity": 1 + (serial + k) % 15}
            for k in range(3)
        ]
        return session.post(f"{url}/api/v1/orders", json={"lines": lines}, timeout=30).status_code

    targets = (("contacts", create_contact, admin_token), ("orders", place_order, partner_token))
    totals = {name: [0, 0, 0.0, []] for name, _, _ in targets}
    per_window = args.seconds / args.rounds
    for _name, call, token in targets:  # warm-up: connections, caches, statement caches
        window(2.0, args.concurrency, call, token)
    for round_ in range(args.rounds):
        for name, call, token in targets if round_ % 2 == 0 else tuple(reversed(targets)):
            ok, failed, latencies = window(per_window, args.concurrency, call, token)
            total = totals[name]
            total[0] += ok
            total[1] += failed
            total[2] += per_window
            total[3] += latencies
    rates = {}
    for name, (ok, failed, seconds, latencies) in totals.items():
        rates[name] = ok / seconds
        print(
            f"{name}: {rates[name]:,.1f}/s ({ok} created, {failed} failed, p99 {p99(latencies):.0f} ms) over "
            f"{seconds:.0f} s at {args.concurrency} clients",
            flush=True,
        )
    ratio = rates["orders"] / rates["contacts"] if rates["contacts"] else 0.0
    verdict = "met" if ratio >= 0.5 else "NOT met"
    print(
        f"**orders / contacts: {ratio:.2f}x** (target >= 0.5x: {verdict}); SQLite, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
