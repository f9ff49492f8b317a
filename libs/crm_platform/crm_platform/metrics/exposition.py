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
from prometheus_client.registry import Collector, CollectorRegistry

from crm_platform import config

log = logging.getLogger(__name__)


def serve_metrics(
    port_setting: config.Setting[int],
    collectors: Iterable[Collector] = (),
    *,
    registry: CollectorRegistry = REGISTRY,
) -> WSGIServer | None:
    """Register `collectors` and serve `registry` on the port `port_setting` names, in a daemon thread.

    Returns the server (its `server_address` has the bound port; `shutdown()` stops it), or None when the
    port is 0 or cannot be bound. A taken port is logged, not fatal: losing metrics must not take a
    service down, and the missing scrape target is what alerts.
    """
    for collector in collectors:
        registry.register(collector)
    port = port_setting.get()
    if port == 0:
        log.info("metrics endpoint disabled", extra={"setting": port_setting.name})
        return None
    host = config.METRICS_HOST.get()
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
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
