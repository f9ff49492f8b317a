"""Roles: the built-in ones (written in the chassis, read-only here) and custom ones (stored), and a
user's effective rights: the union of their roles' matrices."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.access import BUILTIN_ROLES, Level, Rights, builtin_rights, parse_permissions, union
from crm_platform.access.rights import to_json as rights_json
from crm_platform.db import reading
from gateway.identity.principal import PARTNER
from gateway.schema import CustomRole, User

MAX_CACHED_UNIONS = 1000
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
# Staff roles see the company's records by level; a partner user must hold none of them (decision, see
# check_partner_roles): the partner boundary in the services would still hold, but a partner user with
# `manager` reads as a mistake waiting to happen and is refused at the door.
STAFF_ROLES = frozenset(BUILTIN_ROLES) - {PARTNER}


__all__ = ["RoleCatalog", "check_partner_roles", "is_builtin", "rights_json", "role_in_use", "unknown_roles"]


def is_builtin(name: str) -> bool:
    return name in BUILTIN_ROLES


class RoleCatalog:
    """Custom roles' rights, re-read from the database at most once per TTL (roles are few and small)."""

    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._custom: dict[str, Rights] = {}
        # Effective rights per set of roles, recomputed when the custom roles are re-read: every request
        # needs its caller's, and few distinct sets exist.
        self._unions: dict[tuple[str, ...], dict[str, dict[str, Level]]] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def custom(self) -> Mapping[str, Rights]:
        with self._lock:
            if time.monotonic() - self._loaded_at < self._ttl:
                return self._custom
        loaded = self._load()
        with self._lock:
            if loaded != self._custom:  # keep the shared unions (and their identity) while nothing changed
                self._custom, self._unions = loaded, {}
            self._loaded_at = time.monotonic()
            return self._custom

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")

    def _load(self) -> dict[str, Rights]:
        with reading(self._sessions) as session:
            rows = session.execute(select(CustomRole.name, CustomRole.permissions)).all()
        loaded: dict[str, Rights] = {}
        for name, permissions in rows:
            try:
                loaded[name] = parse_permissions(permissions)
            except ValueError:
                # A resource type that was renamed or dropped since the role was saved: skip the role's
                # cells rather than grant anything unexpected.
                loaded[name] = {}
        return loaded

    def exists(self, name: str) -> bool:
        return is_builtin(name) or name in self.custom()

    def rights(self, roles: Iterable[str]) -> dict[str, dict[str, Level]]:
        """The union of the roles' matrices (shared: do not change the result)."""
        key = tuple(roles)
        custom = self.custom()
        found = self._unions.get(key)
        if found is not None:
            return found
        found = self._union(key, custom)
        if len(self._unions) < MAX_CACHED_UNIONS:
            self._unions[key] = found
        return found

    def _union(self, roles: tuple[str, ...], custom: Mapping[str, Rights]) -> dict[str, dict[str, Level]]:
        matrices: list[Rights] = []
        for role in roles:
            if is_builtin(role):
                matrices.append(builtin_rights(role))
            elif role in custom:
                matrices.append(custom[role])
        return union(matrices)


def unknown_roles(catalog: RoleCatalog, roles: Iterable[str]) -> list[str]:
    return [r for r in roles if not catalog.exists(r)]


def check_partner_roles(roles: Iterable[str], partner_account_id: str | None) -> str | None:
    """Why these roles do not fit the user's partner account (or its absence), or None.

    Partner users may hold `partner` and custom roles, never a built-in staff role; `partner` is for
    partner users only."""
    roles = list(roles)
    if partner_account_id is not None:
        staff = sorted(set(roles) & STAFF_ROLES)
        if staff:
            return f"a partner user cannot hold staff roles ({', '.join(staff)})"
    elif PARTNER in roles:
        return "the partner role needs a partner_account_id"
    return None


def role_in_use(session: Session, name: str) -> bool:
    return any(name in (roles or []) for (roles,) in session.execute(select(User.roles)))
