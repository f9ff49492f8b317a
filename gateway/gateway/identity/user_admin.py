"""Managing users: the rules (roles exist and fit the partner account, teams exist, the primary team is
one of them, an admin cannot lock themselves out) and the writes, each with its audit entry.

Passwords are hashed by the caller before the transaction opens (hashing must not hold a write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_platform.db import utcnow
from gateway.identity import audit, refresh_tokens
from gateway.identity.models import UserOut
from gateway.identity.principal import ADMIN, Principal
from gateway.identity.roles import RoleCatalog, check_partner_roles, unknown_roles
from gateway.identity.user_state import primary_team, team_ids_of
from gateway.schema import PartnerAccount, Team, TeamMember, User


class Refused(Exception):
    """A rule refused the change: `field` names what to fix; `status` is 422, 404 or 409."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


@dataclass(frozen=True)
class Membership:
    roles: Sequence[str]
    team_ids: Sequence[str]
    primary_team_id: str | None
    partner_account_id: str | None


def check_membership(session: Session, catalog: RoleCatalog, wanted: Membership) -> None:
    unknown = unknown_roles(catalog, wanted.roles)
    if unknown:
        raise Refused(422, "roles", f"unknown role(s): {', '.join(unknown)}")
    if len(set(wanted.roles)) != len(wanted.roles):
        raise Refused(422, "roles", "a role is listed twice")
    problem = check_partner_roles(wanted.roles, wanted.partner_account_id)
    if problem:
        raise Refused(422, "roles", problem)
    if len(set(wanted.team_ids)) != len(wanted.team_ids):
        raise Refused(422, "team_ids", "a team is listed twice")
    if wanted.team_ids:
        found = set(session.scalars(select(Team.id).where(Team.id.in_(wanted.team_ids))))
        missing = [t for t in wanted.team_ids if t not in found]
        if missing:
            raise Refused(422, "team_ids", f"no such team(s): {', '.join(missing)}")
    if wanted.primary_team_id is not None and wanted.primary_team_id not in wanted.team_ids:
        raise Refused(422, "primary_team_id", "must be one of team_ids")
    if (
        wanted.partner_account_id is not None
        and session.get(PartnerAccount, wanted.partner_account_id) is None
    ):
        raise Refused(422, "partner_account_id", "no such partner account")


def set_teams(session: Session, user_id: str, team_ids: Sequence[str]) -> None:
    """Replaces the user's teams, keeping the joining date (and so the order) of those they stay in."""
    current = set(team_ids_of(session, user_id))
    leaving = current - set(team_ids)
    if leaving:
        session.execute(
            delete(TeamMember).where(TeamMember.user_id == user_id, TeamMember.team_id.in_(leaving))
        )
    now = utcnow()
    for position, team_id in enumerate(t for t in team_ids if t not in current):
        # Microseconds apart, so the order given is the joining order (and the first is the primary).
        session.add(
            TeamMember(team_id=team_id, user_id=user_id, added_at=now + timedelta(microseconds=position))
        )
    session.flush()


def user_out(session: Session, user: User) -> UserOut:
    teams = team_ids_of(session, user.id)
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name or "",
        roles=list(user.roles or ()),
        team_ids=list(teams),
        primary_team_id=primary_team(user.primary_team_id, teams),
        partner_account_id=user.partner_account_id,
        active=bool(user.is_active),
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def end_sessions(session: Session, user: User) -> None:
    """Every access token (security version bump) and refresh token of the user stops working."""
    user.security_version = (user.security_version or 0) + 1
    refresh_tokens.revoke_user(session, user.id)


def replace_password(session: Session, user: User, password_hash: str) -> None:
    """A new password (already hashed, outside any transaction) signs the user out everywhere: whoever
    knew the old one may hold its tokens."""
    user.password_hash = password_hash
    user.updated_at = utcnow()
    end_sessions(session, user)


def other_active_admins(session: Session, user_id: str) -> int:
    count = 0
    for roles, active, partner in session.execute(
        select(User.roles, User.is_active, User.partner_account_id).where(User.id != user_id)
    ):
        if active and partner is None and ADMIN in (roles or []):
            count += 1
    return count


def guard_last_admin(session: Session, actor: Principal, user: User, *, loses_admin: bool) -> None:
    """Refuse the change that would leave nobody able to manage identity."""
    if loses_admin and ADMIN in (user.roles or []) and not other_active_admins(session, user.id):
        raise Refused(409, "roles" if user.id != actor.subject else "active", "this is the last active admin")


def guard_self(actor: Principal, user: User, field: str, message: str) -> None:
    """An admin cannot lock themselves out through the admin routes (deactivate themselves, drop their own
    admin role, reset their own password and so end their own sessions): another admin does that, and
    one's own password changes through /me:change-password, which asks for the current one."""
    if user.id == actor.subject:
        raise Refused(409, field, message)


def set_active(session: Session, actor: Principal, user: User, active: bool, address: str | None) -> None:
    if bool(user.is_active) == active:
        return
    if not active:
        guard_self(actor, user, "active", "you cannot deactivate yourself; another admin can")
        guard_last_admin(session, actor, user, loses_admin=True)
        end_sessions(session, user)
    user.is_active = active
    user.updated_at = utcnow()
    audit.record(
        session,
        "user.deactivated" if not active else "user.reactivated",
        actor=actor,
        target_type="user",
        target_id=user.id,
        client_address=address,
    )


def email_taken(session: Session, email: str, except_id: str | None = None) -> bool:
    stmt = select(func.count()).select_from(User).where(User.email == email)
    if except_id:
        stmt = stmt.where(User.id != except_id)
    return bool(session.scalar(stmt))
