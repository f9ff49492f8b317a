"""crm_platform.periodic: a job run every interval until the worker stops, at once again after a full
batch, and on after a failure."""

from __future__ import annotations

import itertools
import threading
import time
from types import SimpleNamespace
from typing import Any

from crm_platform.periodic import periodic


def test_the_job_runs_again_at_once_after_a_full_batch_and_stops_when_told() -> None:
    calls: list[float] = []
    stopping = threading.Event()

    def job(_sessions: Any) -> int:
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("the database is away")  # logged; tried again after the interval
        if len(calls) >= 4:
            stopping.set()
        return 5 if len(calls) == 3 else 1  # the third: a full batch, so the fourth follows at once

    periodic(job, every=0.2, batch=5)(SimpleNamespace(sessions=None), stopping)  # type: ignore[arg-type]
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert len(calls) == 4
    assert gaps[0] >= 0.19 and gaps[1] >= 0.19  # a wait after a partial batch and after a failure
    assert gaps[2] < 0.1  # none after a full batch
