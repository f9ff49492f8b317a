"""Tracing and structured logging, set up once per process.

The exporter is chosen by the environment: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set,
spans printed to stderr when OTEL_TRACES_EXPORTER=console, otherwise spans are still created (so trace ids
reach the logs and propagate to other services) but not exported.

Sampling: ParentBased(TraceIdRatioBased(ratio)), the ratio from OTEL_TRACES_SAMPLER_ARG, **1.0 by
default: every trace is recorded**. A service follows the sampling decision its caller sent in
`traceparent`, so a trace is complete in every service or absent from all of them; the gateway, where
traces start, decides by the ratio. The default keeps everything because at this platform's request
rates the one trace that matters (a slow or failed request) must not be the one left out, and the cost of
recording is measured and kept small (bench/PROFILE.md). A deployment with more traffic than its collector
should take lowers the ratio (e.g. OTEL_TRACES_SAMPLER_ARG=0.1); unsampled requests still carry a trace id
into the logs and to the services. OTEL_TRACES_SAMPLER, when set, takes precedence (OpenTelemetry's own
names: always_on, parentbased_traceidratio, ...).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from crm_platform import config

_configured = False
DEFAULT_SAMPLE_RATIO = 1.0

# LogRecord attributes that are part of every record; anything else was passed in `extra` and is logged.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def setup(service_name: str) -> TracerProvider:
    """Install the tracer provider and JSON logging for this process (idempotent), then move the objects
    of its imports out of the garbage collector's way (`freeze_startup_heap`)."""
    global _configured
    provider = trace.get_tracer_provider()
    if _configured and isinstance(provider, TracerProvider):
        return provider
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource, sampler=sampler_from_env())
    exporter = _exporter_from_env()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    setup_logging(service_name)
    freeze_startup_heap()
    _configured = True
    return provider


def freeze_startup_heap() -> None:
    """Collect once, then exclude every object alive now from future collections (`gc.freeze`).

    A process of the platform holds about 100,000 long-lived objects once its modules are imported
    (gRPC, protobuf descriptors, SQLAlchemy, Flask, OpenTelemetry), and CPython's full collection walks
    all of them: 40-120 ms with the GIL held, a few times a minute under load, stalling every request
    thread of the process at once (measured in the gateway's workers, bench/PROFILE.md). Frozen, they are
    never walked again; objects created later are collected as usual. It is done here because setup() is
    the one call every process (gateway worker, service, event worker) makes once, after its imports and
    before it serves.
    """
    gc.collect()
    gc.freeze()


def sampler_from_env(environ: Mapping[str, str] | None = None) -> Sampler | None:
    """ParentBased(TraceIdRatioBased(OTEL_TRACES_SAMPLER_ARG, default 1.0)); None (OpenTelemetry reads
    its own variables) when OTEL_TRACES_SAMPLER names a sampler."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_TRACES_SAMPLER", "").strip():
        return None
    raw = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    ratio = DEFAULT_SAMPLE_RATIO
    if raw:
        try:
            ratio = float(raw)
        except ValueError:
            ratio = math.nan
        if not 0.0 <= ratio <= 1.0:
            raise config.ConfigError(f"OTEL_TRACES_SAMPLER_ARG={raw!r} is invalid: must be between 0 and 1")
    return ParentBased(TraceIdRatioBased(ratio))


def _exporter_from_env() -> SpanExporter | None:
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        return ConsoleSpanExporter(out=sys.stderr)
    return None


# --- gRPC client spans for hot paths ----------------------------------------------------------------

# A proxy until setup() installs the provider; then the SDK tracer.
_tracer = trace.get_tracer("crm_platform.telemetry")
Metadata = tuple[tuple[str, str], ...]


def start_grpc_client_span(full_method: str) -> tuple[Span, Metadata]:
    """A CLIENT span for one gRPC call (`/package.Service/Method`), child of the current span, with the
    name and attributes OpenTelemetry's gRPC client interceptor gives it, and the metadata that carries
    it to the server (`traceparent`, as the configured propagators write it).

    For hot paths that call a plain channel (customer-360's fan-out): the generic client interceptors of
    `grpc_client.open_channel` cost several times as much per call (bench/PROFILE.md). End the span with
    `end_grpc_client_span` as the call's done-callback.
    """
    if not is_instrumentation_enabled():  # suppressed, as the interceptor honours it
        return INVALID_SPAN, ()
    service, _, method = full_method.lstrip("/").partition("/")
    span = _tracer.start_span(
        full_method,
        kind=SpanKind.CLIENT,
        attributes={
            "rpc.system": "grpc",
            "rpc.grpc.status_code": 0,
            "rpc.method": method,
            "rpc.service": service,
        },
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return span, tuple((key.lower(), value) for key, value in carrier.items())


def end_grpc_client_span(span: Span, call: grpc.Future) -> None:
    """Done-callback of a call started under `start_grpc_client_span`: its status, then the end."""
    code = call.code()
    if code is not None and code != grpc.StatusCode.OK:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def fail_grpc_client_span(span: Span, error: BaseException) -> None:
    """Ends the span of a call that could not even be started (as the interceptor records it)."""
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.record_exception(error)
    span.end()


def start_grpc_server_span(full_method: str, metadata: Any) -> Span:
    """The SERVER span of one gRPC call (`/package.Service/Method`), continuing the trace the caller sent
    in `metadata`, with the name and attributes OpenTelemetry's gRPC server interceptor gives it.

    The chassis' server calls this once per call from its one interceptor (crm_platform.grpc_server)
    instead of stacking that interceptor, whose wrapping of every call and its context was a fifth to a
    quarter of a small call's CPU (bench/PROFILE.md). Make it current while the handler runs, and end it
    with `end_grpc_server_span`.
    """
    if not is_instrumentation_enabled():
        return INVALID_SPAN
    service, _, method = full_method.lstrip("/").partition("/")
    carrier = {key: value for key, value in metadata if isinstance(value, str)}
    return _tracer.start_span(
        full_method.lstrip("/"),
        context=propagate.extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.method": method, "rpc.service": service},
    )


def end_grpc_server_span(span: Span, code: grpc.StatusCode) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code is not grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, code.name))
    span.end()


def shutdown() -> None:
    """Flush spans still buffered; called on graceful shutdown."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying the current trace and span ids."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service_name,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(service_name: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.LOG_LEVEL.get().upper())
    # pika logs every reconnect attempt at INFO/WARNING with tracebacks; our bus logs what matters.
    logging.getLogger("pika").setLevel(logging.ERROR)
