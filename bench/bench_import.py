"""Import throughput end to end: a CSV of contacts uploaded to the real gateway (`POST /api/v1/imports`),
applied by the contacts worker, timed from the upload to the job's `done` (the figure: rows per second).

The whole platform runs as for `make run` (every service's serve and worker, the gateway under gunicorn)
on SQLite, and with `--postgres` on throw-away PostgreSQL databases. The file has ROWS new contacts (a
few bad rows among them, so errors are recorded too) and is imported once; a second import of the same
file (every row an unchanged update: `skipped`) is timed as well.

Run: `.venv/bin/python bench/bench_import.py [--rows 10000] [--postgres]`. Target (issue "Contacts
complete"): >= 5,000 rows/s. Prints the figures, with the CPU time the contacts worker spent (a figure
less at the mercy of whatever else the machine runs); does not write bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import requests
from crm_devrun.platform import SERVICES, PlatformConfig, start_platform

from crm_platform.testing import rabbit
from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable


def csv_file(rows: int, run: str) -> bytes:
    lines = ["First name,Last name,Email,Phone,Company"]
    for i in range(rows):
        email = f"bench-{run}-{i}@example.com" if i % 1000 != 999 else f"not-an-email-{i}"
        lines.append(f"First{i},Last{i},{email},+44 20 7946 {i % 10000:04d},Company {i % 97}")
    return ("\n".join(lines) + "\n").encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_import(url: str, token: str, content: bytes) -> tuple[float, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    reply = requests.post(
        f"{url}/api/v1/imports", files={"file": ("bench.csv", content)}, headers=headers, timeout=120
    )
    reply.raise_for_status()
    job = reply.json()
    while job["state"] in ("queued", "running"):
        time.sleep(0.05)
        job = requests.get(f"{url}/api/v1/imports/{job['id']}", headers=headers, timeout=30).json()
    return time.perf_counter() - started, job


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="services on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    run = secrets.token_hex(4)
    databases: dict[str, str] = {}
    if args.postgres:
        if not postgres_reachable():
            print("no PostgreSQL answers", file=sys.stderr)
            return 1
        databases = {s: create_database(f"bench_import_{s}_{run}") for s in (*SERVICES, "gateway")}
    vhost = f"crm-bench-import-{run}"
    rabbit.create_vhost(vhost)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as data_dir:
            password = secrets.token_urlsafe(24)
            config = PlatformConfig.with_free_ports(
                data_dir=Path(data_dir),
                amqp_url=rabbit.amqp_url_for_vhost(vhost),
                jwt_secret=secrets.token_urlsafe(48),
                admin_email="bench-admin@example.com",
                admin_password=password,
                database_urls=databases,
            )
            supervisor = start_platform(config, ready_timeout=180)
            try:
                url = config.gateway_url
                token = requests.post(
                    f"{url}/api/v1/auth/token",
                    json={"email": config.admin_email, "password": password},
                    timeout=30,
                ).json()["access_token"]
                content = csv_file(args.rows, run)
                backend = "PostgreSQL" if args.postgres else "SQLite"
                worker = supervisor["contacts-worker"].process
                assert worker is not None
                for label in ("new contacts", "same file again (unchanged updates)"):
                    cpu_before = cpu_seconds(worker.pid)
                    seconds, job = timed_import(url, token, content)
                    cpu = cpu_seconds(worker.pid) - cpu_before
                    rate = args.rows / seconds
                    print(
                        f"{backend}, {args.rows} rows, {label}: {seconds:.2f} s, {rate:,.0f} rows/s; "
                        f"contacts worker CPU {cpu:.1f} s ({args.rows / cpu:,.0f} rows per CPU-second; "
                        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs) "
                        f"(created {job['created']}, updated {job['updated']}, skipped {job['skipped']}, "
                        f"failed {job['failed']}, state {job['state']})"
                    )
            finally:
                supervisor.stop()
    finally:
        rabbit.delete_vhost(vhost)
        for url in databases.values():
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
