"""Access tokens (JWT, HS256) and the guard that makes every /api/v1 route require one.

Routes are protected by default: the guard runs for the whole API blueprint and only views marked
`@public` skip it, so a new route cannot be left open by forgetting a decorator.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request

from crm_platform.grpc_client import Caller
from gateway.problems import Problem, problem_type
from gateway.state import state
from gateway.users import Identity

ISSUER = "crm-gateway"
ALGORITHM = "HS256"
UNAUTHORIZED = problem_type("unauthorized")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenIssuer:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, identity: Identity) -> IssuedToken:
        now = int(time.time())
        claims = {
            "sub": identity.user_id,
            "roles": list(identity.roles),
            "iat": now,
            "exp": now + self.ttl_seconds,
            "iss": ISSUER,
            "jti": uuid.uuid4().hex,
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), self.ttl_seconds)

    def verify(self, token: str) -> Identity:
        """The identity in a valid token; raises jwt.InvalidTokenError for anything else."""
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=[ALGORITHM],  # pinned: never let the token choose (alg=none, key confusion)
            issuer=ISSUER,
            options={"require": ["sub", "iat", "exp", "iss", "jti"]},
        )
        roles = claims.get("roles", [])
        if not isinstance(claims["sub"], str) or not isinstance(roles, list):
            raise jwt.InvalidTokenError("malformed claims")
        return Identity(claims["sub"], tuple(str(r) for r in roles))


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
