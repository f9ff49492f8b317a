"""The HTTP tier alone: the gateway's customer-360 against the bare Flask app, both in front of the same
five trivial gRPC servers (the baseline's, bench/trivial_grpc.py), in alternating rounds.

bench_360 compares the whole platform with the whole baseline; this takes the services out, so what is
left is the gateway's own cost (token check, tracing, the fan-out, JSON) against Flask + gunicorn + five
gRPC calls. Rounds alternate between the targets and the figures are medians over rounds, because on a
shared two-core machine one round of one target can be disturbed by work outside this benchmark; the
CPU-ms per request of each target's own process tree (from /proc) is the steadiest figure.

Gateway variants differ only by environment, e.g. a sampling ratio:

    .venv/bin/python bench/http_tier.py --rounds 5 --variant sampled10:OTEL_TRACES_SAMPLER_ARG=0.1

(bench/PROFILE.md used it, with code changes reverted in a variant, to measure each change.)
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import requests
from baseline import start_baseline
from bench_360 import COMPLETE_VIEW_MARKER, exit_cleanly_on_sigterm
from cpu import CpuSampler
from crm_devrun.platform import SERVICES
from crm_devrun.probes import http_ok
from crm_devrun.supervisor import ProcessSpec, Supervisor
from load import LoadSpec, run_load

from crm_platform.listen_ports import free_port


def trivial_addresses(supervisor: Supervisor) -> dict[str, str]:
    """The trivial servers' addresses, as the baseline handed them to the bare app."""
    argv = supervisor.processes["bare-app"].spec.argv
    return dict(arg.split("=", 1) for arg in argv if "=" in arg and arg.split("=", 1)[0] in SERVICES)


def gateway_spec(name: str, port: int, env: dict[str, str]) -> ProcessSpec:
    return ProcessSpec(
        name,
        [sys.executable, "-m", "gateway.main", "serve"],
        env=env,
        ready=lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-d", "--duration", type=float, default=6.0, help="measured seconds per round")
    parser.add_argument("-w", "--warmup", type=float, default=2.0)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--variant", action="append", default=[], help="NAME:VAR=VALUE[,VAR=VALUE]: another gateway"
    )
    args = parser.parse_args(argv)
    secret = secrets.token_urlsafe(48)
    # Each gateway bootstraps this admin in its own users database; a token is only good for a user
    # that exists and is active there (gateway.identity.authentication).
    admin_email, password = "bench-admin@example.com", secrets.token_urlsafe(24)
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(300)]  # trivial servers answer any id
    with (
        tempfile.TemporaryDirectory(prefix="bench-http-tier-") as tmp,
        start_baseline(Path(tmp, "baseline"), workers=args.workers, threads=args.threads) as baseline,
    ):
        addresses = trivial_addresses(baseline.supervisor)
        targets: dict[str, str] = {"bare-app": baseline.url}
        specs = []
        for variant in ["gateway", *args.variant]:
            name, _, assignments = variant.partition(":")
            port = free_port()
            env = {
                "CRM_DATA_DIR": str(Path(tmp, name)),
                "GATEWAY_PORT": str(port),
                "GATEWAY_JWT_SECRET": secret,
                "CRM_ADMIN_EMAIL": admin_email,
                "CRM_ADMIN_PASSWORD": password,
                "GATEWAY_WORKERS": str(args.workers),
                "GATEWAY_THREADS": str(args.threads),
                "PYTHONUNBUFFERED": "1",
                **{f"{s.upper()}_GRPC_ADDR": a for s, a in addresses.items()},
                **dict(a.split("=", 1) for a in assignments.split(",") if a),
            }
            specs.append(gateway_spec(name, port, env))
            targets[name] = f"http://127.0.0.1:{port}"
        gateways = Supervisor(specs, log_dir=Path(tmp, "logs"), restart=False).start()
        try:
            gateways.wait_ready(60)
            tokens = {"bare-app": "unchecked"}  # the bare app checks no token
            for name in (spec.name for spec in specs):
                tokens[name] = requests.post(
                    f"{targets[name]}/api/v1/auth/token",
                    json={"email": admin_email, "password": password},
                    timeout=30,
                ).json()["access_token"]
            roots = {
                **{n: p.process.pid for n, p in gateways.processes.items() if p.process},
                "bare-app": baseline.supervisor.processes["bare-app"].process.pid,  # type: ignore[union-attr]
            }
            figures: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
            with CpuSampler() as sampler:
                for round_ in range(args.rounds):
                    for name, url in targets.items():
                        result = run_load(
                            LoadSpec(
                                url,
                                [f"/api/v1/customers/{cid}/360" for cid in ids],
                                {"Authorization": f"Bearer {tokens[name]}"},
                                concurrency=args.concurrency,
                                duration_s=args.duration,
                                warmup_s=args.warmup,
                                ok_marker=COMPLETE_VIEW_MARKER,
                            )
                        )
                        usage = sampler.usage(*result.window, {name: roots[name]})
                        cpu = usage.per_request_ms(result.requests).get(name, float("nan"))
                        print(
                            f"round {round_ + 1} {name:>16}: {result.summary()}  {cpu:.2f} CPU-ms/req  "
                            f"load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
                        for key, value in (("rps", result.rps), ("p50", result.p50_ms)):
                            figures[name][key].append(value)
                        figures[name]["p99"].append(result.p99_ms)
                        figures[name]["cpu"].append(cpu)
        finally:
            gateways.stop()
    print(f"\nmedians over {args.rounds} rounds ({args.concurrency} clients, {args.duration:.0f} s each)")
    for name, values in figures.items():
        print(
            f"{name:>16}: {statistics.median(values['rps']):7.1f} req/s  p50 "
            f"{statistics.median(values['p50']):6.1f} ms  p99 {statistics.median(values['p99']):6.1f} ms  "
            f"{statistics.median(values['cpu']):.2f} CPU-ms/req"
        )


if __name__ == "__main__":
    exit_cleanly_on_sigterm()
    main()
