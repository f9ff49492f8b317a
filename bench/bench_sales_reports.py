"""Sales reports at 100k deals with 1M stage changes, against a single deal GET, through the gateway.

For each backend (SQLite, then PostgreSQL when it answers) the sales database is migrated and seeded in
bulk through the store's tables (bench/seed_contacts.write_rows: COPY on PostgreSQL, the driver's
executemany on SQLite): 3 pipelines of 6 stages, DEALS deals created over 2025-2026 by 40 owners in 8
teams (a tenth with one of 5 partner accounts), each moving forward and sometimes back through its
pipeline (CHANGES stage changes in all), 30% won, 30% lost, the rest open with an expected close date in
2026-2027; amounts 70% EUR, 30% USD. Rows written in bulk pass by the deals' writes, so the funnel's
monthly rollup is then backfilled from them (sales.reports.rollup.rebuild, what migration
0008_funnel_rollup runs on existing data; its time is printed). Then the whole platform starts on it
(as `make run`) and, in interleaved rounds (so other load on the machine falls on every target alike),
one client asks through the gateway: `GET /api/v1/deals/{id}` of a random seeded deal, the funnel of one
pipeline for a quarter and for a month, the forecast for a quarter, as the admin (every deal) and as a
sales rep with team read (one team's deals); and, as the admin, `POST /api/v1/deals/{id}:move` of a
random open seeded deal to another stage (a write that keeps the rollup in step: shown, not a target).
The figure is each report's p99 over the deal GET's p99 of the same caller; target (issue "Sales, lead to
cash"): at most 5x.

Run: `.venv/bin/python bench/bench_sales_reports.py [--deals 100000] [--changes 1000000] [--rounds 150]
[--backends sqlite,postgresql]`. Not in `make bench` (seeding and two platform starts take several
minutes); the figures are kept by hand in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import requests
from bench_platform import Backend, throwaway_backend
from seed_contacts import write_rows
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from stats import percentile

from crm_platform import migrations
from crm_platform.db import make_engine
from sales.deals.store import Deal, DealStageChange, Pipeline, PipelineStage
from sales.main import DEFINITION
from sales.reports import rollup

START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730
STAGES = 6
PIPELINES = 3
OWNERS, TEAMS, PARTNERS = 40, 8, 5
BATCH = 20_000
PASSWORD = "bench-reports-password-1"
QUARTER, MONTH = "2026-Q1", "2026-02"
MOVE = "deal move (POST)"


def _sales_url(backend: Backend) -> str:
    return backend.databases.get("sales") or f"sqlite:///{backend.data_dir / 'sales.db'}"


def _pipelines(session: Session) -> list[list[str]]:
    """PIPELINES pipelines of STAGES stages each: their stage ids in order."""
    now = datetime.now(UTC)
    out = []
    for p in range(PIPELINES):
        pipeline_id = str(uuid.uuid4())
        session.add(
            Pipeline(
                id=pipeline_id, name=f"Bench {p}", is_default=False, version=1, created_at=now, updated_at=now
            )
        )
        stage_ids = [str(uuid.uuid4()) for _ in range(STAGES)]
        for position, stage_id in enumerate(stage_ids):
            session.add(
                PipelineStage(
                    id=stage_id,
                    pipeline_id=pipeline_id,
                    name=f"Stage {position}",
                    probability=min(100, 10 + 15 * position),
                    position=position,
                )
            )
        out.append([pipeline_id, *stage_ids])
    session.flush()
    return out


def _journey(rng: random.Random, changes: int) -> list[int]:
    """Stage positions entered, in order: mostly forward, sometimes back one."""
    stage, out = 0, [0]
    while len(out) < changes:
        stage = max(0, stage - 1) if rng.random() < 0.25 or stage == STAGES - 1 else stage + 1
        out.append(stage)
    return out


Movable = dict[str, tuple[list[str], str]]  # open deal id -> (its pipeline's stage ids, its stage id)


def backfill(url: str, label: str) -> None:
    """Rebuilds the funnel's rollup from the stage history (rows written past the deals' writes)."""
    engine = make_engine(url)
    started = time.monotonic()
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL statement_timeout = 0"))
        rows = rollup.rebuild(session)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # a bulk load's statistics, not a request
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("ANALYZE funnel_months"))
    engine.dispose()
    print(f"  funnel rollup {label}: {rows:,} rows in {time.monotonic() - started:.1f} s", flush=True)


def seed(url: str, deals: int, changes: int, rng_seed: int = 7) -> tuple[list[str], Movable]:
    """Migrates the sales database and seeds it; answers the seeded deals' ids, and the open ones'
    stages."""
    engine = make_engine(url)
    migrations.upgrade(engine, DEFINITION.migrations_dir)
    rng = random.Random(rng_seed)
    per_deal = max(1, changes // deals)
    ids: list[str] = []
    movable: Movable = {}
    change_id = 0
    started = time.monotonic()
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":  # a bulk load, not a request: no statement timeout
            session.execute(text("SET LOCAL statement_timeout = 0"))
        pipelines = _pipelines(session)
        for first in range(0, deals, BATCH):
            deal_rows, change_rows = [], []
            for _ in range(min(BATCH, deals - first)):
                deal_id = str(uuid.uuid4())
                ids.append(deal_id)
                pipeline = rng.choice(pipelines)
                created = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
                length = per_deal + rng.randint(-2, 2) if per_deal > 2 else per_deal
                at, journey = created, _journey(rng, length)
                previous = None
                for position in journey:
                    change_id += 1
                    change_rows.append(
                        {
                            "id": change_id,
                            "deal_id": deal_id,
                            "pipeline_id": pipeline[0],
                            "from_stage_id": previous,
                            "to_stage_id": pipeline[1 + position],
                            "actor_id": "bench",
                            "changed_at": at,
                        }
                    )
                    previous = pipeline[1 + position]
                    at += timedelta(minutes=rng.randrange(1, 60 * 24 * 12))
                roll = rng.random()
                status = "won" if roll < 0.3 else "lost" if roll < 0.6 else "open"
                if status == "open":
                    movable[deal_id] = (pipeline[1:], previous)
                owner = rng.randrange(OWNERS)
                partner = rng.randrange(PARTNERS) if rng.random() < 0.1 else None
                deal_rows.append(
                    {
                        "id": deal_id,
                        "title": f"Bench deal {len(ids)}",
                        "pipeline_id": pipeline[0],
                        "stage_id": previous,
                        "stage_position": journey[-1],
                        "position": 0,
                        "status": status,
                        "amount_minor": rng.randrange(10_000, 10_000_000),
                        "currency": "EUR" if rng.random() < 0.7 else "USD",
                        "probability": {"won": 100, "lost": 0}.get(status, 10 + 15 * journey[-1]),
                        "expected_close_date": (
                            (date(2026, 1, 1) + timedelta(days=rng.randrange(540))).isoformat()
                            if status == "open"
                            else None
                        ),
                        "closed_at": at if status != "open" else None,
                        "stage_entered_at": at,
                        "version": 1,
                        "created_at": created,
                        "updated_at": at,
                        "owner_id": f"bench-owner-{owner}",
                        "team_id": f"bench-team-{owner % TEAMS}",
                        "partner_account_id": f"bench-partner-{partner}" if partner is not None else None,
                    }
                )
            write_rows(session, Deal.__table__, deal_rows)
            write_rows(session, DealStageChange.__table__, change_rows)
            print(f"  seeded {len(ids):,} deals, {change_id:,} stage changes", flush=True)
        if engine.dialect.name == "postgresql":  # a later stage change takes the next id
            session.execute(select(func.setval("deal_stage_changes_id_seq", change_id)))
    with engine.begin() as conn:  # fresh planner statistics, as a long-running database would have
        conn.execute(text("ANALYZE"))
    print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
    engine.dispose()
    backfill(url, "backfilled")
    return ids, movable


def _login(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    token = requests.post(
        f"{base}/api/v1/auth/token", json={"email": email, "password": password}, timeout=30
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _rep(base: str, admin: requests.Session, url: str) -> tuple[requests.Session, str]:
    """A sales rep of a new team that takes over the seeded team 0's deals (ids are the gateway's)."""
    run = secrets.token_hex(3)
    team = admin.post(f"{base}/api/v1/teams", json={"name": f"Bench reports {run}"}, timeout=30).json()["id"]
    email = f"bench-reports-{run}@example.com"
    user = {"email": email, "name": "Rep", "password": PASSWORD, "roles": ["sales_rep"], "team_ids": [team]}
    reply = admin.post(f"{base}/api/v1/users", json=user, timeout=30)
    reply.raise_for_status()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(Deal).where(Deal.team_id == "bench-team-0").values(team_id=team))
        visible = conn.execute(select(func.count()).where(Deal.team_id == team)).scalar()
    engine.dispose()
    print(f"  rep of a team with {visible:,} deals", flush=True)
    backfill(url, "rebuilt after the team's bulk reassignment")
    return _login(base, email, PASSWORD), team


def _timed(session: requests.Session, url: str, body: dict[str, str] | None = None) -> tuple[float, bool]:
    """(ms, answered 200): a call the gateway cuts at its deadline (504) counts with its time. With a
    `body`, a POST."""
    began = time.perf_counter()
    reply = session.post(url, json=body, timeout=60) if body is not None else session.get(url, timeout=60)
    elapsed = (time.perf_counter() - began) * 1000
    if reply.status_code not in (200, 504):
        raise RuntimeError(f"GET {url}: {reply.status_code} {reply.text[:300]}")
    return elapsed, reply.status_code == 200


def measure(backend: Backend, deals: int, changes: int, rounds: int) -> list[str]:
    url = _sales_url(backend)
    print(f"{backend.name}: seeding {deals:,} deals / {changes:,} stage changes", flush=True)
    ids, movable = seed(url, deals, changes)
    engine = make_engine(url)
    with engine.connect() as conn:
        pipeline_id = conn.execute(select(Pipeline.id).where(Pipeline.name == "Bench 0")).scalar_one()
    engine.dispose()
    lines: list[str] = []
    with backend.platform() as running:
        base = running.config.gateway_url
        admin = requests.Session()
        admin.headers["Authorization"] = f"Bearer {running.token}"
        rep, team = _rep(base, admin, url)
        engine = make_engine(url)
        with engine.connect() as conn:
            team_ids = list(conn.scalars(select(Deal.id).where(Deal.team_id == team).limit(5000)))
        engine.dispose()
        funnel = f"{base}/api/v1/sales/reports/funnel?pipeline_id={pipeline_id}"
        targets = {
            "deal GET": lambda ids_: f"{base}/api/v1/deals/{random.choice(ids_)}",
            f"funnel {QUARTER}": lambda _: f"{funnel}&period={QUARTER}",
            f"funnel {MONTH}": lambda _: f"{funnel}&period={MONTH}",
            f"forecast {QUARTER}": lambda _: f"{base}/api/v1/sales/reports/forecast?period={QUARTER}",
        }
        callers = {"admin": (admin, ids), "rep (team read)": (rep, team_ids)}
        open_ids = list(movable)

        def move() -> tuple[float, bool]:
            """A random open deal to another stage of its pipeline."""
            deal_id = random.choice(open_ids)
            stages, current = movable[deal_id]
            target = random.choice([s for s in stages if s != current])
            movable[deal_id] = (stages, target)
            return _timed(admin, f"{base}/api/v1/deals/{deal_id}:move", {"stage_id": target})

        samples: dict[tuple[str, str], list[float]] = {(c, t): [] for c in callers for t in targets}
        samples[("admin", MOVE)] = []
        failed: dict[tuple[str, str], int] = dict.fromkeys(samples, 0)
        for session, visible in callers.values():  # warm-up: connections, caches, plans
            for make in targets.values():
                for _ in range(3):
                    _timed(session, make(visible))
        for _ in range(3):
            move()
        load_before = os.getloadavg()[0]
        for _ in range(rounds):
            for caller, (session, visible) in callers.items():
                for target, make in targets.items():
                    elapsed, answered = _timed(session, make(visible))
                    samples[(caller, target)].append(elapsed)
                    failed[(caller, target)] += not answered
            elapsed, answered = move()
            samples[("admin", MOVE)].append(elapsed)
            failed[("admin", MOVE)] += not answered
        load_after = os.getloadavg()[0]
        lines.append(
            f"{backend.name}, {deals:,} deals / {changes:,} stage changes, {rounds} rounds, "
            f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs"
        )
        lines.append(
            f"{'caller':<16} {'request':<18} {'504s':>5} {'p50 ms':>8} {'p99 ms':>8} {'p99 / GET':>10}"
        )
        for caller in callers:
            get_p99 = percentile(samples[(caller, "deal GET")], 99)
            for target in [*targets, MOVE] if caller == "admin" else targets:
                values = samples[(caller, target)]
                p99 = percentile(values, 99)
                met = "met" if p99 <= 5 * get_p99 else "NOT met"
                verdict = "" if target in ("deal GET", MOVE) else f"{p99 / get_p99:>9.2f}x {met}"
                lines.append(
                    f"{caller:<16} {target:<18} {failed[(caller, target)]:>5} "
                    f"{percentile(values, 50):>8.1f} {p99:>8.1f} {verdict}".rstrip()
                )
    for line in lines:
        print(line, flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    run = secrets.token_hex(3)
    for kind in args.backends.split(","):
        with throwaway_backend(kind, "reports", run) as backend:
            if backend is not None:
                measure(backend, args.deals, args.changes, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
