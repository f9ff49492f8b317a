"""What the REST gateway costs on top of the gRPC call it transcodes: `GET /api/v1/contacts/{id}` through
the real gateway against the same `GetContact` call made directly to the same contacts server.

1. Starts the whole platform as bench/bench_360.py does (fresh data dir and vhost, the gateway under
   gunicorn with its default 2 workers x 16 threads), logs in and creates CONTACTS contacts.
2. REST: wrk (or load.py's Python generator) GETs `/api/v1/contacts/{id}` over random ids of those
   contacts: bearer-token check, path to request message, the gRPC call (through the gateway's channel,
   with its tracing), reply to JSON, ETag.
3. gRPC: bench/grpc_load.py calls `ContactsService.GetContact` on the same server with the same ids and
   the caller metadata the gateway would send, from Python clients. Steps 2 and 3 run in turns
   (bench/rounds.py: `--rounds` windows each), so other work on the machine falls on both alike.
4. Both again with a single client, for the latency the gateway adds when nothing queues.

Fairness: both sides run the same number of closed-loop clients (32 by default), each with its own
connection (wrk: one keep-alive HTTP/1.1 connection per client; gRPC: one channel, hence one HTTP/2
connection, per client; `--channel-per process` shares one per generator process instead), for the same
time after the same warm-up, against the same contacts process and database. What differs is the client:
wrk is C, while a Python gRPC client costs CPU per call on the same two cores the servers use, which
handicaps the direct side. So besides requests/s and latency the figures include CPU-ms per request of
each component (from /proc): the gateway's CPU per request is the transcoding overhead itself,
independent of which generator drove it.

`python bench/bench_transcoding.py` prints the figures; bench/run_all.py puts them in RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt
from bench_360 import BenchSettings, exit_cleanly_on_sigterm, running_platform, seed_contacts
from cpu import GENERATOR, OTHERS, CpuSampler
from crm_devrun.client import GatewayClient
from grpc_load import GrpcLoadSpec, run_grpc_load
from load import LoadSpec, run_load
from rounds import Measured, Target, alternate
from stats import LoadResult

from crm_platform.testing.callers import caller_metadata as signed_caller_metadata

CONTACTS = 200
OK_MARKER = '"first_name":'  # in every contact's JSON


@dataclass(frozen=True)
class TranscodingSettings:
    concurrency: int = 32
    duration_s: float = 15.0
    warmup_s: float = 3.0
    gateway_workers: int = 2  # the gateway's defaults, as in bench_360
    gateway_threads: int = 16
    contacts: int = CONTACTS
    generator: str = "auto"  # for the REST side: wrk when installed, else load.py's Python generator
    channel_per: str = "client"  # for the gRPC side: see grpc_load.GrpcLoadSpec
    # Then one client alone on each side, for the latency the gateway adds when nothing queues.
    single_duration_s: float = 5.0
    rounds: int = 3  # windows per side, REST and gRPC in turns (bench/rounds.py)


@dataclass
class TranscodingResults:
    settings: TranscodingSettings
    started_at: datetime
    load_average_at_start: tuple[float, float, float]
    rest: Measured
    grpc: Measured
    rest_single: LoadResult | None = None  # one client: unqueued latency
    grpc_single: LoadResult | None = None
    elapsed_s: float = 0.0

    @property
    def ratio(self) -> float:
        """Direct gRPC requests/s over REST requests/s: how many times the gateway's throughput the
        contacts service serves when called directly."""
        return self.grpc.load.rps / self.rest.load.rps if self.rest.load.rps else float("inf")


def caller_metadata(token: str, data_dir: Path) -> tuple[tuple[str, str], ...]:
    """What the gateway sends for this token's user: a caller context signed with the platform's key
    (the admin's rights, as the benchmark signs in as the admin)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return signed_caller_metadata(claims["sub"], "admin", data_dir=data_dir)


def run(settings: TranscodingSettings) -> TranscodingResults:
    began = time.monotonic()
    started_at = datetime.now(UTC)
    load_average = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-transcoding-"))
    platform_settings = BenchSettings(
        gateway_workers=settings.gateway_workers, gateway_threads=settings.gateway_threads
    )
    try:
        with (
            CpuSampler() as sampler,
            running_platform(workdir / "platform", platform_settings) as (config, supervisor),
        ):
            api = GatewayClient(config.gateway_url)
            token = api.login(config.admin_email, config.admin_password)
            api.close()
            ids = seed_contacts(config.gateway_url, token, settings.contacts, secrets.token_hex(4))
            roots = {name: p.process.pid for name, p in supervisor.processes.items() if p.process}

            def rest_load(concurrency: int, duration_s: float, warmup_s: float) -> LoadResult:
                return run_load(
                    LoadSpec(
                        config.gateway_url,
                        [f"/api/v1/contacts/{cid}" for cid in ids],
                        {"Authorization": f"Bearer {token}"},
                        concurrency=concurrency,
                        duration_s=duration_s,
                        warmup_s=warmup_s,
                        ok_marker=OK_MARKER,
                    ),
                    settings.generator,
                )

            def grpc_load(concurrency: int, duration_s: float, warmup_s: float) -> LoadResult:
                return run_grpc_load(
                    GrpcLoadSpec(
                        config.grpc_addr("contacts"),
                        ids,
                        caller_metadata(token, config.data_dir),
                        concurrency=concurrency,
                        duration_s=duration_s,
                        warmup_s=warmup_s,
                        channel_per=settings.channel_per,
                    )
                )

            c = settings.concurrency
            print(
                f"REST GET /api/v1/contacts/{{id}} through the gateway and GetContact directly, {c} clients, "
                f"in turns ({settings.rounds} rounds)",
                flush=True,
            )
            measured = alternate(
                [
                    Target("rest", lambda d, w: rest_load(c, d, w), roots),
                    Target("grpc", lambda d, w: grpc_load(c, d, w), roots),
                ],
                rounds=settings.rounds,
                duration_s=settings.duration_s,
                warmup_s=settings.warmup_s,
                sampler=sampler,
            )
            rest_side, grpc_side = measured["rest"], measured["grpc"]
            rest_single = grpc_single = None
            if settings.single_duration_s > 0:
                print("both again with one client", flush=True)
                rest_single = rest_load(1, settings.single_duration_s, 1.0)
                grpc_single = grpc_load(1, settings.single_duration_s, 1.0)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return TranscodingResults(
        settings,
        started_at,
        load_average,
        rest_side,
        grpc_side,
        rest_single,
        grpc_single,
        elapsed_s=time.monotonic() - began,
    )


def cpu_rows(side: Measured) -> dict[str, float]:
    """CPU-ms per request: gateway, contacts, the load generator and everything else on the machine."""
    per_request = side.cpu.per_request_ms(side.load.requests)
    return {
        "gateway": per_request.get("gateway", 0.0),
        "contacts (gRPC serve)": per_request.get("contacts", 0.0),
        "load generator": per_request.get(GENERATOR, 0.0),
        "everything else": per_request.get(OTHERS, 0.0)
        + sum(v for k, v in per_request.items() if k not in ("gateway", "contacts", GENERATOR, OTHERS)),
    }


def print_results(results: TranscodingResults) -> None:
    s = results.settings
    print(f"\n{s.concurrency} clients, {s.duration_s:.0f} s after {s.warmup_s:.0f} s warm-up")
    for name, side in (("REST via gateway", results.rest), ("direct gRPC", results.grpc)):
        print(f"{name:>17}: {side.load.summary()}  [{side.load.generator}]")
        print(" " * 19 + ", ".join(f"{k} {v:.2f}" for k, v in cpu_rows(side).items()) + " CPU-ms/request")
    print(f"ratio direct gRPC / REST (req/s): {results.ratio:.2f}x")
    if results.rest_single and results.grpc_single:
        print("one client alone:")
        print(f"  REST via gateway: {results.rest_single.summary()}")
        print(f"       direct gRPC: {results.grpc_single.summary()}")


def parse_settings(argv: Sequence[str] | None = None) -> TranscodingSettings:
    defaults = TranscodingSettings()
    parser = argparse.ArgumentParser(description="REST transcoding overhead against direct gRPC")
    parser.add_argument("-c", "--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("-d", "--duration", type=float, default=defaults.duration_s, help="measured seconds")
    parser.add_argument("-w", "--warmup", type=float, default=defaults.warmup_s)
    parser.add_argument("-g", "--generator", choices=["auto", "wrk", "python"], default=defaults.generator)
    parser.add_argument("-r", "--rounds", type=int, default=defaults.rounds, help="windows per side")
    parser.add_argument(
        "--channel-per",
        choices=["process", "client"],
        default=defaults.channel_per,
        help="gRPC side: one channel per client (default) or per generator process",
    )
    args = parser.parse_args(argv)
    return TranscodingSettings(
        concurrency=args.concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
        generator=args.generator,
        channel_per=args.channel_per,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    exit_cleanly_on_sigterm()
    print_results(run(parse_settings()))
