"""Contacts at scale: p99 of a filtered list, of keyset paging deep into a list and of `q=` search at
10,000 and at 1,000,000 contacts, in the same run, on SQLite and on PostgreSQL.

For each database: a fresh one (a SQLite file; a throw-away PostgreSQL database), seeded to the small
size with bench/seed_contacts.py (realistic names, emails, phones, companies, countries, tags), measured,
then seeded on to the large size and measured again with the same requests. The contacts servicer's
ListContacts runs in-process, called directly (no gRPC server or network: the figure is the service's
own work: planning, the queries, building the messages), as an admin (scope `all`):

  (a) list with a filter: the first page (50) of `country = "<C>"` for each seeded country, and of
      `country = "DE" AND city = "Berlin"`, default order;
  (b) keyset paging deep into a list: pages 200 to 299 (limit 20, i.e. rows 4,000-6,000) of the whole
      list in default order, each through the cursor the page before it returned (walked once; the
      timed call is the page's own request);
  (c) `q=` search, first page (limit 20), over queries taken from contacts seeded in the small run (so
      they exist at both sizes): a whole last name, its first three letters, the last name with two
      letters swapped (a typo), "first last", the start of an email, and the phone as a national
      number with spaces ("020 7946 0000" style).

Each request runs REPEAT times, requests interleaved round by round; p99 and median per case. Target:
p99 at the large size <= 1.5x p99 at the small size, per case and database.

Run: `.venv/bin/python bench/bench_contacts_scale.py` (defaults: --small 10000 --large 1000000, both
databases; most of its time is seeding: ~3-4 min per million contacts on SQLite on an idle 2-core
machine, far longer under load). `--large 100000` for a quick look. To seed the large databases
beforehand (or keep them between runs): `bench/seed_contacts.py --url URL --count 1000000`, then
`--sqlite-large sqlite:///...` / `--postgresql-large postgresql://...` measure the larger sizes on them
(the small size still on a fresh database, in the same run). Not part of `make bench` (too long);
its figures are kept by hand in bench/RESULTS.md and bench/PROFILE.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from seed_contacts import COUNTRIES, seed
from sqlalchemy import func, select

from contacts import api, store
from contacts.main import DEFINITION
from contacts.search.terms import phone_terms
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, builtin_rights
from crm_platform.access.context import acting_as
from crm_platform.service import Runtime, open_runtime
from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable

TARGET = 1.5
REPEAT = 5
SEARCHED_CONTACTS = 40  # contacts whose name, email and phone make the search queries
ADMIN = CallerContext(subject="bench-admin", roles=("admin",), rights=builtin_rights("admin"))

Request = contacts_pb2.ListContactsRequest


@dataclass(frozen=True)
class Figure:
    backend: str
    case: str
    size: int
    p99_ms: float
    median_ms: float
    calls: int


def filter_requests() -> list[Request]:
    countries = [c[0] for c in COUNTRIES]
    filters = [f'country = "{c}"' for c in countries] + ['country = "DE" AND city = "Berlin"']
    return [Request(limit=50, filter=f) for f in filters]


def deep_page_requests(servicer: api.ContactsServicer) -> list[Request]:
    """Requests for pages 200-299 (limit 20) of the whole list, each with its cursor."""
    requests, cursor = [], ""
    with acting_as(ADMIN):
        for page in range(300):
            request = Request(limit=20, cursor=cursor)
            if page >= 200:
                requests.append(request)
            cursor = servicer.ListContacts(request, None).next_cursor
    return requests


def search_queries(runtime: Runtime, rng: random.Random) -> list[str]:
    table = store.Contact.__table__
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(table.c.first_name, table.c.last_name, table.c.email, table.c.phone)).all()
    queries = []
    for first, last, email, phone in rng.sample(rows, SEARCHED_CONTACTS):
        kind = len(queries) % 6
        if kind == 0:
            queries.append(last)
        elif kind == 1:
            queries.append(last[:3])
        elif kind == 2 and len(last) >= 5:
            i = rng.randrange(1, len(last) - 2)
            queries.append(last[:i] + last[i + 1] + last[i] + last[i + 2 :])
        elif kind == 3:
            queries.append(f"{first} {last}")
        elif kind == 4:
            queries.append(email[:8])
        else:
            queries.append(_national(phone))
    return queries


def _national(e164: str) -> str:
    """A number as people write it at home: trunk prefix, groups of digits ("020 7946 0000")."""
    national = max(
        (t for t in phone_terms(e164) if not e164.lstrip("+").startswith(t)), key=len, default=e164
    )
    return " ".join(national[i : i + 4] for i in range(0, len(national), 4))


def measure(
    backend: str, size: int, servicer: api.ContactsServicer, cases: dict[str, list[Request]]
) -> list[Figure]:
    calls: list[tuple[str, Request]] = [(case, r) for case, requests in cases.items() for r in requests]
    samples: dict[str, list[float]] = {case: [] for case in cases}
    with acting_as(ADMIN):
        for _case, request in calls[:20]:  # warm the caches a little, as a running service has them
            servicer.ListContacts(request, None)
        for _ in range(REPEAT):
            for case, request in calls:
                started = time.perf_counter()
                servicer.ListContacts(request, None)
                samples[case].append((time.perf_counter() - started) * 1000)
    return [
        Figure(backend, case, size, _p99(times), statistics.median(times), len(times))
        for case, times in samples.items()
    ]


def _p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run_backend(backend: str, url: str, sizes: list[int], large_url: str = "") -> list[Figure]:
    """Seed to each of `sizes` in turn and measure there (the same requests at every size). With
    `large_url`, the sizes after the first are measured on that database (seeded on to each size
    from what it holds), e.g. one seeded to a million beforehand with bench/seed_contacts.py."""
    runtimes: dict[str, Runtime] = {}
    figures: list[Figure] = []
    cases: dict[str, list[Request]] = {}
    try:
        for number, size in enumerate(sizes):
            target = large_url if large_url and number > 0 else url
            if target not in runtimes:
                runtimes[target] = open_runtime(DEFINITION, target)
            runtime = runtimes[target]
            with runtime.engine.connect() as conn:
                held = conn.scalar(select(func.count()).select_from(store.Contact.__table__)) or 0
            started = time.monotonic()
            if size > held:
                seed(runtime, size - held)
            print(
                f"{backend}: {size:,} contacts ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
            servicer = api.ContactsServicer(runtime)
            if not cases:
                queries = search_queries(runtime, random.Random(7))
                cases = {
                    "(a) list, filter": filter_requests(),
                    "(c) q= search": [Request(q=q, limit=20) for q in queries],
                }
            measured = measure(
                backend, size, servicer, {**cases, "(b) deep page": deep_page_requests(servicer)}
            )
            for figure in measured:
                print(
                    f"{backend} {size:,} {figure.case}: p99 {figure.p99_ms:.2f} ms, "
                    f"median {figure.median_ms:.2f} ms",
                    file=sys.stderr,
                    flush=True,
                )
            figures += measured
        return figures
    finally:
        for runtime in runtimes.values():
            runtime.engine.dispose()


def report(figures: list[Figure], small: int, large: int) -> str:
    lines = [
        f"p99 (median) in ms of ListContacts called in-process as an admin; {small:,} then {large:,}",
        "",
        f"{'database':<11}{'case':<19}{f'at {small:,}':>18}{f'at {large:,}':>18}{'p99 ratio':>11}"
        f"  target <= {TARGET}x",
    ]
    keyed = {(f.backend, f.case, f.size): f for f in figures}
    for backend, case in dict.fromkeys((f.backend, f.case) for f in figures):
        at_small, at_large = keyed.get((backend, case, small)), keyed.get((backend, case, large))
        if at_small is None or at_large is None:
            continue
        ratio = at_large.p99_ms / at_small.p99_ms
        verdict = "met" if ratio <= TARGET else "NOT met"
        lines.append(
            f"{backend:<11}{case:<19}{at_small.p99_ms:>9.2f} ({at_small.median_ms:5.2f})"
            f"{at_large.p99_ms:>10.2f} ({at_large.median_ms:5.2f}){ratio:>10.2f}x  {verdict}"
            f"  [{at_large.calls} calls]"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="contacts list and search at scale")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--also", default="", help="sizes measured between, e.g. 100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sqlite-large", default="", help="a SQLite URL measured at the larger sizes")
    parser.add_argument(
        "--postgresql-large", default="", help="a PostgreSQL URL measured at the larger sizes"
    )
    args = parser.parse_args()
    sizes = sorted({args.small, args.large, *(int(x) for x in args.also.split(",") if x)})
    figures: list[Figure] = []
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "var") as tmp:
            url = f"sqlite:///{Path(tmp) / 'contacts.db'}"
            figures += run_backend("sqlite", url, sizes, args.sqlite_large)
    if "postgresql" in backends:
        if postgres_reachable():
            url = create_database("bench_contacts_scale")
            try:
                figures += run_backend("postgresql", url, sizes, args.postgresql_large)
            finally:
                drop_database(url)
        else:
            print("PostgreSQL not reachable: skipped", file=sys.stderr)
    print(report(figures, args.small, args.large))
    return 0


if __name__ == "__main__":
    sys.exit(main())
