"""Profile the platform under the customer-360 load (or `--route contact`: the transcoded
`GET /api/v1/contacts/{id}`): py-spy on the gateway's workers and the services.

Starts the platform exactly as bench/bench_360.py does (fresh data dir and vhost, the gateway's worker
and thread settings), seeds contacts, then runs the same closed-loop load on `/api/v1/customers/{id}/360`
while `py-spy record` samples, for the whole measured window:

- every gunicorn worker of the gateway (the master only forks and waits),
- the `serve` process of each service named with `--services` (default: all five).

Profiles are written as py-spy "raw" (collapsed stack) files into `--out` (one per process), plus a
short summary of the hottest functions by self time and by inclusive time, which is what
bench/PROFILE.md quotes. The load's figures and the CPU-ms per request by component (bench/cpu.py) are
printed too, so a profile can be read against what it cost.

`--gil` samples only the thread holding the GIL (where Python CPU goes: the default); `--idle` adds the
waiting threads. py-spy runs `--nonblocking`, so the processes are not paused and the figures stay
close to an unprofiled run (py-spy itself costs some CPU, which the CPU table shows as "load generator"
or "everything else").

    .venv/bin/python bench/profile_360.py --out /tmp/profile-360 [-d 15] [--idle]
"""

from __future__ import annotations

import argparse
import collections
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench_360 import BenchSettings, exit_cleanly_on_sigterm, load_spec, running_platform, seed_contacts
from cpu import CpuSampler
from crm_devrun.client import GatewayClient
from crm_devrun.platform import SERVICES
from load import run_load

PY_SPY = Path(sys.executable).with_name("py-spy")
REPOSITORY = f"{Path(__file__).resolve().parent.parent}/"


def gateway_workers(master_pid: int) -> list[int]:
    """The gunicorn workers: children of the gateway's master process."""
    done = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in done.stdout.split()]


def record(pid: int, out: Path, seconds: float, rate: int, idle: bool) -> subprocess.Popen[bytes]:
    argv = [
        str(PY_SPY),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        "--full-filenames",
        "--idle" if idle else "--gil",
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frame_name(frame: str) -> str:
    """`function (path:line)` as `function (package/module.py)`: the line would make one function's
    frames distinct, and the path is shortened to what follows site-packages or the repository."""
    function, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", REPOSITORY, "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{function} ({path})"


def summarise(raw: Path, top: int = 25) -> str:
    """Hottest functions of one collapsed-stack file: self and inclusive share of the samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        names = [_frame_name(f) for f in frames]
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    if not total:
        return f"{raw.name}: no samples\n"
    lines = [f"{raw.name}: {total} samples", "  self:"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("  inclusive:")
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for the profiles")
    parser.add_argument("-d", "--duration", type=float, default=15.0, help="profiled seconds")
    parser.add_argument("-w", "--warmup", type=float, default=3.0)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--idle", action="store_true", help="also sample threads not holding the GIL")
    parser.add_argument("--services", nargs="*", default=list(SERVICES), help="services to profile")
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument(
        "--route",
        choices=["360", "contact"],
        default="360",
        help="load /customers/{id}/360 (default) or the transcoded GET /contacts/{id}",
    )
    args = parser.parse_args(argv)
    if not PY_SPY.exists():
        raise SystemExit(f"py-spy not found at {PY_SPY}")
    args.out.mkdir(parents=True, exist_ok=True)
    settings = BenchSettings(
        concurrency=args.concurrency, duration_s=args.duration, warmup_s=args.warmup, contacts=args.contacts
    )
    workdir = Path(tempfile.mkdtemp(prefix="crm-profile-"))
    try:
        with CpuSampler() as sampler, running_platform(workdir / "platform", settings) as (config, sup):
            api = GatewayClient(config.gateway_url)
            token = api.login(config.admin_email, config.admin_password)
            ids = seed_contacts(config.gateway_url, token, args.contacts, secrets.token_hex(4))
            api.close()
            targets: dict[str, int] = {}
            gateway = sup.processes["gateway"].process
            assert gateway is not None
            for n, pid in enumerate(gateway_workers(gateway.pid)):
                targets[f"gateway-worker-{n}"] = pid
            for service in args.services:
                process = sup.processes[service].process
                assert process is not None
                targets[service] = process.pid
            spies: dict[str, subprocess.Popen[bytes]] = {}

            def start_spies() -> None:
                time.sleep(args.warmup + 0.5)  # after the warm-up, into the measured window
                for name, pid in targets.items():
                    spies[name] = record(
                        pid, args.out / f"{name}.txt", args.duration - 1, args.rate, args.idle
                    )

            starter = threading.Thread(target=start_spies)
            starter.start()
            print(f"loading {len(ids)} contacts' 360 views, profiling {', '.join(targets)}", flush=True)
            spec = load_spec(config.gateway_url, ids, token, settings)
            if args.route == "contact":
                spec = replace(spec, paths=[f"/api/v1/contacts/{cid}" for cid in ids], ok_marker="")
            result = run_load(spec, "auto")
            starter.join()
            for name, spy in spies.items():
                _, err = spy.communicate(timeout=60)
                if spy.returncode:
                    print(f"py-spy on {name} failed: {err.decode(errors='replace')[-300:]}", file=sys.stderr)
            roots = {name: p.process.pid for name, p in sup.processes.items() if p.process}
            usage = sampler.usage(*result.window, roots)
        print(result.summary())
        per_request = usage.per_request_ms(result.requests)
        print("CPU-ms per request: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_request.items())))
        summary = "".join(
            summarise(args.out / f"{name}.txt") for name in spies if (args.out / f"{name}.txt").exists()
        )
        (args.out / "summary.txt").write_text(summary)
        print(f"profiles and summary.txt in {args.out}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    exit_cleanly_on_sigterm()
    main()
