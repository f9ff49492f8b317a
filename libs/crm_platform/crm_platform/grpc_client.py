"""gRPC clients: channels with tracing, a deadline on every call, and the caller passed along."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import client_interceptor
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel as intercept_traced

DEFAULT_DEADLINE_SECONDS = 2.0
# Caller identity travels as metadata so services can scope their queries (DESIGN.md: authorization at
# both ends). Keys are lowercase as gRPC requires.
CALLER_METADATA_KEYS = ("x-crm-user-id", "x-crm-roles", "x-crm-team", "x-crm-partner-account")


@dataclass(frozen=True)
class Caller:
    user_id: str
    roles: tuple[str, ...] = ()
    team: str = ""
    partner_account: str = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("x-crm-user-id", self.user_id),
            ("x-crm-roles", ",".join(self.roles)),
            ("x-crm-team", self.team),
            ("x-crm-partner-account", self.partner_account),
        )

    @classmethod
    def from_metadata(cls, metadata: Sequence[tuple[str, Any]] | None) -> Caller | None:
        values = {k: v for k, v in metadata or () if k in CALLER_METADATA_KEYS}
        if not values.get("x-crm-user-id"):
            return None
        roles = tuple(r for r in str(values.get("x-crm-roles", "")).split(",") if r)
        return cls(
            user_id=str(values["x-crm-user-id"]),
            roles=roles,
            team=str(values.get("x-crm-team", "")),
            partner_account=str(values.get("x-crm-partner-account", "")),
        )


class _DefaultDeadline(grpc.UnaryUnaryClientInterceptor):
    """Gives every call a deadline unless the caller chose one: a call without one can hang forever."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self.seconds)
        return continuation(client_call_details, request)


CHANNEL_OPTIONS = (("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 1))


def open_plain_channel(target: str) -> grpc.Channel:
    """A channel with the platform's options and no interceptors: for hot paths that set every call's
    deadline and start its client span themselves (crm_platform.telemetry.start_grpc_client_span)."""
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)


def open_channel(target: str, *, default_deadline: float = DEFAULT_DEADLINE_SECONDS) -> grpc.Channel:
    channel = open_plain_channel(target)
    with_deadline = grpc.intercept_channel(channel, _DefaultDeadline(default_deadline))
    # OpenTelemetry's client interceptor has its own interface, which only its own intercept_channel takes.
    return intercept_traced(with_deadline, client_interceptor())
