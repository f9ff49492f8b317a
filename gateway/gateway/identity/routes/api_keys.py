"""/api/v1/api-keys: integration keys, created by admins with scopes and an optional expiry; the key is
shown once in the create answer; revoked with :revoke (effective within GATEWAY_IDENTITY_CACHE_SECONDS)."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response
from sqlalchemy import select

from crm_platform.db import reading, transaction, utcnow
from gateway.bodies import parse_body
from gateway.identity import audit
from gateway.identity.api_keys import create_key, scope_problem
from gateway.identity.models import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut
from gateway.identity.paging import bool_arg
from gateway.identity.routes.common import answer, client_address, invalid, require_admin
from gateway.identity.routes.lookups import get_or_404
from gateway.identity.routes.pages import page_answer, page_request
from gateway.identity.runtime import identity
from gateway.schema import ApiKey

bp = Blueprint("identity_api_keys", __name__)


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


@bp.post("/api-keys")
def create_api_key() -> Response:
    actor = require_admin()
    body = parse_body(ApiKeyCreate)
    for position, scope in enumerate(body.scopes):
        problem = scope_problem(scope)
        if problem:
            raise invalid(f"scopes.{position}", problem)
    expires_at = body.expires_at
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise invalid("expires_at", "needs a time zone (RFC 3339)")
        try:
            expires_at = expires_at.astimezone(UTC)
        except OverflowError:
            raise invalid("expires_at", "out of range") from None
        if expires_at <= utcnow():
            raise invalid("expires_at", "must be in the future")
    runtime = identity()
    scopes = tuple(dict.fromkeys(body.scopes))
    with transaction(runtime.sessions) as session:
        row, key = create_key(
            session,
            runtime.keyed_hash,
            name=body.name,
            scopes=scopes,
            expires_at=expires_at,
            created_by=actor.subject,
        )
        audit.record(
            session,
            "api_key.created",
            actor=actor,
            target_type="api_key",
            target_id=row.id,
            client_address=client_address(),
            details={
                "name": body.name,
                "scopes": list(scopes),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        created = ApiKeyCreated(**_out(row).model_dump(), key=key)
    return answer(created, 201, location=f"/api/v1/api-keys/{created.id}")


@bp.get("/api-keys")
def list_api_keys() -> Response:
    actor = require_admin()
    page = page_request(actor.subject, "api-keys", {"revoked"})
    stmt = select(ApiKey)
    revoked = bool_arg(page.args, "revoked")
    if revoked is not None:
        stmt = stmt.where(ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None))
    return page_answer(page, stmt, ApiKey.created_at, ApiKey.id, lambda _session, key: _out(key), ApiKeyList)


@bp.get("/api-keys/<key_id>")
def get_api_key(key_id: str) -> Response:
    require_admin()
    with reading(identity().sessions) as session:
        key = get_or_404(session, ApiKey, key_id, "API key")
        return answer(_out(key))


@bp.post("/api-keys/<key_id>:revoke")
def revoke_api_key(key_id: str) -> Response:
    actor = require_admin()
    runtime = identity()
    with transaction(runtime.sessions) as session:
        key = get_or_404(session, ApiKey, key_id, "API key")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            audit.record(
                session,
                "api_key.revoked",
                actor=actor,
                target_type="api_key",
                target_id=key.id,
                client_address=client_address(),
                details={"name": key.name},
            )
        out, prefix = _out(key), key.prefix
    runtime.api_keys.forget(prefix)
    return answer(out)
