"""The import jobs' tables and every query on them: queue, lease, progress, errors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from contacts.store import Base
from crm_platform.db import UtcDateTime, utcnow

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)

jobs = Table(
    "import_jobs",
    Base.metadata,
    Column("id", String(36), primary_key=True),
    Column("resource", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("format", String(8), nullable=False),
    Column("mapping", JSON, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("notify", Boolean, nullable=False),
    # The caller's verified context (claims) when the job was created: the job runs as them, never wider.
    Column("caller", JSON, nullable=False),
    Column("actor_id", String(64), nullable=False),
    # The uploaded file, kept only while a worker may still read it: a finished job (done, failed,
    # cancelled) keeps none of it, so the people in it are not kept beyond the import (erasure).
    Column("content", LargeBinary, nullable=False),
    Column("rows_total", Integer, nullable=False),
    # Rows committed so far (the chunk position): a worker taking over resumes after them.
    Column("rows_done", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Index("ix_import_jobs_state", "state", "created_at"),
    Index("ix_import_jobs_actor", "actor_id", "created_at", "id"),
)
errors = Table(
    "import_errors",
    Base.metadata,
    Column("job_id", String(36), ForeignKey("import_jobs.id"), primary_key=True),
    Column("row", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("column", String(255), nullable=False),
    Column("message", Text, nullable=False),
)
# What GetImport answers: everything but the file.
SUMMARY = [c for c in jobs.c if c.name != "content"]


def add_job(session: Session, **values: Any) -> dict[str, Any]:
    row = {
        "id": str(uuid.uuid4()),
        "state": QUEUED,
        "rows_done": 0,
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "created_at": utcnow(),
        **values,
    }
    session.execute(insert(jobs).values(**row))
    return row


def job_of(session: Session, job_id: str, actor_id: str | None) -> Any:
    """The job's summary row (None when absent or, with `actor_id`, not theirs)."""
    query = select(*SUMMARY).where(jobs.c.id == job_id)
    if actor_id is not None:
        query = query.where(jobs.c.actor_id == actor_id)
    return session.execute(query).first()


def jobs_of(session: Session, actor_id: str, limit: int, before: tuple[datetime, str] | None) -> list[Any]:
    query = select(*SUMMARY).where(jobs.c.actor_id == actor_id)
    if before is not None:
        at, job_id = before
        query = query.where(or_(jobs.c.created_at < at, (jobs.c.created_at == at) & (jobs.c.id < job_id)))
    return list(session.execute(query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)))


def cancel(session: Session, job_id: str) -> bool:
    """Cancelled if still queued or running; the running worker's next chunk commit fails its fence."""
    done = session.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state.in_((QUEUED, RUNNING)))
        .values(state=CANCELLED, finished_at=utcnow(), lease_owner=None, lease_expires_at=None, content=b"")
    )
    return bool(done.rowcount)


def claim(session: Session, owner: str, lease: timedelta) -> Any:
    """Take the oldest queued job, or a running one whose worker's lease ran out; None if there is none.
    A compare-and-set on the state and lease, so two workers never both win a job."""
    now = utcnow()
    candidates = session.execute(
        select(jobs.c.id, jobs.c.state, jobs.c.lease_expires_at)
        .where(
            or_(
                jobs.c.state == QUEUED,
                (jobs.c.state == RUNNING) & (jobs.c.lease_expires_at < now),
            )
        )
        .order_by(jobs.c.created_at)
        .limit(5)
    ).all()
    for candidate in candidates:
        won = session.execute(
            update(jobs)
            .where(
                jobs.c.id == candidate.id,
                jobs.c.state == candidate.state,
                (jobs.c.lease_expires_at == candidate.lease_expires_at)
                if candidate.lease_expires_at is not None
                else jobs.c.lease_expires_at.is_(None),
            )
            .values(
                state=RUNNING,
                lease_owner=owner,
                lease_expires_at=now + lease,
                started_at=jobs.c.started_at if candidate.state == RUNNING else now,
            )
        )
        if won.rowcount:
            return session.execute(select(jobs).where(jobs.c.id == candidate.id)).one()
    return None


class LostJob(Exception):
    """The job was cancelled or taken over while this worker applied a chunk: the chunk is rolled back."""


def advance(
    session: Session,
    job_id: str,
    owner: str,
    lease: timedelta,
    rows_done: int,
    counts: dict[str, int],
    finished: bool,
    rows_before: int | None = None,
) -> bool:
    """The chunk's position and counts, in the chunk's transaction; False (roll the chunk back) when this
    worker no longer holds the job (cancelled, or its lease was taken over), or when `rows_before` is
    given and the committed position is not that (the chunk before it was not committed: overlap.py)."""
    now = utcnow()
    values: dict[str, Any] = {"rows_done": rows_done, "lease_expires_at": now + lease}
    values.update({name: getattr(jobs.c, name) + count for name, count in counts.items()})
    if finished:
        values.update(state=DONE, finished_at=now, lease_owner=None, lease_expires_at=None, content=b"")
    held = [jobs.c.id == job_id, jobs.c.state == RUNNING, jobs.c.lease_owner == owner]
    if rows_before is not None:
        held.append(jobs.c.rows_done == rows_before)
    done = session.execute(update(jobs).where(*held).values(**values))
    return bool(done.rowcount)


def fail(session: Session, job_id: str, owner: str, reason: str) -> None:
    session.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == RUNNING, jobs.c.lease_owner == owner)
        .values(
            state=FAILED,
            error=reason[:2000],
            finished_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
            content=b"",
        )
    )


def add_errors(session: Session, job_id: str, found: Sequence[tuple[int, str, str]]) -> None:
    """(row, column, message) for one chunk; numbered within each row."""
    if not found:
        return
    seq: dict[int, int] = {}
    values = []
    for row, column, message in found:
        seq[row] = seq.get(row, 0) + 1
        values.append({"job_id": job_id, "row": row, "seq": seq[row], "column": column, "message": message})
    session.execute(insert(errors), values)


def errors_of(session: Session, job_id: str, limit: int, after: tuple[int, int] | None) -> list[Any]:
    query = select(errors.c.row, errors.c.seq, errors.c.column, errors.c.message).where(
        errors.c.job_id == job_id
    )
    if after is not None:
        row, seq = after
        query = query.where(or_(errors.c.row > row, (errors.c.row == row) & (errors.c.seq > seq)))
    return list(session.execute(query.order_by(errors.c.row, errors.c.seq).limit(limit)))
