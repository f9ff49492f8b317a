"""Access tokens: JWT (HS256) issued at login and verified on every API request.

Pure token logic, with no Flask or app state, so anything may import it without a cycle.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from gateway.users import Identity

ISSUER = "crm-gateway"
ALGORITHM = "HS256"


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
