"""gRPC clients: channels with tracing, a deadline on every call, and the caller passed along."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import client_interceptor
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel as intercept_traced

from crm_platform.access.caller import METADATA_KEY as CALLER_CONTEXT_METADATA_KEY

DEFAULT_DEADLINE_SECONDS = 2.0


@dataclass(frozen=True)
class Caller:
    """Who a call is made for, as the gateway knows them. Services believe only `context`: the caller
    context the gateway signed (crm_platform.access), sent as `x-crm-caller` metadata; the other fields
    are for the gateway's own use (logs, idempotency), never sent as credentials."""

    user_id: str
    roles: tuple[str, ...] = ()
    team: str = ""
    partner_account: str = ""
    context: str = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_CONTEXT_METADATA_KEY, self.context),) if self.context else ()


class _DefaultDeadline(grpc.UnaryUnaryClientInterceptor):
    """Gives every call a deadline unless the caller chose one: a call without one can hang forever."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self.seconds)
        return continuation(client_call_details, request)


# Spread calls over every address the name resolves to. With the default `pick_first`, a channel to a
# Service name sticks to one pod, so a gateway worker never uses a second replica; `round_robin` keeps a
# subchannel per address (a headless Service resolves to one per ready pod) and rotates calls over them.
SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})
# How often a channel pings its server while calls are open (a gateway's channels always have one: its
# health watch), to notice a dead connection; servers accept pings this often (crm_platform.grpc_server).
KEEPALIVE_TIME_MS = 30_000
MAX_RECONNECT_BACKOFF_MS = 1_000
CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", SERVICE_CONFIG),
    # Resolve again at most this often when connections drop (pods come and go on a scale-out).
    ("grpc.dns_min_time_between_resolutions_ms", 5_000),
    # A lost connection is tried again at least this often. gRPC's default backoff grows to two minutes:
    # a service restarted after ten seconds down was reached again only ~6 s after it was back, and
    # the gateway's calls and readiness said it was unreachable meanwhile (tests/unit/test_reconnect.py).
    ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
)


def channel_target(address: str) -> str:
    """`host:port` -> `dns:///host:port`, so the channel resolves every address of the name (and again
    when connections drop) for round_robin to use; a target with a scheme (`ipv4:`, `dns:`, `unix:`)
    is kept as given."""
    if ":///" in address or address.startswith(("ipv4:", "ipv6:", "unix:", "unix-abstract:", "dns:")):
        return address
    return f"dns:///{address}"


def open_plain_channel(target: str) -> grpc.Channel:
    """A channel with the platform's options and no interceptors: for hot paths that set every call's
    deadline and start its client span themselves (crm_platform.telemetry.start_grpc_client_span)."""
    return grpc.insecure_channel(channel_target(target), options=CHANNEL_OPTIONS)


def open_channel(target: str, *, default_deadline: float = DEFAULT_DEADLINE_SECONDS) -> grpc.Channel:
    return intercepted(open_plain_channel(target), default_deadline=default_deadline)


def intercepted(channel: grpc.Channel, *, default_deadline: float = DEFAULT_DEADLINE_SECONDS) -> grpc.Channel:
    """`channel` seen through the platform's client interceptors (a default deadline, a CLIENT span per
    call): what `open_channel` returns, over a plain channel the caller also uses as is."""
    with_deadline = grpc.intercept_channel(channel, _DefaultDeadline(default_deadline))
    # OpenTelemetry's client interceptor has its own interface, which only its own intercept_channel takes.
    return intercept_traced(with_deadline, client_interceptor())
