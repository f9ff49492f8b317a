"""The signed caller context the gateway sends to services (x-crm-caller), built from the principal.

Users: their roles' rights (union), teams, primary team, partner account. API keys: kind `api_key`, their
scopes, and rights derived from them (read -> read all on that service's types, write -> every action).

Signing costs ~50 µs, so each worker keeps one signed context per caller and state (roles, teams,
partner account, scopes) and re-signs it when three quarters of its lifetime have passed. The gateway
checks the caller's state on every request before a context is used, so a deactivated user's cached
context is never sent.

Keys: `CRM_CALLER_SIGNING_KEY` / `CRM_CALLER_SIGNING_KID` (crm_platform.access.keys); with neither set, a
local pair under `$CRM_DATA_DIR/keys/` (`caller-context.pem`, mode 0600, and
`caller-context.<kid>.pub.pem`, which services started by `make run` read).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import g

from crm_platform.access import API_KEY, CallerContext, CallerContextSigner, Rights, service_identity
from crm_platform.access.keys import signing_key
from gateway.identity.principal import Principal

CONTEXT_TTL_SECONDS = 120
REUSE_FRACTION = 0.75
MAX_CACHED = 10_000


def context_of(principal: Principal) -> CallerContext:
    return CallerContext(
        subject=principal.subject,
        kind=principal.kind,
        roles=principal.roles,
        team_ids=principal.team_ids,
        primary_team_id=principal.primary_team_id,
        partner_account_id=principal.partner_account_id,
        rights=principal.rights,
        scopes=principal.scopes if principal.kind == API_KEY else (),
    )


def _signer_from_keys() -> CallerContextSigner:
    # Called when first needed: a local key pair is made on first use, in the worker that signs.
    pem, kid = signing_key()
    return CallerContextSigner(pem, kid, ttl_seconds=CONTEXT_TTL_SECONDS)


class CallerContexts:
    def __init__(self, make_signer: Callable[[], CallerContextSigner] = _signer_from_keys) -> None:
        self._make_signer = make_signer
        self._signer: CallerContextSigner | None = None
        self._cache: OrderedDict[tuple[object, ...], tuple[float, str, object]] = OrderedDict()
        self._lock = threading.Lock()

    def _get_signer(self) -> CallerContextSigner:
        with self._lock:
            if self._signer is None:
                self._signer = self._make_signer()
            return self._signer

    def sign_service(self, subject: str, rights: Rights) -> str:
        """A context for the gateway's own calls (not cached: they are rare)."""
        return self._get_signer().sign(service_identity(subject, rights))

    def signed(self, principal: Principal) -> str:
        # The rights object is part of the key: a custom role's matrix may change while the user's roles
        # do not. Rights are shared per role set (RoleCatalog) or scope set (rights_of_scopes) and replaced,
        # never changed, so their identity is a cheap version; the entry keeps them alive, so the id cannot
        # be reused by another object while it is cached.
        key = (*principal.fingerprint(), id(principal.rights))
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now < cached[0]:
                self._cache.move_to_end(key)
                return cached[1]
        signer = self._get_signer()
        token = signer.sign(context_of(principal))
        with self._lock:
            self._cache[key] = (now + signer.ttl_seconds * REUSE_FRACTION, token, principal.rights)
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return token


def signed_gateway_context(rights: Rights) -> str:
    """A signed context for the gateway itself (kind `service`) with `rights`: for what the gateway
    asks on its own behalf, such as the custom field definitions it documents (gateway/custom_fields)."""
    from gateway.identity.runtime import identity

    return identity().caller_contexts.sign_service("gateway", rights)


def signed_caller_context() -> str:
    """The signed caller context of the current request's caller (for the gateway's service clients)."""
    from gateway.identity.runtime import identity

    principal: Principal = g.principal
    return identity().caller_contexts.signed(principal)
