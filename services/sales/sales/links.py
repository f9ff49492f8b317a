"""A record that a sales record links to (a task's deal, a quote's deal) must be one the caller may read:
naming another is an invalid field of the request, not a 404 (the record being written is not what is
missing), and it leaks nothing about records out of the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_platform.access.context import current_caller_or_none
from crm_platform.errors import InvalidArgument, NotFound


def linked_record(session: Session, repository: Any, record_id: str, field: str) -> Any:
    """The row of `repository` that `field` names, read in the caller's scope."""
    try:
        return repository.get(session, record_id, caller=current_caller_or_none())
    except NotFound:
        raise InvalidArgument(
            f"no {repository.resource_type} {record_id} you may read",
            {field: f"names no {repository.resource_type} you may read"},
        ) from None
