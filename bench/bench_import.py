"""Import throughput end to end: a CSV of contacts uploaded to the real gateway (`POST /api/v1/imports`),
applied by the contacts worker, and every event it recorded published to RabbitMQ by the relay. Timed
from the upload to the last of its events confirmed by the broker (the outbox has no pending row left):
rows per second of that is THE figure ("file in, rows committed, events out"); the time until the job
said `done` (rows committed) is printed beside it.

The whole platform runs as for `make run` (every service's serve and worker, the gateway under gunicorn),
once on SQLite and then, in the same run, on throw-away PostgreSQL databases (skipped, with the reason,
when no PostgreSQL answers). The file has ROWS new contacts (a few bad rows among them, so errors are
recorded too) and is imported once; a second import of the same file (every row an unchanged update:
`skipped`, so no events) is timed as well.

Run: `.venv/bin/python bench/bench_import.py [--rows 10000] [--backends sqlite,postgresql]
[--resources contacts,companies]` (companies: a file of new companies with a domain and an external id,
created in a batch per chunk as contacts are). Target
(issue "Contacts complete"): >= 5,000 rows/s end to end. Prints the figures, with the CPU time the
contacts worker spent (it runs the import, the outbox relay and the timeline consumer: a figure less at
the mercy of whatever else the machine runs); `make bench` puts them in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers
import pika
import requests
from bench_platform import throwaway_backend
from cpu import CpuSampler
from seed_contacts import Generator
from sqlalchemy import Engine, MetaData, func, select

from crm_platform.db import make_engine
from crm_platform.events import messaging_tables


def csv_file(rows: int, run: str, resource: str = "contacts") -> bytes:
    """The file a bench imports: `rows` rows, one in a thousand bad (an email or domain that is none).

    Contacts are seed_contacts.py's realistic people (names drawn as real populations have them, a
    long tail of rare surnames, phones of a dozen countries in their international form, companies,
    country, city, tags), numbered from an offset of `run` so every run's emails are new: a real file
    repeats first names and common surnames, so a new contact brings few words the search index has
    not seen. (Until 2026-11-26 the file was "First<i>,Last<i>": every word new, each with its typo keys,
    and no country, city or tags.)"""
    if resource == "companies":
        lines = ["Name,Domain,City,Country,External ID"]
        for i in range(rows):
            domain = f"c{i}-{run}.example.com" if i % 1000 != 999 else f"not a domain {i}"
            lines.append(f"Company {i},{domain},City {i % 97},GB,erp-{run}-{i}")
        return ("\n".join(lines) + "\n").encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["First name", "Last name", "Email", "Phone", "Company", "Country", "City", "Tags"])
    first = int(run, 16) % 10_000 * 100_000  # this run's contacts' numbers, so their emails are new
    people = Generator(seed=7).batch(first, rows)
    for i, person in enumerate(people):
        email = person["email"] if i % 1000 != 999 else f"not-an-email-{i}"
        writer.writerow(
            [
                person["first_name"],
                person["last_name"],
                email,
                valid_phone(person["phones"][0]["formatted"], person["country"], i),
                person["company"] or "",
                person["country"],
                person["city"],
                ";".join(person["tags"] or ()),
            ]
        )
    return out.getvalue().encode()


def valid_phone(number: str, country: str, index: int) -> str:
    """`number` when it is a valid one; else a valid mobile number of `country` (the seed's patterns
    fill random digits, which some countries' plans refuse: a real file's numbers mostly are valid)."""
    if phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
        return number
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    candidate = phonenumbers.parse(f"+{example.country_code}{digits[:-5]}{index % 100_000:05d}", None)
    chosen = candidate if phonenumbers.is_valid_number(candidate) else example
    return phonenumbers.format_number(chosen, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


OUTBOX = messaging_tables(MetaData()).outbox
# How often the bench asks how the job is doing (the figures come from the platform's timestamps).
PROGRESS_POLL_SECONDS = 0.25


def pending_events(engine: Engine) -> int:
    """Outbox rows neither published (confirmed by the broker) nor parked."""
    outbox = OUTBOX
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None))
        ).scalar_one()


def last_published(engine: Engine) -> datetime | None:
    """When the relay last had an event confirmed by the broker (UTC)."""
    with engine.connect() as connection:
        at = connection.execute(select(func.max(OUTBOX.c.published_at))).scalar_one()
    if isinstance(at, str):  # SQLite hands a DateTime column of a core table back as text
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def drained(amqp_url: str, queue: str = "contacts.contacts") -> None:
    """Wait until the contacts worker's queue of contacts' own events holds no message ready, and a
    moment for those in flight: the worker's CPU is read after its consumer has done its share of the
    import's events, not before (a consumer lagging behind the import would otherwise look cheap)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        while channel.queue_declare(queue, passive=True).method.message_count:
            time.sleep(0.05)
    finally:
        connection.close()
    time.sleep(0.5)


def timed_import(
    url: str, token: str, content: bytes, contacts_db: Engine, resource: str = "contacts"
) -> tuple[float, float, dict]:
    """(seconds until the job is done, seconds until its events are out too, the job).

    Both ends are the platform's own clock, read after the fact: the job's `finished_at` and the
    outbox's last `published_at` (the same machine's clock as the upload's start). So the bench asks
    how the job is doing only a few times a second, as a client's progress bar does: asking every
    20 ms made the gateway and the contacts service spend a quarter of a CPU answering it, taken from
    the import it measured."""
    headers = {"Authorization": f"Bearer {token}"}
    started = datetime.now(UTC)
    reply = requests.post(
        f"{url}/api/v1/imports",
        files={"file": ("bench.csv", content)},
        data={"resource": resource},
        headers=headers,
        timeout=120,
    )
    reply.raise_for_status()
    job = reply.json()
    while job["state"] in ("queued", "running"):
        time.sleep(PROGRESS_POLL_SECONDS)
        job = requests.get(f"{url}/api/v1/imports/{job['id']}", headers=headers, timeout=30).json()
    finished = datetime.fromisoformat(job["finished_at"].replace("Z", "+00:00"))
    while pending_events(contacts_db):
        time.sleep(PROGRESS_POLL_SECONDS)
    published = last_published(contacts_db)
    out = max(finished, published) if published is not None and published > started else finished
    return (finished - started).total_seconds(), (out - started).total_seconds(), job


def run_backend(kind: str, rows: int, run: str, resources: list[str]) -> list[str]:
    """Start the platform on `kind`, import each resource's file twice, stop it; the figures' lines."""
    lines: list[str] = []
    with throwaway_backend(kind, "import", run) as backend:
        if backend is None:
            return lines
        with backend.platform() as running:
            contacts_db = make_engine(backend.contacts_url)
            try:
                worker = running.supervisor["contacts-worker"].process
                assert worker is not None
                labels = [
                    (resource, label)
                    for resource in resources
                    for label in (f"new {resource}", "same file again (unchanged updates)")
                ]
                for resource, label in labels:
                    content = csv_file(rows, run, resource)
                    cpu_before = cpu_seconds(worker.pid)
                    roots = {
                        name: p.process.pid
                        for name, p in running.supervisor.processes.items()
                        if p.process is not None
                    }
                    with CpuSampler() as sampler:
                        began = time.time()
                        committed, seconds, job = timed_import(
                            running.config.gateway_url, running.token, content, contacts_db, resource
                        )
                        drained(running.config.amqp_url)
                        ended = time.time()
                    cpu = cpu_seconds(worker.pid) - cpu_before
                    spent = sampler.usage(began, ended, roots).cpu_seconds
                    lines.append(
                        "CPU seconds by process, upload to drained: "
                        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]))
                    )
                    print(lines[-1], flush=True)
                    line = (
                        f"{backend.name}, {rows} rows of {resource}, {label}: end to end {seconds:.2f} s, "
                        f"**{rows / seconds:,.0f} rows/s** (rows committed after {committed:.2f} s, "
                        f"{rows / committed:,.0f} rows/s); contacts worker CPU {cpu:.1f} s, its own "
                        f"consumer's share included "
                        f"({rows / cpu:,.0f} rows per CPU-second, {cpu / rows * 1e3:.3f} ms per row; "
                        f"load average {os.getloadavg()[0]:.1f} on "
                        f"{os.cpu_count()} CPUs) (created {job['created']}, updated {job['updated']}, "
                        f"skipped {job['skipped']}, failed {job['failed']}, state {job['state']})"
                    )
                    print(line, flush=True)
                    lines.append(line)
            finally:
                contacts_db.dispose()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--resources", default="contacts", help="comma-separated: contacts, companies")
    args = parser.parse_args()
    run = secrets.token_hex(4)
    resources = [name.strip() for name in args.resources.split(",")]
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.rows, run, resources)
    print("target: >= 5,000 rows/s end to end (upload to the last event confirmed by RabbitMQ)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
