"""One run of the customer-360 benchmark: the real platform, then the baseline, same load; and the
commit-to-consumed latency of `contact_created`.

1. Starts the whole platform (fresh data dir, fresh RabbitMQ vhost), logs in, creates contacts: a burst
   of seed contacts, then the latency probe (bench/latency.py) at a moderate rate on the idle platform.
2. Starts the baseline (bench/baseline.py) beside it.
3. Loads `GET /api/v1/customers/{id}/360` over random ids of those contacts (bench/load.py) on the
   platform and on the baseline in turns (bench/rounds.py: `--rounds` windows each, alternating), with the
   same headers and ids, CPU accounted by component (bench/cpu.py). Stops both.

Everything started is stopped, and the vhost deleted, on the way out whatever happens; the data dir (logs,
databases) is deleted too unless something failed or a load saw errors, in which case it is kept and
named in the results so the errors can be investigated.

`python bench/bench_360.py` prints the figures; `bench/run_all.py` also writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from baseline import start_baseline
from cpu import CpuSampler, CpuUsage
from crm_devrun.client import GatewayClient
from crm_devrun.platform import PlatformConfig, start_platform
from crm_devrun.probes import wait_until
from crm_devrun.supervisor import Supervisor
from latency import EventLatency, measure_event_latency
from load import LoadSpec, run_load, wrk_available
from rounds import Target, alternate
from stats import LoadResult

from crm.notifications.v1 import notifications_pb2
from crm_platform.testing import rabbit

# A 360 view that the gateway had to assemble without some section still answers 200; it is a failure.
COMPLETE_VIEW_MARKER = '"unavailable":[]'
SEED_CLIENTS = 4


@dataclass(frozen=True)
class BenchSettings:
    concurrency: int = 32
    duration_s: float = 15.0
    warmup_s: float = 3.0
    gateway_workers: int = 2  # the gateway's defaults (gateway/gateway/settings.py)
    gateway_threads: int = 16
    contacts: int = 300  # ids the load chooses from: the seed contacts plus the latency probe's
    probe_contacts: int = 200
    probe_rate_per_s: float = 20.0
    generator: str = "auto"  # "wrk" when installed, else the Python generator
    # The measured time is split into this many windows per target, platform and baseline in turns
    # (bench/rounds.py), so that other work on the machine falls on both alike.
    rounds: int = 3


@dataclass
class Side:
    """One target under load: its figures, where its CPU went, and anything that went wrong."""

    load: LoadResult
    cpu: CpuUsage
    restarts: dict[str, int] = field(default_factory=dict)  # processes that crashed and were restarted
    log_problems: dict[str, str] = field(default_factory=dict)  # log file -> count and first ERROR
    rounds: list[LoadResult] = field(default_factory=list)  # each measured window, in order


@dataclass
class BenchResults:
    settings: BenchSettings
    started_at: datetime
    load_average_at_start: tuple[float, float, float]
    platform: Side
    baseline: Side
    events: EventLatency
    elapsed_s: float = 0.0
    kept_dir: str = ""  # data dir kept for investigation, when something went wrong

    @property
    def ratio(self) -> float:
        """Platform cost relative to the baseline: baseline req/s over platform req/s (x times slower)."""
        return self.baseline.load.rps / self.platform.load.rps if self.platform.load.rps else float("inf")


@contextmanager
def running_platform(data_dir: Path, settings: BenchSettings) -> Iterator[tuple[PlatformConfig, Supervisor]]:
    vhost = f"crm-bench-{secrets.token_hex(4)}"
    rabbit.create_vhost(vhost)
    try:
        config = PlatformConfig.with_free_ports(
            data_dir=data_dir,
            amqp_url=rabbit.amqp_url_for_vhost(vhost),
            jwt_secret=secrets.token_urlsafe(48),
            admin_email="bench-admin@example.com",
            admin_password=secrets.token_urlsafe(24),
            extra_env={
                "GATEWAY_WORKERS": str(settings.gateway_workers),
                "GATEWAY_THREADS": str(settings.gateway_threads),
            },
        )
        supervisor = start_platform(config, ready_timeout=120)
        try:
            yield config, supervisor
        finally:
            supervisor.stop()
    finally:
        rabbit.delete_vhost(vhost)


def seed_contacts(base_url: str, token: str, count: int, prefix: str) -> list[str]:
    """`count` contacts created as fast as SEED_CLIENTS clients can; returns their ids."""
    from concurrent.futures import ThreadPoolExecutor

    def create(worker: int) -> list[str]:
        api = GatewayClient(base_url, token)
        try:
            return [
                api.create_contact(
                    first_name="Seed",
                    last_name=f"{worker}-{i}",
                    email=f"{prefix}-{worker}-{i}@bench.example.com",
                )["id"]
                for i in range(worker, count, SEED_CLIENTS)
            ]
        finally:
            api.close()

    with ThreadPoolExecutor(SEED_CLIENTS) as pool:
        return [cid for ids in pool.map(create, range(SEED_CLIENTS)) for cid in ids]


def wait_for_welcome(notifications_addr: str, contact_id: str, data_dir: Path) -> None:
    """Until `contact_id`'s welcome notification exists: the seed burst is consumed before the probe."""
    import grpc

    from crm.notifications.v1 import notifications_pb2_grpc
    from crm_platform.testing.callers import caller_metadata, with_default_caller

    with grpc.insecure_channel(notifications_addr) as channel:
        stub = notifications_pb2_grpc.NotificationsServiceStub(
            with_default_caller(channel, caller_metadata(data_dir=data_dir))
        )
        wait_until(
            lambda: (
                stub.ListNotifications(
                    notifications_pb2.ListNotificationsRequest(contact_id=contact_id), timeout=5
                ).items
            ),
            timeout=60,
            what="the seed contacts' welcome notifications",
        )


def record_answers(config: PlatformConfig, contact_id: str, out_dir: Path) -> Path:
    """The platform's answer to each of the 360 view's five calls for `contact_id` (the gateway's own
    requests, as an admin), saved as `<service>.bin` for the baseline's trivial servers to answer with:
    both sides then move and render the same bytes."""
    import grpc

    from crm_platform.testing.callers import caller_metadata
    from gateway.customer360 import METHODS, section_requests

    out_dir.mkdir(parents=True, exist_ok=True)
    metadata = caller_metadata(data_dir=config.data_dir)
    for service, request in section_requests(contact_id).items():
        path, response_class = METHODS[service]
        with grpc.insecure_channel(config.grpc_addr(service)) as channel:
            call = channel.unary_unary(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response_class.FromString,
            )
            answer = call(request, timeout=10, metadata=metadata)
        (out_dir / f"{service}.bin").write_bytes(answer.SerializeToString())
    return out_dir


def load_spec(base_url: str, ids: Sequence[str], token: str, settings: BenchSettings) -> LoadSpec:
    return LoadSpec(
        base_url,
        [f"/api/v1/customers/{cid}/360" for cid in ids],
        {"Authorization": f"Bearer {token}"},
        concurrency=settings.concurrency,
        duration_s=settings.duration_s,
        warmup_s=settings.warmup_s,
        ok_marker=COMPLETE_VIEW_MARKER,
    )


def log_problems(log_dir: Path) -> dict[str, str]:
    """Per log file with ERROR or WARNING lines: how many, and the first one's message (JSON logs)."""
    found: dict[str, str] = {}
    for path in sorted(log_dir.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        for level in ("ERROR", "WARNING"):
            hits = [line for line in lines if f'"level": "{level}"' in line]
            if hits:
                try:
                    first = json.loads(hits[0]).get("message", "")
                except ValueError:
                    first = hits[0][:200]
                found[f"{path.name} {level}"] = f"{len(hits)} lines, first: {first}"
    return found


def measure(settings: BenchSettings, sampler: CpuSampler, workdir: Path) -> BenchResults:
    started_at = datetime.now(UTC)
    load_average = os.getloadavg()
    prefix = secrets.token_hex(4)  # emails are unique per run even if a data dir were reused
    with running_platform(workdir / "platform", settings) as (config, supervisor):
        api = GatewayClient(config.gateway_url)
        token = api.login(config.admin_email, config.admin_password)
        seeds = seed_contacts(config.gateway_url, token, settings.contacts - settings.probe_contacts, prefix)
        if seeds:
            wait_for_welcome(config.grpc_addr("notifications"), seeds[-1], config.data_dir)
        print(f"seeded {len(seeds)} contacts; measuring contact_created latency", flush=True)
        events = measure_event_latency(
            api,
            config.grpc_addr("notifications"),
            data_dir=config.data_dir,
            count=settings.probe_contacts,
            rate_per_s=settings.probe_rate_per_s,
            prefix=f"{prefix}-probe",
        )
        api.close()
        ids = seeds + events.contact_ids
        answers_dir = record_answers(config, ids[-1], workdir / "answers")
        baseline_logs = workdir / "baseline-logs"
        with start_baseline(
            baseline_logs,
            workers=settings.gateway_workers,
            threads=settings.gateway_threads,
            answers_dir=answers_dir,
        ) as running:
            print(
                f"loading the platform's and the baseline's 360 view in turns ({len(ids)} contacts, "
                f"{settings.rounds} rounds)",
                flush=True,
            )

            def loader(url: str) -> Callable[[float, float], LoadResult]:
                def load(duration_s: float, warmup_s: float) -> LoadResult:
                    spec = replace(
                        load_spec(url, ids, token, settings), duration_s=duration_s, warmup_s=warmup_s
                    )
                    return run_load(spec, settings.generator)

                return load

            measured = alternate(
                [
                    Target("platform", loader(config.gateway_url), pids(supervisor)),
                    Target("baseline", loader(running.url), pids(running.supervisor)),
                ],
                rounds=settings.rounds,
                duration_s=settings.duration_s,
                warmup_s=settings.warmup_s,
                sampler=sampler,
            )
            baseline = Side(
                measured["baseline"].load, measured["baseline"].cpu, rounds=measured["baseline"].rounds
            )
        platform = Side(
            measured["platform"].load,
            measured["platform"].cpu,
            {name: p.restarts for name, p in supervisor.processes.items() if p.restarts},
            log_problems(config.data_dir / "logs"),
            rounds=measured["platform"].rounds,
        )
    baseline.log_problems = log_problems(baseline_logs)
    return BenchResults(settings, started_at, load_average, platform, baseline, events)


def pids(supervisor: Supervisor) -> dict[str, int]:
    return {name: p.process.pid for name, p in supervisor.processes.items() if p.process}


def run(settings: BenchSettings) -> BenchResults:
    """The whole benchmark; cleans up after itself (see the module's docstring)."""
    if settings.generator == "wrk" and not wrk_available():
        raise SystemExit("wrk is not installed (apt-get install wrk), use --generator python or auto")
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    keep = True
    try:
        with CpuSampler() as sampler:
            results = measure(settings, sampler, workdir)
        results.elapsed_s = time.monotonic() - began
        troubled = results.platform.load.errors or results.baseline.load.errors or results.events.missing
        keep = bool(troubled or results.platform.restarts)
        if keep:
            results.kept_dir = str(workdir)
        return results
    finally:
        if keep:
            print(f"data and logs kept for investigation in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def print_results(results: BenchResults) -> None:
    s = results.settings
    print(f"\n{s.concurrency} clients, {s.duration_s:.0f} s after {s.warmup_s:.0f} s warm-up")
    print(f"platform  {results.platform.load.generator:>12}: {results.platform.load.summary()}")
    print(f"baseline  {results.baseline.load.generator:>12}: {results.baseline.load.summary()}")
    print(f"ratio baseline/platform (req/s): {results.ratio:.2f}x")
    f, ev = results.events.figures(), results.events
    print(
        f"contact_created commit-to-consumed: p50 {f['service_p50_ms']:.1f} ms, "
        f"p99 {f['service_p99_ms']:.1f} ms (client-observed p50 {f['visible_p50_ms']:.1f} ms, "
        f"p99 {f['visible_p99_ms']:.1f} ms; {len(ev.service_ms)}/{ev.created} seen, {ev.missing} missing)"
    )
    for name, side in (("platform", results.platform), ("baseline", results.baseline)):
        restarts = {k: f"restarted {v}x" for k, v in side.restarts.items()}
        for kind, text in {**side.log_problems, **restarts}.items():
            print(f"  {name} {kind}: {text}")


def parse_settings(argv: Sequence[str] | None = None) -> BenchSettings:
    defaults = BenchSettings()
    parser = argparse.ArgumentParser(description="customer-360 and event-latency benchmark")
    parser.add_argument("-c", "--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("-d", "--duration", type=float, default=defaults.duration_s, help="measured seconds")
    parser.add_argument("-w", "--warmup", type=float, default=defaults.warmup_s)
    parser.add_argument("-g", "--generator", choices=["auto", "wrk", "python"], default=defaults.generator)
    parser.add_argument("--workers", type=int, default=defaults.gateway_workers, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=defaults.gateway_threads, help="threads per worker")
    parser.add_argument(
        "-r", "--rounds", type=int, default=defaults.rounds, help="windows per target, taken in turns"
    )
    args = parser.parse_args(argv)
    return BenchSettings(
        concurrency=args.concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
        generator=args.generator,
        gateway_workers=args.workers,
        gateway_threads=args.threads,
        rounds=args.rounds,
    )


def exit_cleanly_on_sigterm() -> None:
    # SIGTERM (a CI timeout, `kill`) becomes SystemExit, so every `finally` above stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


if __name__ == "__main__":
    exit_cleanly_on_sigterm()
    print_results(run(parse_settings()))
