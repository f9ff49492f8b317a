"""What identity needs at run time, built once per app (each gunicorn worker) from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from gateway.identity.api_keys import ApiKeyVerifier
from gateway.identity.caller_context import CallerContexts
from gateway.identity.keyed_hash import KeyedHash
from gateway.identity.paging import CursorCodec
from gateway.identity.passwords import PasswordHashing
from gateway.identity.roles import RoleCatalog
from gateway.identity.throttle import LoginThrottle, ThrottlePolicy
from gateway.identity.user_state import UserStates
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer
from gateway.users import Authenticator

_KEY = "crm_identity"


@dataclass(frozen=True)
class IdentityRuntime:
    settings: GatewaySettings
    sessions: sessionmaker[Session]
    tokens: TokenIssuer
    passwords: PasswordHashing
    authenticator: Authenticator
    keyed_hash: KeyedHash
    users: UserStates
    roles: RoleCatalog
    api_keys: ApiKeyVerifier
    throttle: LoginThrottle
    cursors: CursorCodec
    caller_contexts: CallerContexts

    @classmethod
    def build(cls, settings: GatewaySettings, sessions: sessionmaker[Session]) -> IdentityRuntime:
        passwords = PasswordHashing(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            max_concurrent=settings.max_concurrent_hashes,
        )
        keyed = (
            KeyedHash(settings.api_key_pepper)
            if settings.api_key_pepper
            else KeyedHash.derived(settings.jwt_secret)
        )
        ttl = settings.identity_cache_seconds
        return cls(
            settings=settings,
            sessions=sessions,
            tokens=TokenIssuer.from_settings(settings),
            passwords=passwords,
            authenticator=Authenticator(sessions, passwords),
            keyed_hash=keyed,
            users=UserStates(sessions, ttl),
            roles=RoleCatalog(sessions, ttl),
            api_keys=ApiKeyVerifier(sessions, keyed, ttl),
            throttle=LoginThrottle(
                sessions,
                ThrottlePolicy(
                    account_free=settings.login_account_free_failures,
                    address_free=settings.login_address_free_failures,
                    window_seconds=settings.login_window_seconds,
                ),
            ),
            cursors=CursorCodec(keyed),
            caller_contexts=CallerContexts(),
        )

    def install(self, app: Flask) -> None:
        app.extensions[_KEY] = self


def identity() -> IdentityRuntime:
    found: IdentityRuntime = current_app.extensions[_KEY]
    return found
