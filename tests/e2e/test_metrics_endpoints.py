"""Every platform process serves Prometheus metrics: the gateway per route, each service's server per
RPC, each worker its outbox backlog and queue depths, and the event counters of relay and consumer."""

from __future__ import annotations

import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def _samples(url: str) -> dict[str, list]:
    text = requests.get(url, timeout=5).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _metrics_url(platform, process: str) -> str:
    return f"http://127.0.0.1:{platform.config.metrics_ports[process]}/metrics"


def test_each_process_serves_its_figures(platform, api) -> None:
    created = api.create_contact(first_name="Ada", last_name="Metrics", email="ada-metrics@example.com")
    contact_id = created["id"]

    served = _samples(_metrics_url(platform, "contacts"))
    handled = served["crm_grpc_server_handled"]
    assert any(
        s.labels.get("grpc_method") == "CreateContact" and s.labels.get("grpc_code") == "OK" and s.value >= 1
        for s in handled
    ), handled

    worker = _samples(_metrics_url(platform, "contacts-worker"))
    assert "crm_outbox_pending" in worker and "crm_outbox_oldest_pending_age_seconds" in worker
    assert [s.value for s in worker["crm_outbox_collector_up"]] == [1.0]

    # The welcome notification: the contacts relay published it and the notifications consumer applied it.
    deadline = time.monotonic() + 20
    while True:
        notifications = _samples(_metrics_url(platform, "notifications-worker"))
        applied = [
            s
            for s in notifications.get("crm_events_consumed", [])
            if s.labels.get("outcome") == "applied" and s.labels.get("event_type") == "contact_created"
        ]
        if applied and applied[0].value >= 1:
            break
        assert time.monotonic() < deadline, f"no applied contact_created counted for {contact_id}"
        time.sleep(0.2)
    assert "crm_queue_messages_ready" in notifications and "crm_dlq_messages" in notifications

    gateway = _samples(f"{platform.config.gateway_url}/metrics")
    assert any(
        s.labels.get("method") == "POST" and s.labels.get("status") == "201"
        for s in gateway["crm_http_requests"]
    ), gateway.get("crm_http_requests")
