"""Writes from several clients at once on the embedded SQLite: latency of `POST /api/v1/contacts` through
the real gateway while 1, then 4, then 8 clients create contacts as fast as they can answer.

Every create is one write transaction of the contacts service, and each one's event makes the contacts
worker (another process) write its timeline entry and the relay mark the event published: three kinds
of writers on one database file. SQLite lets one write at a time; what this measures is how fairly and
how promptly the turn passes (a writer that waits too long misses the gateway's deadline: a 504).

Prints, per number of clients: creates per second, p50 / p99 / max latency, the answers that were not
201, and p99 against one client's p99 in the same run (the figure: how much waiting for a turn adds).
Then one client again while an import of IMPORT_ROWS new contacts runs in the worker: each import chunk
is one write transaction, so a create waits for the chunk being written.

Run: `.venv/bin/python bench/bench_concurrent_writes.py [--seconds 15] [--clients 1,4,8]
[--import-rows 10000] [--backends sqlite]`
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections import Counter

import requests
from bench_import import csv_file
from bench_platform import throwaway_backend
from stats import percentile


def client(
    url: str, token: str, prefix: str, until: float, latencies: list[float], answers: Counter[int]
) -> None:
    """Create contacts one after another until `until`; each answer's latency and status."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    number = 0
    while time.perf_counter() < until:
        number += 1
        body = {
            "first_name": "Ada",
            "last_name": f"Writer{number}",
            "email": f"{prefix}-{number}@example.com",
        }
        started = time.perf_counter()
        reply = session.post(f"{url}/api/v1/contacts", json=body, timeout=30)
        latencies.append(time.perf_counter() - started)
        answers[reply.status_code] += 1


def run_clients(url: str, token: str, clients: int, seconds: float) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    answers: Counter[int] = Counter()
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(
            target=client,
            args=(url, token, f"w{clients}-{i}-{secrets.token_hex(3)}", until, latencies, answers),
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, answers


def describe(
    label: str, latencies: list[float], answers: Counter[int], seconds: float, baseline: float
) -> str:
    p99 = percentile(latencies, 99)
    failed = {code: n for code, n in sorted(answers.items()) if code != 201}
    return (
        f"{label}: {len(latencies) / seconds:,.0f} creates/s, p50 {percentile(latencies, 50) * 1e3:.1f} ms, "
        f"p99 {p99 * 1e3:.1f} ms, max {max(latencies) * 1e3:.0f} ms, not 201: {failed or 'none'}; "
        f"**p99 {p99 / baseline:.2f}x one client's**"
    )


def during_import(url: str, token: str, rows: int, run: str) -> tuple[list[float], Counter[int], float]:
    """One client creating contacts while an import of `rows` new contacts runs, until it is done."""
    headers = {"Authorization": f"Bearer {token}"}
    reply = requests.post(
        f"{url}/api/v1/imports",
        files={"file": ("bench.csv", csv_file(rows, run))},
        data={"resource": "contacts"},
        headers=headers,
        timeout=120,
    )
    reply.raise_for_status()
    job = reply.json()
    latencies: list[float] = []
    answers: Counter[int] = Counter()
    started = time.perf_counter()
    while job["state"] in ("queued", "running"):
        client(url, token, f"imp-{secrets.token_hex(3)}", time.perf_counter() + 1, latencies, answers)
        job = requests.get(f"{url}/api/v1/imports/{job['id']}", headers=headers, timeout=30).json()
    return latencies, answers, time.perf_counter() - started


def run_backend(kind: str, counts: list[int], seconds: float, import_rows: int, run: str) -> list[str]:
    lines: list[str] = []
    with throwaway_backend(kind, "writes", run) as backend:
        if backend is None:
            return lines
        with backend.platform() as running:
            url, token = running.config.gateway_url, running.token
            run_clients(url, token, 1, 3)  # warm up: connections, caches, the first pages of the file
            baseline = None
            for clients in counts:
                latencies, answers = run_clients(url, token, clients, seconds)
                baseline = baseline or percentile(latencies, 99)
                lines.append(
                    describe(f"{backend.name}, {clients} client(s)", latencies, answers, seconds, baseline)
                )
                print(lines[-1], flush=True)
            if import_rows and baseline:
                latencies, answers, took = during_import(url, token, import_rows, run)
                label = f"{backend.name}, 1 client during an import of {import_rows} rows ({took:.1f} s)"
                lines.append(describe(label, latencies, answers, took, baseline))
                print(lines[-1], flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", default="1,4,8")
    parser.add_argument("--import-rows", type=int, default=10_000, help="0: no import step")
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    run = secrets.token_hex(4)
    for kind in args.backends.split(","):
        run_backend(kind.strip(), counts, args.seconds, args.import_rows, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
