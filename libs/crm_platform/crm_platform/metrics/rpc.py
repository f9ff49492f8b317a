"""Rate, errors and duration of every unary gRPC method a server answers (a server interceptor).

Names and labels follow go-grpc-prometheus, which dashboards already know: `grpc_service`, `grpc_method`,
`grpc_code`. Health checks are left out: the kubelet asks every few seconds, and counting its probes
would make an idle service look busy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


class RpcMetricsInterceptor(grpc.ServerInterceptor):
    """Counts each unary call by its final status code and times it.

    Place it outside the interceptor that turns domain errors into statuses, so it sees the status the
    caller gets: an abort raises out of the handler with the code already set on the context.
    """

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, method = split_method(handler_call_details.method)
        if service in UNCOUNTED_SERVICES:
            return handler
        inner = handler.unary_unary
        seconds = RPC_SECONDS.labels(service, method)

        def measured(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.UNKNOWN  # what the caller gets if the handler raises without a status
            try:
                response = inner(request, context)
                code = context.code() or grpc.StatusCode.OK
                return response
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                seconds.observe(time.perf_counter() - started)
                RPC_HANDLED.labels(service, method, _code_name(code)).inc()

        return grpc.unary_unary_rpc_method_handler(
            measured,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _code_name(code: Any) -> str:
    # context.code() hands back whatever the servicer set: normally a StatusCode, occasionally an int.
    if isinstance(code, grpc.StatusCode):
        return code.name
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate.name
    return str(code)
