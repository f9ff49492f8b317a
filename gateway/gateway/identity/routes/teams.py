"""/api/v1/teams: create, list, read, change; members added and removed (admins)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_platform.db import reading, transaction, utcnow
from gateway.bodies import parse_body
from gateway.identity import audit
from gateway.identity.changes import apply_change
from gateway.identity.models import TeamCreate, TeamList, TeamMembers, TeamOut, TeamUpdate
from gateway.identity.routes.common import (
    answer,
    client_address,
    conflict,
    invalid,
    require_admin,
)
from gateway.identity.routes.lookups import get_or_404, name_taken
from gateway.identity.routes.pages import page_answer, page_request
from gateway.identity.runtime import identity
from gateway.schema import Team, TeamMember, User

bp = Blueprint("identity_teams", __name__)


def _out(session: Session, team: Team) -> TeamOut:
    members = session.scalars(
        select(TeamMember.user_id).where(TeamMember.team_id == team.id).order_by(TeamMember.added_at)
    )
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description or "",
        member_ids=list(members),
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


def _check_users(session: Session, user_ids: list[str]) -> None:
    found = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
    missing = [u for u in user_ids if u not in found]
    if missing:
        raise invalid("user_ids", f"no such user(s): {', '.join(missing)}")


def _add(session: Session, team_id: str, user_ids: list[str]) -> list[str]:
    present = set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)))
    now = utcnow()
    added = [u for u in dict.fromkeys(user_ids) if u not in present]
    for user_id in added:
        session.add(TeamMember(team_id=team_id, user_id=user_id, added_at=now))
    return added


@bp.post("/teams")
def create_team() -> Response:
    actor = require_admin()
    body = parse_body(TeamCreate)
    runtime = identity()
    try:
        with transaction(runtime.sessions) as session:
            if name_taken(session, Team, body.name):
                raise conflict("name: a team with this name exists")
            _check_users(session, body.member_ids)
            team = Team(
                id=str(uuid.uuid4()), name=body.name, description=body.description, created_at=utcnow()
            )
            session.add(team)
            session.flush()
            added = _add(session, team.id, body.member_ids)
            audit.record(
                session,
                "team.created",
                actor=actor,
                target_type="team",
                target_id=team.id,
                client_address=client_address(),
                details={"name": body.name, "member_ids": added},
            )
            session.flush()
            out = _out(session, team)
    except IntegrityError:
        raise conflict("name: a team with this name exists") from None
    for user_id in body.member_ids:
        runtime.users.forget(user_id)
    return answer(out, 201, location=f"/api/v1/teams/{out.id}")


@bp.get("/teams")
def list_teams() -> Response:
    actor = require_admin()
    page = page_request(actor.subject, "teams", {"name"})
    stmt = select(Team)
    if "name" in page.args:
        stmt = stmt.where(Team.name == page.args["name"])
    return page_answer(page, stmt, Team.created_at, Team.id, _out, TeamList)


@bp.get("/teams/<team_id>")
def get_team(team_id: str) -> Response:
    require_admin()
    with reading(identity().sessions) as session:
        team = get_or_404(session, Team, team_id, "Team")
        return answer(_out(session, team))


@bp.patch("/teams/<team_id>")
def update_team(team_id: str) -> Response:
    actor = require_admin()
    body = parse_body(TeamUpdate)
    try:
        with transaction(identity().sessions) as session:
            team = get_or_404(session, Team, team_id, "Team")
            if (
                body.name is not None
                and body.name != team.name
                and name_taken(session, Team, body.name, except_id=team.id)
            ):
                raise conflict("name: a team with this name exists")
            changed: dict[str, object] = {}
            apply_change(changed, team, "name", body.name)
            apply_change(changed, team, "description", body.description)
            if changed:
                team.updated_at = utcnow()
                audit.record(
                    session,
                    "team.updated",
                    actor=actor,
                    target_type="team",
                    target_id=team.id,
                    client_address=client_address(),
                    details=changed,
                )
            out = _out(session, team)
    except IntegrityError:
        raise conflict("name: a team with this name exists") from None
    return answer(out)


@bp.post("/teams/<team_id>:add-members")
def add_members(team_id: str) -> Response:
    return _change_members(team_id, "team.members_added", _add_existing)


@bp.post("/teams/<team_id>:remove-members")
def remove_members(team_id: str) -> Response:
    return _change_members(team_id, "team.members_removed", _remove)


def _change_members(
    team_id: str, action: str, change: Callable[[Session, str, list[str]], list[str]]
) -> Response:
    """The shared half of adding and removing members: `change` returns the user ids it really added or
    removed, which the audit event names; every listed user's cached state is dropped, since their teams
    (and so their record scope) may have changed."""
    actor = require_admin()
    body = parse_body(TeamMembers)
    runtime = identity()
    with transaction(runtime.sessions) as session:
        team = get_or_404(session, Team, team_id, "Team")
        changed = change(session, team_id, body.user_ids)
        if changed:
            audit.record(
                session,
                action,
                actor=actor,
                target_type="team",
                target_id=team_id,
                client_address=client_address(),
                details={"user_ids": changed},
            )
        session.flush()
        out = _out(session, team)
    for user_id in body.user_ids:
        runtime.users.forget(user_id)
    return answer(out)


def _add_existing(session: Session, team_id: str, user_ids: list[str]) -> list[str]:
    _check_users(session, user_ids)
    return _add(session, team_id, user_ids)


def _remove(session: Session, team_id: str, user_ids: list[str]) -> list[str]:
    removed = list(
        session.scalars(
            select(TeamMember.user_id).where(TeamMember.team_id == team_id, TeamMember.user_id.in_(user_ids))
        )
    )
    session.execute(delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id.in_(user_ids)))
    for user in session.scalars(select(User).where(User.id.in_(removed), User.primary_team_id == team_id)):
        user.primary_team_id = None  # falls back to their first remaining team
    return removed
