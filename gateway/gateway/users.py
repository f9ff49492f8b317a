"""Users of the gateway: password login and the bootstrap admin.

Logging in never holds a database write lock while hashing: the user is read in a read-only transaction,
the hash is verified with no transaction open, and only an upgrade of the stored hash (parameters raised
since it was made) writes, in a short transaction of its own.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import reading, transaction, utcnow
from gateway.identity.passwords import PasswordHashing, default_hashing
from gateway.schema import PartnerAccount, User

log = logging.getLogger(__name__)

ADMIN = "admin"


@dataclass(frozen=True)
class Identity:
    """Who a verified password, refresh token or access token belongs to."""

    user_id: str
    roles: tuple[str, ...] = ()
    security_version: int = 0


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Authenticator:
    """Checks email + password. Unknown emails cost as much as wrong passwords: a dummy hash is verified
    so that response time does not reveal which emails have accounts."""

    def __init__(self, sessions: sessionmaker[Session], passwords: PasswordHashing | None = None) -> None:
        self.sessions = sessions
        self.passwords = passwords or default_hashing()
        # Made now, not on the first unknown email, so that first answer is not the slow one.
        _ = self.passwords.dummy_hash

    def authenticate(self, email: str, password: str) -> Identity | None:
        with reading(self.sessions) as session:
            row = session.execute(
                select(
                    User.id,
                    User.password_hash,
                    User.is_active,
                    User.roles,
                    User.security_version,
                    User.partner_account_id,
                    PartnerAccount.is_active,
                )
                .outerjoin(PartnerAccount, PartnerAccount.id == User.partner_account_id)
                .where(User.email == normalise_email(email))
            ).first()
        # No transaction is open from here on: hashing takes tens of milliseconds.
        if row is None:
            self.passwords.verify(self.passwords.dummy_hash, password)
            return None
        user_id, stored, active, roles, version, partner_id, partner_active = row
        if not self.passwords.verify(stored, password):
            return None
        if not active or (partner_id is not None and not partner_active):
            return None  # checked after the hash, so a deactivated account answers as slowly as any
        if self.passwords.needs_rehash(stored):
            self._upgrade_hash(user_id, stored, password)
        return Identity(user_id, tuple(roles or ()), version or 0)

    def _upgrade_hash(self, user_id: str, stored: str, password: str) -> None:
        fresh = self.passwords.hash(password)
        with transaction(self.sessions) as session:
            # Only if nobody changed the password meanwhile.
            session.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == stored)
                .values(password_hash=fresh)
            )


def identity_of(sessions: sessionmaker[Session], email: str) -> Identity | None:
    """The identity of an existing user by email, for issuing a token without a password (tests, tools:
    an access token is only accepted for a real, active user at its current security version)."""
    with reading(sessions) as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        return None
    return Identity(user.id, tuple(user.roles or ()), user.security_version or 0)


def create_user(session: Session, email: str, password: str, roles: tuple[str, ...]) -> User:
    """Adds a user, hashing inside the caller's transaction: for tests and tools. Request paths hash
    first, with no transaction open, and call `add_user`."""
    return add_user(session, email, default_hashing().hash(password), roles)


def add_user(
    session: Session,
    email: str,
    password_hash: str,
    roles: tuple[str, ...],
    *,
    name: str = "",
    partner_account_id: str | None = None,
) -> User:
    user = User(
        id=str(uuid.uuid4()),
        email=normalise_email(email),
        password_hash=password_hash,
        roles=list(roles),
        is_active=True,
        created_at=utcnow(),
        name=name,
        partner_account_id=partner_account_id,
        security_version=0,
    )
    session.add(user)
    session.flush()
    return user


def ensure_bootstrap_admin(
    sessions: sessionmaker[Session], email: str, password: str, passwords: PasswordHashing | None = None
) -> bool:
    """Creates the admin when the database has no user yet; returns whether it did.

    Runs once per start, in the gunicorn master, so workers never race to create it."""
    with reading(sessions) as session:
        if session.scalar(select(func.count()).select_from(User)):
            return False
    if not (email and password):
        missing = " and ".join(
            name
            for name, value in (("CRM_ADMIN_EMAIL", email), ("CRM_ADMIN_PASSWORD", password))
            if not value
        )
        log.warning(
            "no user exists and %s not set: nobody can obtain a token until an admin is created "
            "(set both and restart the gateway)",
            missing + (" are" if " and " in missing else " is"),
        )
        return False
    password_hash = (passwords or default_hashing()).hash(password)  # before the write transaction
    try:
        with transaction(sessions) as session:
            if session.scalar(select(func.count()).select_from(User)):
                return False
            add_user(session, email, password_hash, (ADMIN,), name="Administrator")
    except IntegrityError:  # another replica created it first
        return False
    log.info("bootstrap admin created", extra={"email": normalise_email(email)})
    return True
