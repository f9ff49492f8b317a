"""Access tokens for the contract tests' in-process gateways: the gateway only accepts tokens of real,
active users, so tests sign in as the bootstrap admin it creates."""

from __future__ import annotations

from typing import Any

from gateway.users import identity_of

ADMIN_EMAIL = "contract-admin@example.com"


def admin_token(state: Any) -> str:
    """A token for the bootstrap admin of the gateway whose app state is `state`."""
    identity = identity_of(state.database.sessions, ADMIN_EMAIL)
    assert identity is not None, "the gateway was prepared without the contract tests' admin"
    return str(state.tokens.issue(identity).access_token)
