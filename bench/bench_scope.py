"""What record-level scope costs: a scoped list against an unscoped one at 100k contacts, and the
caller-context verification each gRPC call pays.

1. A contacts database (SQLite file, then a throw-away PostgreSQL database) with 100,000 contacts spread
   over 50 owners, 10 teams and, for one in ten, 5 partner accounts. The contacts servicer's List runs
   in-process (no network, so the figure is the query and its mapping) as:
   - an admin (level `all`: no scope clause, the unscoped baseline),
   - a sales rep (`team`: `team_id IN (...) OR owner_id = me`; on SQLite a list runs it as one ordered,
     limited subquery per team and one for their own records, crm_platform.resources.repository),
   - a partner user (`partner_account_id = p AND ...`),
   first page and a later page (through the cursor), default order and a filter; median of many calls,
   the callers' calls interleaved so that load from elsewhere weighs on each alike.
2. Caller-context verification: an Ed25519 JWT verified from scratch, and the cached path every further
   call with the same context takes.

Run: `.venv/bin/python bench/bench_scope.py` (a minute or two). Target (issue 8): scoped <= 1.3x unscoped.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import insert

from contacts import api, store
from contacts.main import DEFINITION
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import acting_as
from crm_platform.service import open_runtime
from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable

ROWS = 100_000
OWNERS = 50
TEAMS = 10
PARTNERS = 5
CALLS = 300


@dataclass(frozen=True)
class ListFigure:
    backend: str
    case: str
    caller: str
    median_ms: float
    ratio: float  # against the admin's figure for the same backend and case


def _seed(runtime) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    with runtime.engine.begin() as conn:
        for n in range(ROWS):
            owner = n % OWNERS
            partner = f"partner-{(n // 10) % PARTNERS}" if n % 10 == 0 else None
            batch.append(
                {
                    "id": str(uuid.UUID(int=n + 1)),
                    "first_name": f"First{n}",
                    "last_name": f"Last{n % 997}",
                    "email": f"c{n}@example.com",
                    "phone": None,
                    "company": f"Company {n % 211}",
                    "version": 1,
                    "created_at": start + timedelta(seconds=n),
                    "updated_at": start + timedelta(seconds=n),
                    "archived_at": None,
                    "owner_id": f"user-{owner}",
                    "team_id": f"team-{owner % TEAMS}",
                    "partner_account_id": partner,
                    "uniqueness_book": store.book_of(partner),
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(store.Contact.__table__), batch)
                batch.clear()
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them in service.
    with runtime.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _callers() -> dict[str, CallerContext]:
    return {
        "admin (all)": CallerContext(subject="admin", roles=("admin",), rights=builtin_rights("admin")),
        "sales_rep (team)": CallerContext(
            subject="user-3",
            roles=("sales_rep",),
            team_ids=("team-3",),
            primary_team_id="team-3",
            rights=builtin_rights("sales_rep"),
        ),
        "partner": CallerContext(
            subject="partner-user",
            roles=("partner",),
            partner_account_id="partner-2",
            rights=builtin_rights("partner"),
        ),
    }


def _interleaved_medians_ms(
    calls: dict[tuple[str, str], Callable[[], object]], rounds: int = CALLS
) -> dict[tuple[str, str], float]:
    """The median ms of each call, run in turn round after round (a call of each per round), so that
    load from elsewhere on the machine while it runs weighs on every caller alike and not on whichever
    happened to be measured at the time."""
    for _ in range(20):
        for fn in calls.values():
            fn()
    samples: dict[tuple[str, str], list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) * 1000 for name, times in samples.items()}


def _as(caller: CallerContext, call: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with acting_as(caller):
            return call()

    return run


def measure_lists(backend: str, url: str) -> list[ListFigure]:
    runtime = open_runtime(DEFINITION, url)
    try:
        _seed(runtime)
        servicer = api.ContactsServicer(runtime)
        figures: list[ListFigure] = []
        cases: dict[str, Callable[[], contacts_pb2.ListContactsRequest]] = {
            "first page": lambda: contacts_pb2.ListContactsRequest(limit=50),
            "filter company": lambda: contacts_pb2.ListContactsRequest(
                limit=50, filter='company = "Company 7"'
            ),
        }
        for case, make in cases.items():
            calls: dict[tuple[str, str], Callable[[], object]] = {}
            for label, caller in _callers().items():
                calls[case, label] = _as(caller, lambda make=make: servicer.ListContacts(make(), None))
                if case == "first page":  # and a later page, through the caller's own cursor
                    with acting_as(caller):
                        first = servicer.ListContacts(make(), None)
                    later = contacts_pb2.ListContactsRequest(limit=50, cursor=first.next_cursor)
                    calls["second page", label] = _as(
                        caller, lambda later=later: servicer.ListContacts(later, None)
                    )
            medians = _interleaved_medians_ms(calls)
            for kind in dict.fromkeys(kind for kind, _ in calls):
                baseline = next(
                    ms for (k, label), ms in medians.items() if k == kind and label.startswith("admin")
                )
                figures += [
                    ListFigure(backend, kind, label, ms, ms / baseline)
                    for (k, label), ms in medians.items()
                    if k == kind
                ]
        return figures
    finally:
        runtime.engine.dispose()


def measure_verification() -> tuple[float, float]:
    """(µs per verification from scratch, µs per cached verification)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signer = CallerContextSigner(private, "k")
    caller = _callers()["sales_rep (team)"]
    tokens = [signer.sign(CallerContext(**{**caller.__dict__, "subject": f"user-{n}"})) for n in range(2000)]
    verifier = CallerContextVerifier({"k": public})
    started = time.perf_counter()
    for token in tokens:
        verifier.verify(token)
    fresh = (time.perf_counter() - started) / len(tokens) * 1e6
    started = time.perf_counter()
    for _ in range(10):
        for token in tokens:
            verifier.verify(token)
    cached = (time.perf_counter() - started) / (10 * len(tokens)) * 1e6
    return fresh, cached


def main() -> int:
    figures: list[ListFigure] = []
    with tempfile.TemporaryDirectory() as tmp:
        figures += measure_lists("sqlite", f"sqlite:///{Path(tmp) / 'contacts.db'}")
    if postgres_reachable():
        url = create_database("bench_scope")
        try:
            figures += measure_lists("postgresql", url)
        finally:
            drop_database(url)
    fresh, cached = measure_verification()
    print(f"Scoped list at {ROWS:,} contacts (median of {CALLS} in-process List calls, limit 50)")
    print(f"{'backend':<11} {'case':<15} {'caller':<18} {'ms':>7} {'vs admin':>9}")
    for f in figures:
        print(f"{f.backend:<11} {f.case:<15} {f.caller:<18} {f.median_ms:7.2f} {f.ratio:8.2f}x")
    worst = max(f.ratio for f in figures)
    print(f"worst scoped/unscoped ratio: {worst:.2f}x (target <= 1.3x)")
    print(f"caller-context verification: {fresh:.1f} µs from scratch, {cached:.2f} µs cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
