"""The guard that makes every /api/v1 route require a credential, and the caller it establishes.

Routes are protected by default: the guard runs for the whole API blueprint (and the transcoded routes)
and only views marked `@public` skip it, so a new route cannot be left open by forgetting a decorator.

Credentials: `Authorization: Bearer <access token>` (a user), `Authorization: Bearer crm_...` or
`X-API-Key: crm_...` (an integration's API key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from crm_platform.grpc_client import Caller
from gateway.identity.api_keys import looks_like_key
from gateway.identity.authentication import (
    NotAuthenticated,
    principal_from_api_key,
    principal_from_token,
)
from gateway.identity.caller_context import signed_caller_context
from gateway.identity.principal import Principal
from gateway.identity.runtime import identity
from gateway.problems import Problem, problem_type
from gateway.tokens import ISSUER

UNAUTHORIZED = problem_type("unauthorized")
API_KEY_HEADER = "X-API-Key"

F = TypeVar("F", bound=Callable[..., Any])


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, type=UNAUTHORIZED, headers={"WWW-Authenticate": f'Bearer realm="{ISSUER}"'})


def public(view: F) -> F:
    """Marks a view of the API blueprint as reachable without a token."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def _credential() -> str:
    header = request.headers.get("Authorization")
    api_key = request.headers.get(API_KEY_HEADER)
    if header is not None and api_key is not None:
        raise unauthorized(f"Send one credential: Authorization or {API_KEY_HEADER}, not both.")
    if api_key is not None:
        if not api_key.strip():
            raise unauthorized(f"The {API_KEY_HEADER} header is empty.")
        return api_key.strip()
    if not header:
        raise unauthorized(
            "This endpoint needs an access token (Authorization: Bearer <token>) or an API key."
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def require_token() -> None:
    """before_request hook of the API blueprint: sets `g.principal` and `g.caller` or answers 401."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "is_public", False):
        return  # unknown routes fall through to 404; public ones need no token
    credential = _credential()
    runtime = identity()
    try:
        if looks_like_key(credential):
            principal = principal_from_api_key(runtime, credential)
        else:
            principal = principal_from_token(runtime, credential)
    except NotAuthenticated as refused:
        raise unauthorized(str(refused)) from None
    g.principal = principal
    g.caller = Caller(
        user_id=principal.subject,
        roles=principal.roles,
        team=principal.primary_team_id or "",
        partner_account=principal.partner_account_id or "",
        # What services believe: the caller context signed with the gateway's key (cached per caller).
        context=signed_caller_context(),
    )


def current_caller() -> Caller:
    caller: Caller = g.caller
    return caller


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal
