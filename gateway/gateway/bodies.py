"""Reading request input safely: every malformed body or query string ends as a 4xx problem, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from gateway.problems import Problem, problem_type, validation_problem

M = TypeVar("M", bound=BaseModel)


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def read_body() -> bytes:
    """The raw request body. Werkzeug answers 413 itself when Content-Length is over the limit; a chunked
    body has no length, and Werkzeug then stops reading at the limit and returns what it has, so one
    more read tells whether there was more (and raises 413 if so; a body of exactly the limit counts)."""
    data = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is None and limit is not None and len(data) >= limit:
        request.stream.read(1)
    return data


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 415 / 400 problems. 413 is raised by Werkzeug on read."""
    if not _is_json(request.mimetype):
        raise Problem(
            415,
            "Send the request body as application/json.",
            type=problem_type("unsupported-media-type"),
            headers={"Accept-Post": "application/json"},
        )
    raw = read_body()
    if not raw.strip():
        raise Problem(400, "The request body is empty; send a JSON object.", type=problem_type("bad-json"))
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays are valid JSON to the RFC
        raise Problem(400, "The request body is not valid JSON.", type=problem_type("bad-json")) from None
    if not isinstance(data, dict):
        raise Problem(400, "The request body must be a JSON object.", type=problem_type("bad-json"))
    try:
        # JSON may spell lone surrogates ("\\ud800"); they are not Unicode text and no service can store them.
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise Problem(
            400, "The request body contains invalid Unicode.", type=problem_type("bad-json")
        ) from None
    return data


def _field_errors(error: ValidationError) -> Iterable[Mapping[str, str]]:
    for item in error.errors(include_url=False, include_input=False):
        yield {"field": ".".join(str(part) for part in item["loc"]) or "body", "message": item["msg"]}


def parse_body(model: type[M]) -> M:
    data = json_object()
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_problem(list(_field_errors(error)), "The request body has invalid fields.") from None
