"""gRPC server bootstrap used by every service: one way to start, observe and stop a server."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace

from crm_platform import config, grpc_client
from crm_platform.access.context import CallerContextCheck, acting_as
from crm_platform.errors import DomainError, InvalidArgument, to_status
from crm_platform.metrics.rpc import MethodMetrics
from crm_platform.telemetry import end_grpc_server_span, start_grpc_server_span
from crm_platform.validation import CHECKS_OWN_CONTRACT, nul_violations, validate_request

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0

# Handler threads per server. Every handler holds the GIL for most of its time (protobuf, SQLAlchemy,
# tracing), so threads beyond a few only contend: with 16, contacts' CPU per call at 32 concurrent
# callers was about 20 % higher than with 4, and latency followed (bench/PROFILE.md). 8 keeps that
# contention low while leaving room for calls that wait on the database (PostgreSQL round trips, a
# SQLite writer queued on the lock). The engine's pool (CRM_DB_POOL_SIZE) must cover this number.
MAX_WORKERS = config.Setting(
    "CRM_GRPC_MAX_WORKERS",
    config.positive_int,
    default="8",
    help="handler threads of each gRPC server (calls beyond them queue, up to CRM_GRPC_MAX_CONCURRENT_RPCS)",
)
# Calls admitted at once, running or queued for a thread; beyond it a call fails at once with
# RESOURCE_EXHAUSTED instead of waiting past its deadline in an unbounded queue. 8 queued per thread:
# at 2-5 ms a call, the last one in the queue starts within 20-40 ms, well inside the gateway's 1-2 s
# deadlines, while an overload shows up as fast errors (and in crm_grpc_server_handled_total) at once.
MAX_CONCURRENT_RPCS = config.Setting(
    "CRM_GRPC_MAX_CONCURRENT_RPCS",
    config.positive_int,
    default="64",
    help="gRPC calls a server admits at once (running or queued); more are refused with RESOURCE_EXHAUSTED",
)
# Clients balance over the addresses DNS gave them when they connected (round_robin over a headless
# Service); a pod added later gets calls only once clients resolve again, which they do when a
# connection closes. Closing each connection after this age (with a grace for calls in flight) bounds
# how long new replicas stay idle after a scale-out.
MAX_CONNECTION_AGE = config.Setting(
    "CRM_GRPC_MAX_CONNECTION_AGE_SECONDS",
    config.positive_int,
    default="300",
    help="a gRPC server closes each client connection after this age so clients re-resolve and rebalance",
)
CONNECTION_AGE_GRACE_SECONDS = 30


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


class ServerCallInterceptor(grpc.ServerInterceptor):
    """Everything the chassis does around a unary call, in one wrapper made once per method:

    1. the SERVER span, continuing the caller's trace and current while the handler runs;
    2. rate, status and duration metrics (crm_platform.metrics.rpc), with the status the caller gets;
    3. admission: a verified caller context (crm_platform.access), checked first, so an unauthenticated
       call learns nothing, not even which of its fields are wrong;
    4. the request checked against the contract's field rules (unless the method checks them itself,
       crm_platform.validation.checks_own_contract), and for the NUL character in any text, which no
       field means and PostgreSQL cannot store;
    5. domain errors turned into rich statuses; anything unexpected becomes INTERNAL without leaking its
       details to the caller (they go to the log, with the trace id).

    One interceptor, and its wrapper cached per method, because grpc's interceptor chain re-wraps every
    handler on every call: three stacked interceptors (OpenTelemetry's, metrics, this one) cost a small
    call about a fifth of its server CPU (bench/PROFILE.md).
    """

    def __init__(self, caller_check: CallerContextCheck) -> None:
        self.caller_check = caller_check
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streaming: reflection and health's Watch, which reveal no records
        # A method's handler never changes once the server runs; a race only wraps it twice.
        return self._wrapped.setdefault(method, self._wrap(method, handler))

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary
        check = None if self.caller_check.is_open(method) else self.caller_check
        metrics = MethodMetrics(method)
        # A method that checks the contract itself, to answer every bad field at once (validation).
        own_check = bool(getattr(inner, CHECKS_OWN_CONTRACT, False))

        def validate(request: Any) -> None:
            # The whole request, ids and an update's partial resource too, whoever checks the contract.
            nul = nul_violations(request)
            if nul:
                raise InvalidArgument("a text cannot contain the NUL character", nul)
            if not own_check:
                validate_request(_checked_part(request))

        def admitted(request: Any, context: grpc.ServicerContext) -> Any:
            if check is None:
                validate(request)
                return inner(request, context)
            with acting_as(check.caller_from(context.invocation_metadata())):
                validate(request)
                return inner(request, context)

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            span = start_grpc_server_span(method, context.invocation_metadata())
            code = grpc.StatusCode.UNKNOWN  # what the caller gets if the handler raises without a status
            try:
                with trace.use_span(
                    span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    try:
                        response = admitted(request, context)
                    except DomainError as error:
                        context.abort_with_status(to_status(error))
                    except Exception:
                        if context.code() is not None:  # the servicer already aborted on purpose
                            raise
                        log.exception("unhandled error in %s", method)
                        context.abort(grpc.StatusCode.INTERNAL, "internal error")
                code = context.code() or grpc.StatusCode.OK
                return response
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                metrics.observe(time.perf_counter() - started, code)
                end_grpc_server_span(span, _status_code(code))

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _status_code(code: Any) -> grpc.StatusCode:
    # context.code() hands back whatever the servicer set: normally a StatusCode, occasionally an int.
    if isinstance(code, grpc.StatusCode):
        return code
    return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)


class GrpcServer:
    """A started server with health and reflection; `wait()` blocks until SIGTERM/SIGINT or `stop()`."""

    def __init__(
        self,
        service_name: str,
        address: str,
        register: Callable[[grpc.Server], Iterable[str]],
        *,
        max_workers: int | None = None,
        max_concurrent_rpcs: int | None = None,
        interceptors: Iterable[grpc.ServerInterceptor] = (),
        caller_check: CallerContextCheck | None = None,
    ) -> None:
        """`max_workers` and `max_concurrent_rpcs` default to CRM_GRPC_MAX_WORKERS and
        CRM_GRPC_MAX_CONCURRENT_RPCS; `caller_check` to one trusting the caller-context public keys of
        the environment (crm_platform.access.keys)."""
        self.service_name = service_name
        self._stopped = threading.Event()
        workers = max_workers or MAX_WORKERS.get()
        admitted = max(max_concurrent_rpcs or MAX_CONCURRENT_RPCS.get(), workers)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{service_name}-grpc"),
            interceptors=[ServerCallInterceptor(caller_check or CallerContextCheck()), *interceptors],
            options=[
                ("grpc.so_reuseport", 0),
                # Clients ping every grpc_client.KEEPALIVE_TIME_MS while a call is open, also when no data
                # flows (a health watch). gRPC servers refuse pings without data more often than every 5
                # minutes by default and, after two, close the connection with GOAWAY
                # ENHANCE_YOUR_CALM, failing every call on it: accept them at twice that rate.
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", grpc_client.KEEPALIVE_TIME_MS // 2),
                ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE.get() * 1000),
                ("grpc.max_connection_age_grace_ms", CONNECTION_AGE_GRACE_SECONDS * 1000),
            ],
            maximum_concurrent_rpcs=admitted,
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
