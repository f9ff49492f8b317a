"""GET /api/v1/audit-events: the audit trail, newest first, for admins; filter by actor, action, time."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select

from crm_platform.db import reading
from gateway.identity.models import AuditEventList, AuditEventOut
from gateway.identity.paging import binding_of, keyset, limit_of, position_of, query_args, time_arg
from gateway.identity.routes.common import listing, require_admin
from gateway.identity.runtime import identity
from gateway.schema import AuditEvent

bp = Blueprint("identity_audit", __name__)


@bp.get("/audit-events")
def list_audit_events() -> Response:
    actor = require_admin()
    args = query_args({"actor_id", "action", "target_id", "since", "until"})
    limit = limit_of(args)
    runtime = identity()
    binding = binding_of(actor.subject, "audit-events", args)
    after = runtime.cursors.decode(args["cursor"], binding) if "cursor" in args else None
    stmt = select(AuditEvent)
    for name, column in (
        ("actor_id", AuditEvent.actor_id),
        ("action", AuditEvent.action),
        ("target_id", AuditEvent.target_id),
    ):
        if name in args:
            stmt = stmt.where(column == args[name])
    since, until = time_arg(args, "since"), time_arg(args, "until")
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    stmt = keyset(stmt, AuditEvent.occurred_at, AuditEvent.id, after, descending=True).limit(limit + 1)
    with reading(runtime.sessions) as session:
        rows = list(session.scalars(stmt))
    items = [
        AuditEventOut(
            id=e.id,
            occurred_at=e.occurred_at,
            actor_id=e.actor_id,
            actor_kind=e.actor_kind,
            action=e.action,
            target_type=e.target_type,
            target_id=e.target_id,
            client_address=e.client_address,
            details=e.details or {},
        )
        for e in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = runtime.cursors.encode(position_of(last.occurred_at, last.id), binding)
    return listing(items, next_cursor, AuditEventList)
