"""What every identity route shares: who may call it, its answers and its problems."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from pydantic import BaseModel

from gateway.auth import current_principal
from gateway.identity.principal import Principal
from gateway.problems import Problem, problem_type, validation_problem

FORBIDDEN = problem_type("forbidden")
NOT_FOUND = problem_type("not-found")
CONFLICT = problem_type("conflict")
BAD_REQUEST = problem_type("bad-request")
MAX_ID_LENGTH = 64


def require_admin() -> Principal:
    principal = current_principal()
    if not principal.is_admin:
        raise Problem(403, "Only an administrator may do this.", type=FORBIDDEN)
    return principal


def require_user() -> Principal:
    principal = current_principal()
    if not principal.is_user:
        raise Problem(403, "This endpoint is for users; API keys cannot use it.", type=FORBIDDEN)
    return principal


def not_found(kind: str, ident: str) -> Problem:
    return Problem(404, f"{kind} {ident[:MAX_ID_LENGTH]} was not found.", type=NOT_FOUND)


def conflict(detail: str) -> Problem:
    return Problem(409, detail, type=CONFLICT)


def invalid(field: str, message: str) -> Problem:
    return validation_problem({field: message}, f"{field}: {message}")


def bad_request(field: str, message: str) -> Problem:
    return Problem(
        400, f"{field}: {message}", type=BAD_REQUEST, errors=[{"field": field, "message": message}]
    )


def too_many_attempts(retry_after: int) -> Problem:
    return Problem(
        429,
        f"Too many failed attempts; retry in {retry_after} seconds.",
        type=problem_type("too-many-attempts"),
        headers={"Retry-After": str(retry_after)},
    )


def client_address() -> str | None:
    return request.remote_addr


def answer(model: BaseModel, status: int = 200, location: str | None = None) -> Response:
    response = Response(
        orjson.dumps(model.model_dump(mode="json")), status=status, mimetype="application/json"
    )
    if location:
        response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def no_content() -> Response:
    return Response(status=204)


def listing(items: list[Any], next_cursor: str | None, model: type[BaseModel]) -> Response:
    return answer(model(items=items, next_cursor=next_cursor))
