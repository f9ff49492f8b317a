"""The HTTP endpoint a service process serves its metrics on (`GET /metrics` on its metrics port).

Services run one process per container (`serve` or `worker`, a bounded thread pool each), so the
default registry in memory is the whole truth; only the gateway, with its several gunicorn workers,
needs prometheus-client's multiprocess mode (gateway/gateway/metrics.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from crm_platform import config

log = logging.getLogger(__name__)


class _Everything(Collector):
    """Everything in another registry, as one collector: the endpoint's own registry holds this plus the
    process's collectors, so a second endpoint in the same process (tests, a restarted worker loop) never
    collides with the first one's collectors in the global registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def describe(self) -> list[Metric]:
        return []  # no names to reserve: they belong to the wrapped registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def serve_metrics(
    port_setting: config.Setting[int],
    collectors: Iterable[Collector] = (),
    *,
    registry: CollectorRegistry = REGISTRY,
) -> WSGIServer | None:
    """Serve `registry` (the process's metrics) and `collectors` (read at scrape time, e.g. the outbox
    and queue-depth collectors) on the port `port_setting` names, from a daemon thread.

    Returns the server (its `server_address` has the bound port; `shutdown()` stops it), or None when the
    port is 0 or cannot be bound. A taken port is logged, not fatal: losing metrics must not take a
    service down, and the missing scrape target is what alerts.
    """
    port = port_setting.get()
    if port == 0:
        log.info("metrics endpoint disabled", extra={"setting": port_setting.name})
        return None
    served = CollectorRegistry()
    served.register(_Everything(registry))
    for collector in collectors:
        served.register(collector)
    host = config.METRICS_HOST.get()
    try:
        server, _thread = start_http_server(port, addr=host, registry=served)
    except OSError as exc:
        log.error(
            "cannot serve metrics on %s:%s (%s); set %s to another port, or 0",
            host,
            port,
            exc,
            port_setting.name,
        )
        return None
    log.info("metrics served", extra={"address": f"{host}:{port}", "path": "/metrics"})
    return server
