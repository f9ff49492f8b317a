"""Approvals, sales-wide: a record that goes beyond what its author may agree alone waits for someone
else's decision before its next step. A quote whose discount is over its author's allowance cannot be
sent (sales.quotes), an order beyond its partner's usual terms cannot be confirmed (sales.orders).

The request lives on its record, as the columns of `ApprovalColumns` (plus what each record says about
why), rather than in a table of its own: it has no life apart from the record, the record's scope is
exactly who may see and decide it, and an approver's queue is the record's list filtered by
`approval_state = "pending"` (one indexed range). What is the same for every record is here: the states,
the columns a request and a decision write, who may decide (someone else than who asked, while it is
pending), the refusal of the next step until it is approved, and the one history field (`approval`,
before and after) a decision is recorded as. Who else may decide, and which event announces it, each
record says for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.errors import BusinessRuleRefused, FailedPrecondition, PermissionDenied
from crm_platform.listing import ENUM, Field
from crm_platform.protobuf import timestamp
from crm_platform.resources import FieldChange

NOT_REQUIRED, PENDING, APPROVED, REJECTED = "not_required", "pending", "approved", "rejected"
STATES = (NOT_REQUIRED, PENDING, APPROVED, REJECTED)
APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
FIELD = "approval"  # the history's and the events' name of the approval (before -> after)


class ApprovalColumns:
    """The approval of a record, as columns of its table (a declarative mixin)."""

    approval_state: Mapped[str] = mapped_column(String(16))
    approval_requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approval_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    approval_decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approval_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    approval_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


COLUMNS = (
    "approval_state",
    "approval_requested_by",
    "approval_requested_at",
    "approval_decided_by",
    "approval_decided_at",
    "approval_reason",
)


def requested(needed: bool, requester: str | None, now: datetime) -> dict[str, Any]:
    """The columns of a record whose terms were just (re)set by `requester`: a pending request when
    `needed`, else none; any earlier decision is gone with the terms it was about."""
    return {
        "approval_state": PENDING if needed else NOT_REQUIRED,
        "approval_requested_by": requester if needed else None,
        "approval_requested_at": now if needed else None,
        "approval_decided_by": None,
        "approval_decided_at": None,
        "approval_reason": None,
    }


def decided(decision: str, approver: str, now: datetime, reason: str) -> dict[str, Any]:
    """The columns a decision (APPROVED or REJECTED) writes."""
    return {
        "approval_state": decision,
        "approval_decided_by": approver or None,
        "approval_decided_at": now,
        "approval_reason": reason or None,
    }


def is_repeat(row: Any, decision: str, approver: str) -> bool:
    """The same approver's same decision again (a retry): answered with the record as it is."""
    return row.approval_state == decision and row.approval_decided_by == approver


def check_decidable(what: str, state: str, requested_by: str | None, approver: str) -> None:
    """A request may be decided while pending, by someone else than who asked (nobody approves their own
    discount or their own order)."""
    if state != PENDING:
        raise FailedPrecondition(f"{what} has no pending approval (it is {state})")
    if approver and approver == requested_by:
        raise PermissionDenied("you may not decide an approval you asked for")


def check_approved(what: str, record_id: str, state: str, step: str) -> None:
    """BusinessRuleRefused APPROVAL_REQUIRED (a 422 over REST) while the record's request is pending or
    was refused: `step` (send, confirm) waits for an approval."""
    if state in (PENDING, REJECTED):
        raise BusinessRuleRefused(
            f"{what} {record_id} needs an approval before it can {step} (its approval is {state})",
            reason=APPROVAL_REQUIRED,
            metadata={f"{what}_id": record_id, "approval_state": state},
        )


def snapshot(
    row: Any, columns: tuple[str, ...], to_message: Callable[[Any], Any], values: dict[str, Any] | None = None
) -> Any:
    """The record's approval as JSON (its contract message), with `values` written over the row's: the
    before and after of a history entry."""
    merged = {name: getattr(row, name) for name in columns} | (values or {})
    return protojson.encode(to_message(SimpleNamespace(**merged)))


def change(
    row: Any, columns: tuple[str, ...], to_message: Callable[[Any], Any], values: dict[str, Any]
) -> FieldChange:
    """The history's `approval` field change that writing `values` makes."""
    return FieldChange(FIELD, snapshot(row, columns, to_message), snapshot(row, columns, to_message, values))


def message_fields(row: Any) -> dict[str, Any]:
    """Who asked and decided, when and why: the fields every approval message has, by these names."""
    return {
        "requested_by": row.approval_requested_by or "",
        "requested_at": _stamp(row.approval_requested_at),
        "decided_by": row.approval_decided_by or "",
        "decided_at": _stamp(row.approval_decided_at),
        "reason": row.approval_reason or "",
    }


def list_field(column: Any) -> Field:
    """The `approval_state` filter of a record's list (the approver's queue)."""
    return Field(column, ENUM, enum_values=STATES)


def _stamp(value: datetime | None) -> Any:
    return timestamp(value) if value is not None else None
