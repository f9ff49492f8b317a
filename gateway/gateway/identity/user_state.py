"""What every request checks about its user: still active, same security version, current roles, teams
and partner account. Each worker keeps it for GATEWAY_IDENTITY_CACHE_SECONDS (2 s by default), so a
deactivation or a role change reaches every existing token within that time plus one request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import reading
from gateway.identity.ttl_cache import TtlCache
from gateway.schema import PartnerAccount, TeamMember, User


@dataclass(frozen=True)
class UserState:
    user_id: str
    active: bool  # false too when the user's partner account is deactivated
    security_version: int
    roles: tuple[str, ...]
    team_ids: tuple[str, ...]  # in joining order
    primary_team_id: str | None
    partner_account_id: str | None


def team_ids_of(session: Session, user_id: str) -> tuple[str, ...]:
    rows = session.scalars(
        select(TeamMember.team_id)
        .where(TeamMember.user_id == user_id)
        .order_by(TeamMember.added_at, TeamMember.team_id)
    )
    return tuple(rows)


def primary_team(explicit: str | None, team_ids: tuple[str, ...]) -> str | None:
    if explicit and explicit in team_ids:
        return explicit
    return team_ids[0] if team_ids else None


def load_user_state(session: Session, user_id: str) -> UserState | None:
    row = session.execute(
        select(User, PartnerAccount.is_active)
        .outerjoin(PartnerAccount, PartnerAccount.id == User.partner_account_id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        return None
    user, partner_active = row
    teams = team_ids_of(session, user_id)
    return UserState(
        user_id=user.id,
        active=bool(user.is_active) and (user.partner_account_id is None or bool(partner_active)),
        security_version=user.security_version or 0,
        roles=tuple(user.roles or ()),
        team_ids=teams,
        primary_team_id=primary_team(user.primary_team_id, teams),
        partner_account_id=user.partner_account_id,
    )


class UserStates:
    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._cache: TtlCache[str, UserState | None] = TtlCache(self._load, ttl_seconds)

    def _load(self, user_id: str) -> UserState | None:
        with reading(self._sessions) as session:
            return load_user_state(session, user_id)

    def get(self, user_id: str) -> UserState | None:
        return self._cache.get(user_id)

    def forget(self, user_id: str) -> None:
        self._cache.forget(user_id)
