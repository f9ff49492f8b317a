"""Rows the identity routes look up: one by its id (a 404 problem when missing), and whether a unique
name is taken (checked before the insert so the conflict names the field)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.identity.routes.common import not_found

Row = TypeVar("Row")


def get_or_404(session: Session, model: type[Row], ident: str, kind: str) -> Row:
    """The `model` row whose primary key is `ident`; else the 404 problem "<kind> <ident> was not found."."""
    row = session.get(model, ident)
    if row is None:
        raise not_found(kind, ident)
    return row


def name_taken(session: Session, model: type[Any], name: str, except_id: str | None = None) -> bool:
    """Whether another `model` row (not `except_id`) has this name."""
    stmt = select(func.count()).select_from(model).where(model.name == name)
    if except_id:
        stmt = stmt.where(model.id != except_id)
    return bool(session.scalar(stmt))
