"""What every identity route shares: who may call it, its answers and its problems."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from pydantic import BaseModel

from gateway.auth import current_principal
from gateway.identity.principal import Principal
from gateway.identity.runtime import identity
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
    """The client's address for throttling and audit. Behind GATEWAY_TRUSTED_PROXY_HOPS proxies (load
    balancer, ingress) it is the entry that many places from the right of X-Forwarded-For: entries further
    left are whatever the client wrote, and trusting them would let anyone pick their own throttle key."""
    hops = identity().settings.trusted_proxy_hops
    if hops:
        forwarded = [
            part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.remote_addr


def check_path_ids() -> None:
    """before_request of the identity blueprints: an id no row can have is a 404 at once (and a NUL never
    reaches the database, which PostgreSQL would answer with an error)."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (len(value) > MAX_ID_LENGTH or not value.isprintable()):
            raise Problem(404, f"No resource has this {name}.", type=NOT_FOUND)


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
