"""From a request's credential to a Principal: a user's access token or an integration's API key.

Every request re-checks the credential's owner against the per-worker state cache: a deactivated user, a
bumped security version (password change or reset), a revoked or expired key is refused within
GATEWAY_IDENTITY_CACHE_SECONDS, not at token expiry.
"""

from __future__ import annotations

import jwt

from crm_platform.access import API_KEY, USER
from gateway.identity.api_keys import rights_of_scopes
from gateway.identity.principal import Principal
from gateway.identity.runtime import IdentityRuntime


class NotAuthenticated(Exception):
    """The credential is missing, malformed, expired, revoked or its owner may no longer sign in."""


def principal_from_token(runtime: IdentityRuntime, token: str) -> Principal:
    try:
        claims = runtime.tokens.verify(token)
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("The access token has expired.") from None
    except jwt.PyJWTError:  # every other refusal, including a header that is not JSON
        raise NotAuthenticated("The access token is not valid.") from None
    state = runtime.users.get(claims.user_id)
    if state is None or not state.active or state.security_version != claims.security_version:
        raise NotAuthenticated("The access token is no longer valid; sign in again.")
    return Principal(
        kind=USER,
        subject=state.user_id,
        roles=state.roles,
        team_ids=state.team_ids,
        primary_team_id=state.primary_team_id,
        partner_account_id=state.partner_account_id,
        rights=runtime.roles.rights(state.roles),
    )


def principal_from_api_key(runtime: IdentityRuntime, key: str) -> Principal:
    state = runtime.api_keys.verify(key)
    if state is None:
        raise NotAuthenticated("The API key is not valid.")
    return Principal(
        kind=API_KEY, subject=state.key_id, scopes=state.scopes, rights=rights_of_scopes(state.scopes)
    )
