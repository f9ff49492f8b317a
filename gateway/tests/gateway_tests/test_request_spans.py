"""The gateway's request span (gateway.request_spans) on a small Flask app: name, parent, attributes,
error status, untraced paths, and a streamed body that stays inside its span."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask, Response, stream_with_context
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway import request_spans

_tracer = trace.get_tracer("test")


@pytest.fixture
def client(span_exporter: InMemorySpanExporter):
    app = Flask("spans")

    @app.get("/api/v1/things/<thing_id>")
    def thing(thing_id: str):
        with _tracer.start_as_current_span("inner call", kind=SpanKind.CLIENT):
            return {"id": thing_id}

    @app.get("/boom")
    def boom():
        raise RuntimeError("bug")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.get("/stream")
    def stream():
        def rows():
            for n in range(3):
                with _tracer.start_as_current_span(f"page {n}", kind=SpanKind.CLIENT):
                    yield f"{n}\n"

        return Response(stream_with_context(rows()), mimetype="text/plain")

    request_spans.install(app)
    return app.test_client()


def _servers(exporter: InMemorySpanExporter) -> list:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_the_request_span_joins_the_callers_trace_and_parents_the_calls(client, span_exporter) -> None:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    reply = client.get("/api/v1/things/7", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    assert reply.status_code == 200
    [server] = _servers(span_exporter)
    assert server.name == "GET /api/v1/things/<thing_id>"
    assert format(server.context.trace_id, "032x") == trace_id
    assert format(server.parent.span_id, "016x") == parent_id
    assert server.attributes["http.route"] == "/api/v1/things/<thing_id>"
    assert server.attributes["http.status_code"] == 200
    assert server.attributes["http.method"] == "GET"
    [inner] = [s for s in span_exporter.get_finished_spans() if s.name == "inner call"]
    assert inner.parent.span_id == server.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left attached after the request


def test_a_server_error_marks_the_span_and_probes_are_not_traced(client, span_exporter) -> None:
    assert client.get("/boom").status_code == 500
    assert client.get("/healthz").status_code == 200
    assert client.get("/nowhere").status_code == 404
    boom, nowhere = _servers(span_exporter)
    assert boom.name == "GET /boom" and boom.status.status_code is StatusCode.ERROR
    assert boom.attributes["http.status_code"] == 500
    assert nowhere.name == "GET" and nowhere.status.status_code is StatusCode.UNSET  # no route matched
    assert nowhere.attributes["http.status_code"] == 404


def test_a_streamed_body_makes_its_calls_inside_the_request_span(client, span_exporter) -> None:
    reply = client.get("/stream")
    assert reply.get_data(as_text=True) == "0\n1\n2\n"
    reply.close()
    [server] = _servers(span_exporter)
    pages = [s for s in span_exporter.get_finished_spans() if s.name.startswith("page")]
    assert len(pages) == 3
    assert all(page.parent.span_id == server.context.span_id for page in pages)
    assert server.end_time >= max(page.end_time for page in pages)
