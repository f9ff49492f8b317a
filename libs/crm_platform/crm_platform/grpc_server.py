"""gRPC server bootstrap used by every service: one way to start, observe and stop a server."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import server_interceptor

from crm_platform.errors import DomainError, to_status
from crm_platform.validation import validate_request

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0


def _checked_part(request: Any) -> Any:
    """What of a request the contract's rules apply to as it arrives.

    An Update carries a partial resource (only the fields in its `update_mask` matter), so its resource
    is left out here; the update helper validates the merged resource instead (crm_platform.resources).
    """
    fields = request.DESCRIPTOR.fields_by_name
    mask = fields.get("update_mask")
    if (
        mask is None
        or mask.message_type is None
        or mask.message_type.full_name != "google.protobuf.FieldMask"
    ):
        return request
    partial = type(request)()
    partial.CopyFrom(request)
    for field in request.DESCRIPTOR.fields:
        if field.message_type is not None and field.name != "update_mask" and not field.is_repeated:
            partial.ClearField(field.name)
    return partial


class DomainErrorInterceptor(grpc.ServerInterceptor):
    """The one place where requests are checked against the contract's field rules and domain errors
    become rich statuses; anything unexpected becomes INTERNAL without leaking its details to the caller
    (they go to the log, with the trace id)."""

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        inner = handler.unary_unary

        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                validate_request(_checked_part(request))
                return inner(request, context)
            except DomainError as error:
                context.abort_with_status(to_status(error))
            except Exception:
                if context.code() is not None:  # the servicer already aborted on purpose
                    raise
                log.exception("unhandled error in %s", method)
                context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """A started server with health and reflection; `wait()` blocks until SIGTERM/SIGINT or `stop()`."""

    def __init__(
        self,
        service_name: str,
        address: str,
        register: Callable[[grpc.Server], Iterable[str]],
        *,
        max_workers: int = 16,
        interceptors: Iterable[grpc.ServerInterceptor] = (),
    ) -> None:
        self.service_name = service_name
        self._stopped = threading.Event()
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"{service_name}-grpc"),
            interceptors=[server_interceptor(), DomainErrorInterceptor(), *interceptors],
            options=[("grpc.so_reuseport", 0)],
        )
        full_names = list(register(self.server))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*full_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise RuntimeError(f"cannot bind gRPC server to {address}")
        self.address = address
        self._service_names = full_names

    def start(self) -> GrpcServer:
        self.server.start()
        for name in ["", *self._service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC server listening", extra={"address": self.address, "port": self.port})
        return self

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        # Tell load balancers first so no new calls arrive, then let in-flight calls finish.
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        log.info("gRPC server stopped")

    def wait(self) -> None:
        install_stop_signals(self.stop)
        self._stopped.wait()


def install_stop_signals(stop: Callable[[], None]) -> None:
    """Run `stop` (in a thread, never inside the signal handler itself) on SIGTERM or SIGINT."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        threading.Thread(target=stop, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
