"""POST /api/v1/auth/token: email + password in, bearer token out."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gateway.auth import public, unauthorized
from gateway.bodies import parse_body
from gateway.models import TokenRequest, TokenResponse
from gateway.state import state

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password, so the answer does not reveal which emails exist.
BAD_CREDENTIALS = "Wrong email or password."


@bp.post("/auth/token")
@public
def issue_token() -> Response:
    # Not idempotent on purpose: storing issued tokens for replay would keep credentials at rest.
    body = parse_body(TokenRequest)
    identity = state().authenticator.authenticate(body.email, body.password)
    if identity is None:
        raise unauthorized(BAD_CREDENTIALS)
    issued = state().tokens.issue(identity)
    response = jsonify(
        TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in).model_dump()
    )
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 5.1: tokens must not be cached
    return response
