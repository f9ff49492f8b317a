"""The guard that makes every /api/v1 route require a bearer token, and the caller it establishes.

Routes are protected by default: the guard runs for the whole API blueprint (and the transcoded routes)
and only views marked `@public` skip it, so a new route cannot be left open by forgetting a decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request

from crm_platform.grpc_client import Caller
from gateway.problems import Problem, problem_type
from gateway.state import state
from gateway.tokens import ISSUER

UNAUTHORIZED = problem_type("unauthorized")

F = TypeVar("F", bound=Callable[..., Any])


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, type=UNAUTHORIZED, headers={"WWW-Authenticate": f'Bearer realm="{ISSUER}"'})


def public(view: F) -> F:
    """Marks a view of the API blueprint as reachable without a token."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def require_token() -> None:
    """before_request hook of the API blueprint: sets `g.caller` or answers 401."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "is_public", False):
        return  # unknown routes fall through to 404; public ones need no token
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise unauthorized("This endpoint needs an access token (Authorization: Bearer <token>).")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("The Authorization header must be 'Bearer <token>'.")
    try:
        identity = state().tokens.verify(token.strip())
    except jwt.ExpiredSignatureError:
        raise unauthorized("The access token has expired.") from None
    except jwt.InvalidTokenError:
        raise unauthorized("The access token is not valid.") from None
    g.caller = Caller(user_id=identity.user_id, roles=identity.roles)


def current_caller() -> Caller:
    caller: Caller = g.caller
    return caller
