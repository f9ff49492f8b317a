"""Per-route request metrics and `GET /metrics`, correct across gunicorn's worker processes.

gunicorn runs several workers, and a scrape of `/metrics` lands on any one of them, so each worker's
counters alone would be a random fraction of the truth. prometheus-client's multiprocess mode fixes
that: every worker writes its values to memory-mapped files in one directory
(`PROMETHEUS_MULTIPROC_DIR`, set up by the master before it forks: `prepare_multiprocess`), and
`/metrics` sums the files of all workers, dead ones included, so counters never go backwards when a
worker is recycled. Without that directory (tests, Werkzeug's single process) each app keeps its own
registry in memory.

The route label is Flask's URL rule (`/api/v1/contacts/<contact_id>`), never the raw path, so the number
of series stays bounded. Probes and scrapes are not counted: they would drown the traffic worth seeing.
"""

from __future__ import annotations

import hmac
import os
import shutil
import tempfile
import time
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from crm_platform import config

METRICS_PATH = "/metrics"
UNCOUNTED_PATHS = frozenset({METRICS_PATH, "/healthz", "/readyz"})
UNMATCHED_ROUTE = "<unmatched>"  # 404s: one series for every path no rule matches
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

METRICS_TOKEN = config.Setting(
    "GATEWAY_METRICS_TOKEN",
    config.as_str,
    default="",
    secret=True,
    help="bearer token GET /metrics requires (empty: open; then keep /metrics off the public ingress)",
)


class RouteMetrics:
    """The gateway's request counter and latency histogram, registered on one app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "crm_http_requests_total",
            "HTTP requests the gateway answered, by route (URL rule), method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "crm_http_request_duration_seconds",
            "Time from the gateway receiving a request to its response, by route and method",
            ["route", "method"],
            # Transcoded calls are a few ms; customer-360 fans out under a 1 s deadline.
            buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )

    def exposition(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)


def install(app: Flask, token: str = "") -> RouteMetrics:
    """Count every request of `app` and serve `GET /metrics` (requiring `Bearer <token>` when given)."""
    metrics = RouteMetrics(CollectorRegistry())

    @app.before_request
    def _start_timer() -> None:
        g.crm_request_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("crm_request_started", None)
        if started is None or request.path in UNCOUNTED_PATHS:
            return response
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        metrics.seconds.labels(route, request.method).observe(time.perf_counter() - started)
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        return response

    @app.get(METRICS_PATH)
    def _metrics() -> Response:
        if token and not _bearer_matches(token):
            return Response(
                "metrics need the bearer token\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)

    return metrics


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


# --- multiprocess mode, set up by the gunicorn master ---------------------------------------------------


def prepare_multiprocess(data_dir: Path) -> Path:
    """A fresh directory for the workers' metric files, named in the environment the workers inherit.

    Fresh on every start: files left by an earlier run (pids get reused) would add stale counts. An
    operator's own PROMETHEUS_MULTIPROC_DIR is emptied and used instead.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="gateway-metrics-", dir=data_dir)).resolve()
        os.environ[MULTIPROC_ENV] = str(directory)
    # prometheus-client picks its value class when first imported; if anything imported it already in
    # this process, switch it now so metrics created after fork (in the workers) write to the files.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    return directory


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: drop the live gauges of a dead worker (its counters stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


def remove_multiprocess_dir(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
