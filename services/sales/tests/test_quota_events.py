"""Quotas announce their changes (SQLite and PostgreSQL): quota_set, quota_changed and quota_deleted, each
in the change's transaction with the actor, the version and the changed fields (old -> new), in the
quota's own aggregate order."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from crm.common.v1 import money_pb2
from crm.sales.v1 import reports_pb2, reports_pb2_grpc
from crm_platform.testing.callers import caller_metadata
from sales.store import messaging


def _events(sales: Any, quota_id: str) -> list[tuple[str, dict[str, Any]]]:
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.routing_key, outbox.c.payload)
            .where(outbox.c.aggregate_type == "quota", outbox.c.aggregate_id == quota_id)
            .order_by(outbox.c.sequence)
        ).all()
    return [(row.routing_key, json.loads(row.payload)) for row in rows]


def test_setting_changing_and_deleting_a_quota_is_announced_with_actor_and_changes(shared_sales: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    team, rep = f"team-{tag}", f"rep-{tag}"
    manager = caller_metadata(f"manager-{tag}", "manager", team_ids=(team,))
    quotas = reports_pb2_grpc.QuotasServiceStub(shared_sales.channel)
    made = quotas.CreateQuota(
        reports_pb2.CreateQuotaRequest(
            period="2026-Q3",
            amount=money_pb2.Money(amount_minor=5_000_000, currency="EUR"),
            owner_id=rep,
            team_id=team,
        ),
        metadata=manager,
        timeout=10,
    )
    changed = quotas.UpdateQuota(
        reports_pb2.UpdateQuotaRequest(
            quota=reports_pb2.Quota(
                id=made.id, etag=made.etag, amount=money_pb2.Money(amount_minor=6_000_000, currency="EUR")
            ),
            update_mask={"paths": ["amount"]},
        ),
        metadata=manager,
        timeout=10,
    )
    quotas.DeleteQuota(
        reports_pb2.DeleteQuotaRequest(id=made.id, etag=changed.etag), metadata=manager, timeout=10
    )

    events = _events(shared_sales, made.id)
    assert [kind for kind, _ in events] == ["quota_set", "quota_changed", "quota_deleted"]
    (_, set_), (_, change), (_, deleted) = events
    for payload in (set_, change, deleted):
        assert (payload["quota_id"], payload["actor_id"], payload["owner_id"], payload["team_id"]) == (
            made.id,
            f"manager-{tag}",
            rep,
            team,
        )
        assert payload["period"] == "2026-Q3"
    assert [p["version"] for p in (set_, change, deleted)] == [1, 2, 3]
    assert set_["amount"] == {"amount_minor": 5_000_000, "currency": "EUR"}
    assert change["changed_fields"] == ["amount"]
    [amount] = change["changes"]
    assert amount["field"] == "amount"
    assert (amount["old_value"]["amount_minor"], amount["new_value"]["amount_minor"]) == (
        5_000_000,
        6_000_000,
    )
    assert change["amount"]["amount_minor"] == 6_000_000
    assert deleted["changed_fields"] == ["archived_at"]
    assert deleted["quota"]["archived_at"]
