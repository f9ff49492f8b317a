"""POST /api/v1/auth/token (email + password in, token pair out), /auth/refresh and /auth/revoke.

Login: throttled per account and per client address before the password is even looked at (429 with
Retry-After); an unknown email and a wrong password get the same 401, after the same amount of hashing.
"""

from __future__ import annotations

from flask import Blueprint, Response

from crm_platform.db import reading, transaction
from gateway.auth import public, unauthorized
from gateway.bodies import parse_body
from gateway.identity import audit, refresh_tokens
from gateway.identity.housekeeping import maybe_purge
from gateway.identity.models import RefreshRequest
from gateway.identity.routes.common import client_address, no_content, too_many_attempts
from gateway.identity.runtime import identity
from gateway.identity.tokens_answer import token_answer
from gateway.identity.user_state import load_user_state
from gateway.models import TokenRequest
from gateway.users import Identity, normalise_email

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password, so the answer does not reveal which emails exist.
BAD_CREDENTIALS = "Wrong email or password."
BAD_REFRESH = "The refresh token is not valid; sign in again."


@bp.post("/auth/token")
@public
def issue_token() -> Response:
    # Not idempotent on purpose: storing issued tokens for replay would keep credentials at rest.
    body = parse_body(TokenRequest)
    runtime = identity()
    email, address = normalise_email(body.email), client_address() or "unknown"
    wait = runtime.throttle.retry_after(email, address)
    if wait:
        raise too_many_attempts(wait)
    who = runtime.authenticator.authenticate(email, body.password)
    if who is None:
        runtime.throttle.record_failure(email, address)
        audit.record_now(runtime.sessions, "login.failed", client_address=address, details={"email": email})
        raise unauthorized(BAD_CREDENTIALS)
    runtime.throttle.record_success(email)
    maybe_purge(runtime.sessions, runtime.settings.login_window_seconds)  # now and then: expired rows
    with transaction(runtime.sessions) as session:
        refresh, expires_at = refresh_tokens.issue(
            session, runtime.keyed_hash, who.user_id, ttl_seconds=runtime.settings.refresh_ttl_seconds
        )
        audit.record(
            session,
            "login.succeeded",
            actor_id=who.user_id,
            target_type="user",
            target_id=who.user_id,
            client_address=address,
        )
    return token_answer(runtime, who, refresh, expires_at)


@bp.post("/auth/refresh")
@public
def refresh() -> Response:
    """A refresh token in, a new access token and the next refresh token out (the one given is retired;
    presenting a retired one again revokes its whole family)."""
    body = parse_body(RefreshRequest)
    runtime = identity()
    address = client_address()
    with transaction(runtime.sessions) as session:
        outcome = refresh_tokens.rotate(session, runtime.keyed_hash, body.refresh_token)
        if outcome.reused_family:
            audit.record(
                session,
                "refresh_token.reused",
                target_type="refresh_token_family",
                target_id=outcome.reused_family,
                client_address=address,
                actor_id=refresh_tokens.owner_of_family(session, outcome.reused_family),
            )
    if outcome.user_id is None or outcome.token is None or outcome.expires_at is None:
        raise unauthorized(BAD_REFRESH)
    with reading(runtime.sessions) as session:
        state = load_user_state(session, outcome.user_id)
    if state is None or not state.active:
        raise unauthorized(BAD_REFRESH)
    who = Identity(state.user_id, state.roles, state.security_version)
    return token_answer(runtime, who, outcome.token, outcome.expires_at)


@bp.post("/auth/revoke")
@public
def revoke() -> Response:
    """Logout: the refresh token's family is revoked (access tokens expire within their short lifetime).
    Answers 204 for unknown tokens too (RFC 7009 2.2)."""
    body = parse_body(RefreshRequest)
    runtime = identity()
    with transaction(runtime.sessions) as session:
        user_id = refresh_tokens.revoke_token(session, runtime.keyed_hash, body.refresh_token)
        if user_id:
            audit.record(
                session,
                "logout",
                actor_id=user_id,
                target_type="user",
                target_id=user_id,
                client_address=client_address(),
            )
    return no_content()
