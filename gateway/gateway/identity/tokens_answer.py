"""The answer carrying a new access + refresh token pair (login, refresh, password change)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify

from crm_platform.db import utcnow
from gateway.identity.runtime import IdentityRuntime
from gateway.models import TokenResponse
from gateway.users import Identity


def token_answer(
    runtime: IdentityRuntime, who: Identity, refresh_token: str, refresh_expires: datetime
) -> Response:
    issued = runtime.tokens.issue(who)
    response = jsonify(
        TokenResponse(
            access_token=issued.access_token,
            expires_in=issued.expires_in,
            refresh_token=refresh_token,
            refresh_expires_in=max(0, round((refresh_expires - utcnow()).total_seconds())),
        ).model_dump()
    )
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 5.1: tokens must not be cached
    return response
