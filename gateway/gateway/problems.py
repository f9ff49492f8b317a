"""RFC 9457 problem details: the one shape every gateway error takes, whoever raised it.

Views raise `Problem`; Werkzeug's HTTP errors (404, 405, 413, ...) and unexpected exceptions are turned
into the same shape by the handlers installed here, so a client never has to parse an HTML error page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, request
from opentelemetry import trace
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# Problem types are identifiers, not links (RFC 9457 3.1.1 allows URNs); "about:blank" means "nothing more
# than the HTTP status says".
BLANK = "about:blank"


def problem_type(slug: str) -> str:
    return f"urn:crm:problem:{slug}"


VALIDATION = problem_type("validation-error")


class Problem(Exception):
    """Raise from a view to answer with a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type: str = BLANK,
        title: str | None = None,
        errors: Iterable[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def validation_problem(errors: Mapping[str, str] | Iterable[Mapping[str, str]], detail: str) -> Problem:
    """422 listing each bad field as {"field": ..., "message": ...}."""
    items = [{"field": f, "message": m} for f, m in errors.items()] if isinstance(errors, Mapping) else errors
    return Problem(422, detail, type=VALIDATION, title="Request validation failed", errors=items)


def _current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    trace_id = _current_trace_id()
    if trace_id:
        # Lets support find the logs of a failed request without exposing anything internal.
        body["trace_id"] = trace_id
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def _from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    # Keep headers Werkzeug set on purpose, such as Allow on a 405.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem_response(Problem(status, error.description or HTTPStatus(status).phrase, headers=headers))


def _from_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # Flask routes these here too when no closer handler matches
        return _from_http_exception(error)
    log.exception("unhandled error serving %s %s", request.method, request.path)
    return problem_response(Problem(500, "The server could not complete the request; it has been logged."))


def install(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
