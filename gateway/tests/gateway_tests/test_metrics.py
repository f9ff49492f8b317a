"""`GET /metrics`: per-route request metrics, optional bearer token, and correct sums under gunicorn."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway_tests.gunicorn_gateway import gateway_env, serving


def metric(body: str, name: str, **labels: str) -> float:
    """The value of one sample in a text exposition, 0 when absent."""
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_requests_are_counted_by_route_method_and_status(gateway: Any, api: Any, anonymous: Any) -> None:
    # The label is the URL rule the request matched (transcoded routes name their variables v0, v1...).
    rule, _ = gateway.app.url_map.bind("localhost").match("/api/v1/contacts/x", "GET", return_rule=True)
    route = rule.rule
    assert "<" in route and "x" not in route.rsplit("/", 1)[-1]
    body = anonymous.get("/metrics").text
    before_ok = metric(body, "crm_http_requests_total", route=route, method="GET", status="200")
    before_missing = metric(body, "crm_http_requests_total", route=route, method="GET", status="404")
    before_unmatched = metric(body, "crm_http_requests_total", route="<unmatched>", status="404")

    contact = api.create_contact()
    assert api.get(f"/api/v1/contacts/{contact['id']}").status_code == 200
    assert api.get("/api/v1/contacts/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get(f"/nothing/here/{secrets.token_hex(4)}").status_code == 404
    for _ in range(3):  # probes and scrapes are not counted
        anonymous.get("/healthz")
        anonymous.get("/metrics")

    body = anonymous.get("/metrics").text
    route_rules = {r for r in re.findall(r'route="([^"]*)"', body)}
    assert route in route_rules, sorted(route_rules)
    assert not any(contact["id"] in r for r in route_rules), "raw paths would make unbounded series"
    assert metric(body, "crm_http_requests_total", route=route, method="GET", status="200") == before_ok + 1
    assert (
        metric(body, "crm_http_requests_total", route=route, method="GET", status="404") == before_missing + 1
    )
    assert metric(body, "crm_http_requests_total", route="<unmatched>", status="404") == before_unmatched + 1
    assert metric(body, "crm_http_request_duration_seconds_count", route=route, method="GET") >= 2
    assert "/metrics" not in route_rules and "/healthz" not in route_rules


def test_metrics_can_require_a_bearer_token(
    own_gateway: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", token)
    gateway = own_gateway()
    assert requests.get(f"{gateway.url}/metrics", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.get(f"{gateway.url}/metrics", headers=wrong, timeout=5).status_code == 401
    right = {"Authorization": f"Bearer {token}"}
    reply = requests.get(f"{gateway.url}/metrics", headers=right, timeout=5)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/plain")


# --- under gunicorn: several workers, one truthful /metrics ----------------------------------------------


def test_metrics_sum_every_gunicorn_worker(tmp_path: Path, services: dict[str, Any]) -> None:
    env = gateway_env(tmp_path, services, GATEWAY_WORKERS="3", GATEWAY_THREADS="2")
    # An inherited PROMETHEUS_MULTIPROC_DIR would be used instead of the gateway-metrics-* one checked below.
    env = {k: v for k, v in env.items() if not k.startswith("PROMETHEUS")}
    route = "/api/v1/openapi.json"
    with serving(env, tmp_path / "gateway.log") as (url, _process):
        sent = 30
        for _ in range(sent):  # a new connection each: the kernel hands them to different workers
            assert requests.get(f"{url}{route}", timeout=10).status_code == 200
        # Every scrape, whichever worker answers it, sees all of them.
        counts = {
            metric(requests.get(f"{url}/metrics", timeout=5).text, "crm_http_requests_total", route=route)
            for _ in range(6)
        }
        assert counts == {float(sent)}, counts
        metrics_dirs = list(tmp_path.glob("gateway-metrics-*"))
        assert len(metrics_dirs) == 1 and len(list(metrics_dirs[0].glob("*.db"))) >= 2, "workers wrote files"
    assert not list(tmp_path.glob("gateway-metrics-*")), "the master removes its metrics directory on exit"
