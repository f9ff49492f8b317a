"""Writes under a record that a merge may be moving: a person's interactions, consents, company links
and timeline entries; a company's people and subsidiaries; and writes to the record itself.

A merge locks every record it takes part in FOR UPDATE, in id order, then moves every row under the
sources to the survivor (contacts.merge.execution). A write that adds a row under a record therefore
first takes the record's shared lock in its own transaction (`lock_live`: FOR SHARE on PostgreSQL), and
one of two things happens:
- the merge holds the record already: the write waits for the merge to commit, then reads the record
  merged and is refused (`MergedInto`: FAILED_PRECONDITION naming the survivor, REST 409 with
  `moved_to`; NOT_FOUND to a caller who may not read the survivor, as a GET answers);
- the write holds it: the merge waits for the write to commit, then moves the new row with the others.
So no row is ever left under a tombstone, and no write is lost silently. On SQLite a write transaction
holds the whole database from its first statement (BEGIN IMMEDIATE, crm_platform.db), so the same
check inside the write's transaction is enough. A write to a merged record is refused rather than
applied to the survivor: the client chose the record (an etag, fields read from it), and a write meant
for one record must not land on another unseen.

A wait longer than CRM_DB_LOCK_TIMEOUT_MS (a long merge), or a deadlock the database breaks, is ABORTED
(`contention_aborts`), having changed nothing: the client may try again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from contacts.merge.tombstones import moved
from crm_platform.access import CallerContext
from crm_platform.db import reading
from crm_platform.errors import Aborted, MergedInto
from crm_platform.resources import Repository

# PostgreSQL's lock_not_available (CRM_DB_LOCK_TIMEOUT_MS passed while another transaction, a merge
# say, held the rows) and deadlock_detected: the transaction changed nothing and may be tried again.
CONTENDED = frozenset({"55P03", "40P01"})

F = TypeVar("F", bound=Callable[..., Any])


def is_contended(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in CONTENDED


def contention_aborts(method: F) -> F:
    """A servicer method whose lock waits that time out (or deadlocks) answer ABORTED, not INTERNAL.
    Put it outside the method's transaction, so the transaction has been rolled back by then."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DBAPIError as error:
            if not is_contended(error):
                raise
            raise Aborted("another change to these records is in progress; try again") from None

    return guarded  # type: ignore[return-value]


def refuse_merged(
    session: Session, repository: Repository[Any, Any], row: Any, caller: CallerContext | None
) -> None:
    """Raises what a write to `row` answers when it is a tombstone: MergedInto naming its survivor, or
    NOT_FOUND to a caller who may not read the survivor."""
    if row.merged_into is not None:
        raise moved(session.connection(), repository, row, caller, answer=MergedInto)


def lock_live(
    session: Session,
    repository: Repository[Any, Any],
    record_id: str,
    caller: CallerContext | None,
    *,
    action: str = "read",
) -> Any:
    """The record a write goes under, read in the caller's scope with `action`'s right (NOT_FOUND /
    PERMISSION_DENIED as the repository answers) and share-locked until the transaction ends; refused
    when it is merged (`refuse_merged`)."""
    row = repository.get(session, record_id, for_share=True, caller=caller, action=action)
    refuse_merged(session, repository, row, caller)
    return row


def refuse_deleting_merged(
    sessions: sessionmaker[Session],
    repository: Repository[Any, Any],
    record_id: str,
    caller: CallerContext | None,
) -> None:
    """Before a delete (which archives, and so would answer a tombstone, archived already, with success
    and change nothing): a merged record is refused as any write to it is. Read outside the delete's
    transaction: a merge committing in between leaves the same records as the delete then the merge
    (an archived source merges like a live one), so the answer stays true."""
    with reading(sessions) as session:
        row = repository.read(session, record_id, caller=caller)
        refuse_merged(session, repository, row, caller)
