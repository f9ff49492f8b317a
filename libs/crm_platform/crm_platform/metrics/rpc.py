"""Rate, errors and duration of every unary gRPC method a server answers (recorded by the server's
interceptor, crm_platform.grpc_server).

Names and labels follow go-grpc-prometheus, which dashboards already know: `grpc_service`, `grpc_method`,
`grpc_code`. Health checks are left out: the kubelet asks every few seconds, and counting its probes
would make an idle service look busy.
"""

from __future__ import annotations

from typing import Any

import grpc
from prometheus_client import Counter, Histogram

RPC_HANDLED = Counter(
    "crm_grpc_server_handled_total",
    "gRPC calls a server finished, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_SECONDS = Histogram(
    "crm_grpc_server_handling_seconds",
    "Time a server spent on a gRPC call, from the handler's start to its answer",
    ["grpc_service", "grpc_method"],
    # Calls are a few milliseconds; the top buckets catch the ones that hit a deadline (1-2 s).
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

UNCOUNTED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")


def split_method(path: str) -> tuple[str, str]:
    """`/crm.contacts.v1.ContactsService/GetContact` -> (`crm.contacts.v1.ContactsService`, `GetContact`)."""
    service, _, method = path.lstrip("/").rpartition("/")
    return service, method


class MethodMetrics:
    """The metrics of one method, labelled once (the server's interceptor keeps one per method)."""

    def __init__(self, full_method: str) -> None:
        self.service, self.method = split_method(full_method)
        self.counted = self.service not in UNCOUNTED_SERVICES
        self._seconds = RPC_SECONDS.labels(self.service, self.method)
        self._handled: dict[Any, Any] = {}

    def observe(self, seconds: float, code: Any) -> None:
        """One finished call: its duration and the status code its caller got."""
        if not self.counted:
            return
        self._seconds.observe(seconds)
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = RPC_HANDLED.labels(self.service, self.method, _code_name(code))
        handled.inc()


def _code_name(code: Any) -> str:
    # context.code() hands back whatever the servicer set: normally a StatusCode, occasionally an int.
    if isinstance(code, grpc.StatusCode):
        return code.name
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate.name
    return str(code)
