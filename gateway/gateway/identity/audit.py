"""The audit trail of security-relevant actions: logins and failed logins, refresh-token reuse, and every
change to users, teams, roles, partner accounts and API keys. Changes are recorded in the transaction that
makes them (no change without its entry, no entry without its change); login outcomes in their own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from gateway.identity.principal import Principal
from gateway.schema import AuditEvent

ANONYMOUS = "anonymous"


def record(
    session: Session,
    action: str,
    *,
    actor: Principal | None = None,
    actor_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    client_address: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            id=str(uuid.uuid4()),
            occurred_at=utcnow(),
            actor_id=actor.subject if actor else actor_id,
            actor_kind=actor.kind if actor else ("user" if actor_id else ANONYMOUS),
            action=action,
            target_type=target_type,
            target_id=target_id,
            client_address=client_address,
            details=dict(details or {}),
        )
    )


def record_now(sessions: sessionmaker[Session], action: str, **fields: Any) -> None:
    with transaction(sessions) as session:
        record(session, action, **fields)
