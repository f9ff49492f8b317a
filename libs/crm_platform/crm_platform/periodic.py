"""Periodic jobs of a worker: one function run now and then, written once.

    definition.include(background=(periodic(overdue.sweep, every=30.0, batch=overdue.BATCH),))

`periodic` turns a job `run(sessions) -> int` (how much it did) into a background job of the worker
(`ServiceDefinition.background`): it runs the job, waits `every` seconds (or until the worker stops) and
runs it again. A job that did a full `batch` is run again at once, so a backlog drains at full speed
rather than one batch per interval. A failure (the database away for a moment) is logged and tried again
at the next interval: the worker keeps running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from crm_platform.service import Runtime

log = logging.getLogger(__name__)

Job = Callable[[sessionmaker[Session]], int]


def periodic(
    job: Job, *, every: float | Callable[[], float], batch: int | None = None
) -> Callable[[Runtime, threading.Event], None]:
    """A background job (called with the worker's runtime and stop event) running `job` every `every`
    seconds (a number, or a function read at each wait: a setting) until the stop event is set."""

    def run(runtime: Runtime, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                done = job(runtime.sessions)
                if batch is not None and done >= batch:
                    continue  # a full batch: more is probably waiting
            except Exception:
                log.exception("periodic job %s failed; trying again shortly", _name(job))
            stopping.wait(every() if callable(every) else every)

    run.__name__ = f"periodic_{_name(job)}"
    return run


def _name(job: Job) -> str:
    return getattr(job, "__qualname__", repr(job))
