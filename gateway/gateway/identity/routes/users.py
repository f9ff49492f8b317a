"""/api/v1/users: create, list, read, change, deactivate/reactivate, reset a password (admins)."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import String, cast, select
from sqlalchemy.exc import IntegrityError

from crm_platform.db import reading, transaction, utcnow
from gateway.bodies import parse_body
from gateway.identity import audit
from gateway.identity.models import PasswordReset, UserCreate, UserList, UserUpdate
from gateway.identity.paging import bool_arg
from gateway.identity.principal import ADMIN
from gateway.identity.roles import ROLE_NAME
from gateway.identity.routes.common import (
    answer,
    bad_request,
    client_address,
    conflict,
    invalid,
    no_content,
    require_admin,
)
from gateway.identity.routes.lookups import get_or_404
from gateway.identity.routes.pages import page_answer, page_request
from gateway.identity.runtime import identity
from gateway.identity.user_admin import (
    Membership,
    Refused,
    check_membership,
    email_taken,
    guard_last_admin,
    guard_self,
    replace_password,
    set_active,
    set_teams,
    user_out,
)
from gateway.problems import Problem
from gateway.schema import TeamMember, User
from gateway.users import add_user, normalise_email

bp = Blueprint("identity_users", __name__)


def _refused(refused: Refused) -> Problem:
    if refused.status == 409:
        return conflict(f"{refused.field}: {refused.message}")
    return invalid(refused.field, refused.message)


@bp.post("/users")
def create_user() -> Response:
    actor = require_admin()
    body = parse_body(UserCreate)
    runtime = identity()
    wanted = Membership(body.roles, body.team_ids, body.primary_team_id, body.partner_account_id)
    password_hash = runtime.passwords.hash(body.password)  # before the write transaction
    try:
        with transaction(runtime.sessions) as session:
            check_membership(session, runtime.roles, wanted)
            email = normalise_email(body.email)
            if email_taken(session, email):
                raise Refused(409, "email", "a user with this email exists")
            user = add_user(
                session,
                email,
                password_hash,
                tuple(body.roles),
                name=body.name,
                partner_account_id=body.partner_account_id,
            )
            user.primary_team_id = body.primary_team_id
            user.is_active = body.active
            set_teams(session, user.id, body.team_ids)
            audit.record(
                session,
                "user.created",
                actor=actor,
                target_type="user",
                target_id=user.id,
                client_address=client_address(),
                details={
                    "email": email,
                    "roles": body.roles,
                    "team_ids": body.team_ids,
                    "partner_account_id": body.partner_account_id,
                },
            )
            created = user_out(session, user)
    except Refused as refused:
        raise _refused(refused) from None
    except IntegrityError:  # a concurrent create with the same email
        raise conflict("email: a user with this email exists") from None
    return answer(created, 201, location=f"/api/v1/users/{created.id}")


@bp.get("/users")
def list_users() -> Response:
    actor = require_admin()
    page = page_request(actor.subject, "users", {"email", "active", "role", "team_id"})
    args = page.args
    stmt = select(User)
    if "email" in args:
        stmt = stmt.where(User.email == normalise_email(args["email"]))
    active = bool_arg(args, "active")
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    if "role" in args:
        role = args["role"]
        if not ROLE_NAME.match(role):
            raise bad_request("role", "not a role name")
        # Roles are a JSON list of names ([a-z0-9_] only), so the quoted name matches exactly one element;
        # `_` is escaped because LIKE reads it as "any character".
        pattern = '%"' + role.replace("_", "\\_") + '"%'
        stmt = stmt.where(cast(User.roles, String).like(pattern, escape="\\"))
    if "team_id" in args:
        stmt = stmt.where(
            User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id == args["team_id"]))
        )
    return page_answer(page, stmt, User.created_at, User.id, user_out, UserList)


@bp.get("/users/<user_id>")
def get_user(user_id: str) -> Response:
    require_admin()
    with reading(identity().sessions) as session:
        user = get_or_404(session, User, user_id, "User")
        return answer(user_out(session, user))


@bp.patch("/users/<user_id>")
def update_user(user_id: str) -> Response:
    actor = require_admin()
    body = parse_body(UserUpdate)
    present = body.model_fields_set
    runtime = identity()
    try:
        with transaction(runtime.sessions) as session:
            user = get_or_404(session, User, user_id, "User")
            before = user_out(session, user)
            wanted = Membership(
                body.roles if "roles" in present and body.roles is not None else before.roles,
                body.team_ids if "team_ids" in present and body.team_ids is not None else before.team_ids,
                body.primary_team_id if "primary_team_id" in present else _kept_primary(user, body.team_ids),
                body.partner_account_id if "partner_account_id" in present else before.partner_account_id,
            )
            check_membership(session, runtime.roles, wanted)
            loses_admin = ADMIN not in wanted.roles or wanted.partner_account_id is not None
            if loses_admin and ADMIN in (user.roles or []):
                guard_self(actor, user, "roles", "you cannot remove your own admin role; another admin can")
            guard_last_admin(session, actor, user, loses_admin=loses_admin)
            if "email" in present and body.email is not None:
                email = normalise_email(body.email)
                if email_taken(session, email, except_id=user.id):
                    raise Refused(409, "email", "a user with this email exists")
                user.email = email
            if "name" in present and body.name is not None:
                user.name = body.name
            user.roles = list(wanted.roles)
            user.primary_team_id = wanted.primary_team_id
            user.partner_account_id = wanted.partner_account_id
            set_teams(session, user.id, wanted.team_ids)
            if "active" in present and body.active is not None:
                set_active(session, actor, user, body.active, client_address())
            user.updated_at = utcnow()
            session.flush()
            after = user_out(session, user)
            changed = sorted(
                name
                for name in ("email", "name", "roles", "team_ids", "primary_team_id", "partner_account_id")
                if getattr(before, name) != getattr(after, name)
            )
            if changed:
                audit.record(
                    session,
                    "user.updated",
                    actor=actor,
                    target_type="user",
                    target_id=user.id,
                    client_address=client_address(),
                    details={
                        name: {"from": _plain(getattr(before, name)), "to": _plain(getattr(after, name))}
                        for name in changed
                    },
                )
    except Refused as refused:
        raise _refused(refused) from None
    except IntegrityError:
        raise conflict("email: a user with this email exists") from None
    runtime.users.forget(user_id)
    return answer(after)


def _kept_primary(user: User, new_team_ids: list[str] | None) -> str | None:
    """An explicit primary team the user is leaving falls back to the first team."""
    if new_team_ids is not None and user.primary_team_id not in new_team_ids:
        return None
    return user.primary_team_id


def _plain(value: object) -> object:
    return list(value) if isinstance(value, (list, tuple)) else value


def _set_active(user_id: str, active: bool) -> Response:
    actor = require_admin()
    runtime = identity()
    try:
        with transaction(runtime.sessions) as session:
            user = get_or_404(session, User, user_id, "User")
            set_active(session, actor, user, active, client_address())
            out = user_out(session, user)
    except Refused as refused:
        raise _refused(refused) from None
    runtime.users.forget(user_id)
    return answer(out)


@bp.post("/users/<user_id>:deactivate")
def deactivate_user(user_id: str) -> Response:
    """Every token and refresh token of the user stops working (within GATEWAY_IDENTITY_CACHE_SECONDS on
    the other workers)."""
    return _set_active(user_id, False)


@bp.post("/users/<user_id>:reactivate")
def reactivate_user(user_id: str) -> Response:
    return _set_active(user_id, True)


@bp.post("/users/<user_id>:reset-password")
def reset_password(user_id: str) -> Response:
    actor = require_admin()
    body = parse_body(PasswordReset)
    runtime = identity()
    password_hash = runtime.passwords.hash(body.new_password)  # before the write transaction
    try:
        with transaction(runtime.sessions) as session:
            user = get_or_404(session, User, user_id, "User")
            guard_self(actor, user, "user_id", "change your own password with /api/v1/me:change-password")
            replace_password(session, user, password_hash)
            audit.record(
                session,
                "user.password_reset",
                actor=actor,
                target_type="user",
                target_id=user_id,
                client_address=client_address(),
            )
    except Refused as refused:
        raise _refused(refused) from None
    runtime.users.forget(user_id)
    return no_content()
