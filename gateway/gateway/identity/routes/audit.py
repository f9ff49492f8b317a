"""GET /api/v1/audit-events: the audit trail, newest first, for admins; filter by actor, action, time."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select

from gateway.identity.models import AuditEventList, AuditEventOut
from gateway.identity.paging import time_arg
from gateway.identity.routes.common import require_admin
from gateway.identity.routes.pages import page_answer, page_request
from gateway.schema import AuditEvent

bp = Blueprint("identity_audit", __name__)


@bp.get("/audit-events")
def list_audit_events() -> Response:
    actor = require_admin()
    page = page_request(actor.subject, "audit-events", {"actor_id", "action", "target_id", "since", "until"})
    args = page.args
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
    return page_answer(
        page,
        stmt,
        AuditEvent.occurred_at,
        AuditEvent.id,
        lambda _session, event: _out(event),
        AuditEventList,
        descending=True,
    )


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.id,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_kind=event.actor_kind,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        client_address=event.client_address,
        details=event.details or {},
    )
