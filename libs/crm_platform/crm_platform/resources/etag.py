"""Optimistic concurrency: a `version` column per resource, an opaque etag derived from it, and
compare-and-set writes.

Convention: every resource table has `version INTEGER NOT NULL DEFAULT 1`, bumped by every change. The
etag a client sees is a short hash of (id, version): opaque, so clients compare it rather than compute
with it, and free of quotes, so the gateway can quote it in an `ETag` header as it is.

A write is `UPDATE ... SET ..., version = :expected + 1 WHERE id = :id AND version = :expected`. Of N
concurrent writers that read the same version exactly one matches: on PostgreSQL (READ COMMITTED) the
others wait for its row lock and then re-check the WHERE against the committed row, which no longer
matches; on SQLite writers are serialised (BEGIN IMMEDIATE) and the later ones read the new version.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy import inspect, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from crm_platform.errors import EtagMismatch

ETAG_MISMATCH_MESSAGE = "the resource has changed since the etag was read; read it again and retry"


def etag_of(resource_id: str, version: int) -> str:
    """The etag of one version of a resource: 16 URL-safe characters, no quotes."""
    digest = hashlib.sha256(f"{resource_id}\x00{version}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def check_etag(resource_id: str, version: int, etag: str) -> None:
    """EtagMismatch unless `etag` is empty ("unconditional") or the etag of this version."""
    if etag and etag != etag_of(resource_id, version):
        raise EtagMismatch(ETAG_MISMATCH_MESSAGE, subject=resource_id)


def id_attribute(model: type[Any]) -> Any:
    """The model's (single-column) primary key, as its mapped attribute."""
    mapper = inspect(model)
    if len(mapper.primary_key) != 1:
        raise TypeError(f"{model.__name__} needs a single-column primary key")
    return mapper.get_property_by_column(mapper.primary_key[0]).class_attribute


def compare_and_set(
    session: Session, model: type[Any], resource_id: str, expected_version: int, values: dict[str, Any]
) -> int:
    """Write `values` to the row only if it still has `expected_version`; returns the new version.

    Raises EtagMismatch, having changed nothing, when another writer got there first. Objects of `model`
    already in the session are updated to the written values.
    """
    new_version = expected_version + 1
    statement = (
        update(model)
        .where(id_attribute(model) == resource_id, model.version == expected_version)
        .values(**values, version=new_version)
        .execution_options(synchronize_session="evaluate")
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        raise EtagMismatch(ETAG_MISMATCH_MESSAGE, subject=resource_id)
    return new_version
