"""The contacts worker's own CPU per imported row, in-process: no gateway, broker or relay, so the figure
hardly moves with the machine's load (it is CPU time, not wall time).

A fresh SQLite contacts database migrated as the service migrates it, a job queued as CreateImport
queues it (an admin's, mapping suggested from the header) and claimed, then the worker's own
`runner.run_job` over bench_import.py's file (ROWS new contacts, one bad email in a thousand); then the
same file again (every row an unchanged update: `skipped`). Prints CPU-ms per row for each.

Run: `.venv/bin/python bench/profile_import.py [--rows 10000] [--chunk 500] [--database URL]
[--repeat 3] [--profile new|unchanged [--top 40]] [--statements]` (--repeat: rounds on fresh databases,
the least figure of each told, as other work on the machine only ever adds; --profile: cProfile of that
import, sorted by own time and by cumulative time; --statements: the CPU the database driver spent per
kind of statement).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import secrets
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from bench_import import csv_file
from sqlalchemy import Engine, event, func, select

from contacts.imports import fields as fieldmap
from contacts.imports import runner
from contacts.imports import store as jobs_store
from contacts.imports.api import inspect_file
from contacts.imports.people import People
from contacts.imports.preparing import Preparer
from contacts.main import DEFINITION
from contacts.people.domain import formatted_phone, phone_in_e164
from contacts.store import Contact
from crm_platform.db import transaction
from crm_platform.service import Runtime, open_runtime
from crm_platform.testing.callers import caller


def queue_and_claim(runtime: Runtime, content: bytes, owner: str) -> object:
    """A job as CreateImport queues it (an admin's), claimed by `owner`."""
    header, total = inspect_file(content, "csv")
    mapping = fieldmap.suggest_mapping(header, People.importable())
    admin = caller("bench-admin", "admin")
    with transaction(runtime.sessions) as session:
        jobs_store.add_job(
            session,
            resource=People.name,
            filename="bench.csv",
            format="csv",
            mapping=mapping,
            columns=header,
            dry_run=False,
            notify=False,
            caller=admin.claims(),
            actor_id=admin.subject,
            content=content,
            rows_total=total,
        )
    with transaction(runtime.sessions) as session:
        return jobs_store.claim(session, owner, timedelta(minutes=30))


class StatementClock:
    """CPU seconds spent inside the database driver, per statement's first words (`INSERT INTO x`)."""

    def __init__(self, engine: Engine) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self._started = 0.0

    def _before(self, *_args: object) -> None:
        self._started = time.thread_time()

    def _after(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        words = statement.split()
        kind = " ".join(words[:3] if words[0] in ("INSERT", "DELETE") else words[:1])
        self.spent[kind] += time.thread_time() - self._started
        self.calls[kind] += 1

    def report(self, rows: int) -> None:
        for kind, spent in sorted(self.spent.items(), key=lambda item: -item[1]):
            print(f"  {spent * 1000 / rows:.3f} ms/row  {self.calls[kind]:6d}x  {kind}")
        self.spent.clear()
        self.calls.clear()


class GcClock:
    """CPU seconds the garbage collector spent (its collections, every generation)."""

    def __init__(self) -> None:
        self.spent = 0.0
        self._started = 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.spent += time.thread_time() - self._started

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


def preparing_cpu_seconds() -> float:
    """CPU seconds the preparing processes (contacts.imports.preparing) have spent so far."""
    pool = Preparer._pool
    spent = 0.0
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        spent += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return spent


def run_once(
    runtime: Runtime, content: bytes, chunk: int, profiler: cProfile.Profile | None
) -> tuple[float, float, float, object]:
    """CPU seconds of the worker applying the file, wall seconds, the preparing process's CPU
    seconds, and the job's final row."""
    owner = runner.worker_id()
    job = queue_and_claim(runtime, content, owner)
    preparing = preparing_cpu_seconds()
    wall = time.perf_counter()
    started = time.process_time()
    if profiler is not None:
        profiler.enable()
    with runner.heap_frozen():  # as run_imports runs a job
        runner.run_job(runtime, job, owner, timedelta(minutes=30), threading.Event(), chunk)
    if profiler is not None:
        profiler.disable()
    spent = time.process_time() - started
    wall = time.perf_counter() - wall
    preparing = preparing_cpu_seconds() - preparing
    with transaction(runtime.sessions) as session:
        done = jobs_store.job_of(session, job.id, None)  # type: ignore[attr-defined]
    return spent, wall, preparing, done


def one_round(args: argparse.Namespace, collector: GcClock) -> dict[str, float]:
    """The file imported twice into a fresh database (or `--database`); CPU seconds per import."""
    figures: dict[str, float] = {}
    for remembered in (phone_in_e164, formatted_phone):  # each round's numbers read afresh
        remembered.cache_clear()
    with tempfile.TemporaryDirectory(prefix="profile-import-") as scratch:
        url = args.database or f"sqlite:///{Path(scratch) / 'contacts.db'}"
        runtime = open_runtime(DEFINITION, url)
        clock = StatementClock(runtime.engine) if args.statements else None
        content = csv_file(args.rows, secrets.token_hex(4))
        profilers = {
            name: cProfile.Profile() if args.profile == name else None for name in ("new", "unchanged")
        }
        for name in ("new", "unchanged"):
            collector.take()
            spent, wall, preparing, job = run_once(runtime, content, args.chunk, profilers[name])
            collected = collector.take()
            figures[name] = spent
            counts = {k: getattr(job, k) for k in ("created", "updated", "skipped", "failed")}
            print(
                f"{name:9s}: {spent * 1000 / args.rows:.3f} CPU-ms/row ({spent:.2f} s for {args.rows} rows, "
                f"chunks of {args.chunk}; {job.state}: {counts}; the garbage collector "
                f"{collected * 1000 / args.rows:.3f} of it); {args.rows / wall:,.0f} rows/s in {wall:.2f} s "
                f"wall, the preparing process {preparing * 1000 / args.rows:.3f} CPU-ms/row"  # type: ignore[attr-defined]
            )
            if clock is not None:
                clock.report(args.rows)
        with runtime.engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(Contact)).scalar_one()
        print(f"contacts in the database: {stored}")
        runtime.engine.dispose()
        if args.profile:
            stats = pstats.Stats(profilers[args.profile], stream=sys.stdout)  # type: ignore[arg-type]
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=runner.CHUNK_ROWS.get())
    parser.add_argument("--database", default="", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--profile", choices=("new", "unchanged"), default=None)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds, each on a fresh database; the least of each is told"
    )
    args = parser.parse_args()
    collector = GcClock()
    Preparer.start()  # as run_imports does: the preparing process is up before any job
    time.sleep(2)
    rounds = [one_round(args, collector) for _ in range(args.repeat)]
    Preparer.stop()
    if args.repeat > 1:
        least = {name: min(r[name] for r in rounds) * 1000 / args.rows for name in ("new", "unchanged")}
        print(
            f"least of {args.repeat}: new {least['new']:.3f}, unchanged {least['unchanged']:.3f} CPU-ms/row"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
