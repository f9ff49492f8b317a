"""Export in constant memory: `GET /api/v1/contacts:export` of a million contacts, end to end through the
real gateway (gunicorn) and the contacts gRPC server, with the resident memory of both sampled all along.

The contacts database is seeded first with bulk inserts (the contacts and their emails of
bench/seed_contacts.py, the search work's seed: the rows as the service writes them), then the whole
platform starts on it as for `make run` and the export is read to its end (rows counted, the body
thrown away as it arrives). Every 0.2 s the bench reads VmRSS of the contacts `serve` process and of
each gateway process (the gunicorn master and its workers) from /proc; the figure is each one's peak
during the export, with its RSS before the export for comparison (VmHWM, the kernel's own peak, is
printed too: it also covers start-up).

Run: `.venv/bin/python bench/bench_export.py [--rows 1000000] [--backends sqlite,postgresql]
[--format csv|jsonl]`. Target (issue "Contacts complete"): every process under 200 MB.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
import seed_contacts  # bench/seed_contacts.py: realistic contacts, bulk-written
from bench_platform import throwaway_backend

from contacts import store
from contacts.main import DEFINITION
from crm_platform.db import transaction
from crm_platform.postgres import lift_timeouts
from crm_platform.service import open_runtime

SEED_BATCH = 10_000
TARGET_MB = 200.0
SAMPLE_SECONDS = 0.2


def status_mb(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory line (VmRSS, VmHWM) in MB; 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class RssSampler(threading.Thread):
    """Peak VmRSS per process of `find()` (label -> pid, asked again at each sample)."""

    def __init__(self, find: Callable[[], dict[str, int]]) -> None:
        super().__init__(daemon=True)
        self.find = find
        self.peaks: dict[str, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for name, pid in self.find().items():
                self.peaks[name] = max(self.peaks.get(name, 0.0), status_mb(pid, "VmRSS"))
            self.stopping.wait(SAMPLE_SECONDS)

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.join(5)
        return self.peaks


def seed(url: str, rows: int, start: int = 0) -> float:
    """Seconds to add contacts number `start` to `rows` - 1 and their emails as bench/seed_contacts.py
    writes them (its generator and bulk writer), without its search terms: an export does not read
    them, and writing them is most of that seed's time (a million took 40 minutes here under load)."""
    started = time.perf_counter()
    runtime = open_runtime(DEFINITION, url)  # migrated on open
    generator = seed_contacts.Generator(1)
    try:
        for first in range(start, rows, SEED_BATCH):
            batch = generator.batch(first, min(SEED_BATCH, rows - first))
            with transaction(runtime.sessions) as session:
                lift_timeouts(session.connection())
                seed_contacts.write_rows(session, store.Contact.__table__, batch)
                seed_contacts.write_rows(
                    session,
                    store.ContactEmailRow.__table__,
                    [
                        {
                            "contact_id": row["id"],
                            "email": e["address"],
                            "uniqueness_book": row["uniqueness_book"],
                        }
                        for row in batch
                        for e in row["emails"]
                    ],
                )
        with runtime.engine.connect() as connection:
            lift_timeouts(connection)
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    finally:
        runtime.engine.dispose()
    return time.perf_counter() - started


def copy_seeded(path: Path, data_dir: Path) -> int:
    """A SQLite contacts database seeded before (e.g. by bench/seed_contacts.py), copied in; its rows."""
    shutil.copyfile(path, data_dir / "contacts.db")
    with sqlite3.connect(data_dir / "contacts.db") as connection:
        return int(connection.execute("SELECT count(*) FROM contacts").fetchone()[0])


def run_backend(kind: str, rows: int, file_format: str, run: str, seeded: Path | None = None) -> list[str]:
    lines: list[str] = []
    with throwaway_backend(kind, "export", run) as backend:
        if backend is None:
            return lines
        name = backend.name
        if seeded is not None and kind == "sqlite":
            started = time.perf_counter()
            present = copy_seeded(seeded, backend.data_dir)
            if present < rows:  # topped up with the same generator, after the rows it has
                seed(backend.contacts_url, rows, start=present)
            rows = max(rows, present)
            seconds_to_seed = time.perf_counter() - started
            how = f"from {seeded} ({present:,}) and seeded"
        else:
            seconds_to_seed, how = seed(backend.contacts_url, rows), "seeded"
        with backend.platform() as running:
            contacts_pid = running.supervisor["contacts"].process.pid
            gateway_pid = running.supervisor["gateway"].process.pid

            def watched() -> dict[str, int]:
                found = {"contacts serve": contacts_pid, "gateway master": gateway_pid}
                for n, pid in enumerate(children(gateway_pid)):
                    found[f"gateway worker {n + 1}"] = pid
                return found

            before = {label: status_mb(pid, "VmRSS") for label, pid in watched().items()}
            sampler = RssSampler(watched)
            sampler.start()
            started = time.perf_counter()
            exported, size = 0, 0
            with requests.get(
                f"{running.config.gateway_url}/api/v1/contacts:export",
                params={"format": file_format},
                headers={"Authorization": f"Bearer {running.token}"},
                stream=True,
                timeout=600,
            ) as reply:
                reply.raise_for_status()
                for chunk in reply.iter_content(chunk_size=1 << 16):
                    exported += chunk.count(b"\n")
                    size += len(chunk)
            seconds = time.perf_counter() - started
            peaks = sampler.stop()
            hwm = {label: status_mb(pid, "VmHWM") for label, pid in watched().items()}
            data_rows = exported - (1 if file_format == "csv" else 0)
            lines.append(
                f"{name}, {rows:,} contacts {how} in {seconds_to_seed:.0f} s; export ({file_format}) "
                f"{data_rows:,} rows, {size / 1e6:,.0f} MB in {seconds:.0f} s "
                f"({data_rows / seconds:,.0f} rows/s; load average {os.getloadavg()[0]:.1f} on "
                f"{os.cpu_count()} CPUs)"
            )
            worst = 0.0
            for label in sorted(peaks):
                worst = max(worst, peaks[label])
                lines.append(
                    f"  {label:<18} RSS before {before.get(label, 0):6.1f} MB, peak during the export "
                    f"{peaks[label]:6.1f} MB (VmHWM {hwm.get(label, 0):6.1f} MB)"
                )
            verdict = "met" if worst < TARGET_MB and data_rows == rows else "NOT met"
            lines.append(f"  worst peak {worst:.1f} MB: target < {TARGET_MB:.0f} MB {verdict}")
            for line in lines:
                print(line, flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--format", default="csv", choices=("csv", "jsonl"))
    parser.add_argument(
        "--seeded", type=Path, help="SQLite: copy this already seeded contacts database instead of seeding"
    )
    args = parser.parse_args()
    run = secrets.token_hex(4)
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.rows, args.format, run, args.seeded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
