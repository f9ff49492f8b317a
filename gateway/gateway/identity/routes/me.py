"""/api/v1/me: who the caller is and what they may do; changing one's own password."""

from __future__ import annotations

from flask import Blueprint, Response, g
from sqlalchemy import select

from crm_platform.access.rights import resource_types
from crm_platform.access.rights import to_json as rights_json
from crm_platform.db import reading, transaction
from gateway.auth import current_principal, unauthorized
from gateway.bodies import parse_body
from gateway.identity import audit, refresh_tokens
from gateway.identity.models import Me, PartnerAccountRef, PasswordChange, TeamRef
from gateway.identity.routes.common import answer, client_address, require_user, too_many_attempts
from gateway.identity.runtime import identity
from gateway.identity.tokens_answer import token_answer
from gateway.identity.user_admin import replace_password
from gateway.schema import ApiKey, PartnerAccount, Team, User
from gateway.users import Identity

bp = Blueprint("identity_me", __name__)

WRONG_PASSWORD = "The current password is wrong."  # noqa: S105 - a message, not a secret


@bp.get("/me")
def me() -> Response:
    principal = current_principal()
    runtime = identity()
    with reading(runtime.sessions) as session:
        if principal.is_api_key:
            key = session.get(ApiKey, principal.subject)
            email, name = None, key.name if key else None
        else:
            user = session.get(User, principal.subject)
            email, name = (user.email, user.name) if user else (None, None)
        names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(principal.team_ids))).all())
        partner = session.get(PartnerAccount, principal.partner_account_id) if principal.is_partner else None
    teams = [
        TeamRef(id=t, name=names.get(t, ""), primary=t == principal.primary_team_id)
        for t in principal.team_ids
    ]
    return answer(
        Me(
            kind=principal.kind,  # type: ignore[arg-type]
            id=principal.subject,
            email=email,
            name=name,
            roles=list(principal.roles),
            teams=teams,
            primary_team_id=principal.primary_team_id,
            partner_account=PartnerAccountRef(id=partner.id, name=partner.name, kind=partner.kind)  # type: ignore[arg-type]
            if partner
            else None,
            scopes=list(principal.scopes),
            # Every registered type, `none` where no role grants anything: a client shapes its screens
            # from this without knowing which types exist.
            rights=rights_json(  # type: ignore[arg-type]
                {name: principal.rights.get(name, {}) for name in resource_types()}
            ),
        )
    )


@bp.post("/me:change-password")
def change_password() -> Response:
    """Needs the current password (throttled like a login); ends every other session and answers a
    fresh token pair for this one."""
    principal = require_user()
    body = parse_body(PasswordChange)
    runtime = identity()
    with reading(runtime.sessions) as session:
        user = session.get(User, principal.subject)
        if user is None:  # the guard loaded its state a moment ago; users are never deleted, only deactivated
            raise unauthorized("The access token is no longer valid; sign in again.")
        email, stored = user.email, user.password_hash
    address = client_address() or "unknown"
    wait = runtime.throttle.retry_after(email, address)
    if wait:
        raise too_many_attempts(wait)
    if not runtime.passwords.verify(stored, body.current_password):
        runtime.throttle.record_failure(email, address)
        audit.record_now(
            runtime.sessions,
            "user.password_change_failed",
            actor=principal,
            target_type="user",
            target_id=principal.subject,
            client_address=address,
        )
        raise unauthorized(WRONG_PASSWORD)
    fresh = runtime.passwords.hash(body.new_password)  # no transaction open while hashing
    with transaction(runtime.sessions) as session:
        user = session.get(User, principal.subject)
        if user is None:
            raise unauthorized("The access token is no longer valid; sign in again.")
        replace_password(session, user, fresh)
        audit.record(
            session,
            "user.password_changed",
            actor=principal,
            target_type="user",
            target_id=user.id,
            client_address=address,
        )
        version = user.security_version
        refresh, expires_at = refresh_tokens.issue(
            session, runtime.keyed_hash, user.id, ttl_seconds=runtime.settings.refresh_ttl_seconds
        )
    runtime.users.forget(principal.subject)
    g.pop("principal", None)
    return token_answer(runtime, Identity(principal.subject, principal.roles, version), refresh, expires_at)
