"""Events about quotas, written to the outbox in the change's transaction (aggregate `quota`):
quota_set, quota_changed and quota_deleted, each with the actor, the version and the changed fields
(old -> new), payload `crm.sales.v1.QuotaEvent`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.common.v1 import money_pb2
from crm.sales.v1 import reports_pb2
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, ResourceEvents
from crm_platform.resources.history import field_changes
from sales.events import record
from sales.reports.quotas import QUOTA, to_message

QUOTA_SET = "quota_set"
QUOTA_CHANGED = "quota_changed"
QUOTA_DELETED = "quota_deleted"


def _record(session: Session, event_type: str, change: Change[Any]) -> str:
    row = change.row
    payload = reports_pb2.QuotaEvent(
        quota_id=row.id,
        period=row.period,
        amount=money_pb2.Money(amount_minor=row.amount_minor, currency=row.currency),
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        actor_id=change.actor_id,
        version=change.version,
        changed_fields=change.changed_fields,
        changes=field_changes(change.changes),
        occurred_at=timestamp(row.archived_at or row.updated_at),
        quota=to_message(row),
    )
    return record(session, event_type, QUOTA, row.id, payload)


def quota_set(session: Session, change: Change[Any]) -> str:
    return _record(session, QUOTA_SET, change)


def quota_changed(session: Session, change: Change[Any]) -> str:
    return _record(session, QUOTA_CHANGED, change)


def quota_deleted(session: Session, change: Change[Any]) -> str:
    return _record(session, QUOTA_DELETED, change)


EVENTS = ResourceEvents(created=quota_set, updated=quota_changed, archived=quota_deleted)
