"""Prometheus metrics every process exposes (gateway at `/metrics`, each service on its metrics port).

The event metrics are defined here, once, so the relay, the consumer and the collectors that read the
outbox and the broker all use the same names. Process identity (service, pod) comes from the scrape
target's labels, not from metric labels.

The rest of the package, one job per module:
- `rpc`: request rate, latency and errors of every gRPC method a server answers (a server interceptor);
- `outbox`: a collector reading the outbox table at scrape time (pending, oldest pending age, parked);
- `broker`: a collector asking RabbitMQ for queue depths (consumer lag, dead-letter queues), cached;
- `exposition`: the HTTP endpoint a service process serves its metrics on.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_PUBLISHED = Counter(
    "crm_events_published_total", "Events the outbox relay published and the broker confirmed", ["event_type"]
)
EVENTS_PUBLISH_FAILURES = Counter(
    "crm_events_publish_failures_total",
    "Publish attempts that failed (nack, returned as unroutable, connection lost, bad row)",
    ["reason"],
)
EVENTS_PARKED = Counter(
    "crm_events_parked_total", "Outbox rows the relay gave up on after its attempt limit", ["event_type"]
)
EVENTS_CONSUMED = Counter(
    "crm_events_consumed_total",
    "Events a consumer finished with, by outcome (applied, duplicate, deferred, retried, dead_lettered)",
    ["queue", "event_type", "outcome"],
)
EVENT_HANDLER_SECONDS = Histogram(
    "crm_event_handler_seconds", "Time to apply one event (handler plus its transaction)", ["queue"]
)
