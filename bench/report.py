"""bench/RESULTS.md from one BenchResults: machine, settings, figures, CPU by component, interpretation.

Everything in the file is generated from the run it describes; hand-written profiling notes live in
bench/PROFILE.md (dated) so that a new run never leaves stale prose under fresh numbers.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench_360 import BenchResults, Side
from cpu import GENERATOR, OTHERS, RUNNER
from crm_devrun.platform import SERVICES

# Rows of the CPU table: (label, component name on the platform, on the baseline).
CPU_ROWS = [
    ("HTTP tier: gateway / bare Flask app", "gateway", "bare-app"),
    *[(f"{s} (gRPC serve)", s, f"trivial-{s}") for s in SERVICES],
    ("service workers (relays, consumers; idle here)", "workers", None),
    ("RabbitMQ", "rabbitmq", "rabbitmq"),
    ("load generator", GENERATOR, GENERATOR),
    ("bench runner (log pumps)", RUNNER, RUNNER),
    ("everything else (other processes, kernel)", OTHERS, OTHERS),
]


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def machine_facts() -> dict[str, str]:
    try:
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if "MemTotal" in line
        )
        memory = f"{mem_kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    try:
        rabbit = subprocess.run(
            ["rabbitmqctl", "version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rabbit = ""
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "memory": memory,
        "CPU model": _cpu_model(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "RabbitMQ": rabbit or "unknown",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_by_row(side: Side) -> dict[str, float]:
    """CPU-ms per request by component; the five workers summed into one row."""
    per_request = side.cpu.per_request_ms(side.load.requests)
    rows: dict[str, float] = {}
    for name, value in per_request.items():
        key = "workers" if name.endswith("-worker") else name
        rows[key] = rows.get(key, 0.0) + value
    return rows


def _cpu_table(results: BenchResults) -> list[str]:
    platform_rows, baseline_rows = _cpu_by_row(results.platform), _cpu_by_row(results.baseline)
    lines = [
        "| component | platform CPU-ms / request | baseline CPU-ms / request |",
        "| --- | ---: | ---: |",
    ]
    for label, on_platform, on_baseline in CPU_ROWS:
        p = platform_rows.get(on_platform, 0.0)
        b = baseline_rows.get(on_baseline, 0.0) if on_baseline else math.nan
        lines.append(f"| {label} | {_fmt(p, 2)} | {'—' if on_baseline is None else _fmt(b, 2)} |")
    for name, side in (("platform", results.platform), ("baseline", results.baseline)):
        lines.append("")
        lines.append(
            f"During the {name}'s window the machine was busy on {_fmt(_busy(side), 2)} of "
            f"{os.cpu_count()} cores on average ({_fmt(side.cpu.seconds, 1)} s compared)."
        )
    return lines


def _busy(side: Side) -> float:
    """Average number of cores busy (anything but idle) during the side's window."""
    cpu = side.cpu
    return cpu.machine_cpu_seconds / cpu.seconds if cpu.seconds else math.nan


def _errors(name: str, side: Side) -> list[str]:
    load = side.load
    lines: list[str] = []
    if load.errors:
        lines.append(f"- **{name}: {load.errors} of {load.requests} requests failed**: {load.error_kinds}.")
        if load.error_sample:
            sample = " ".join(load.error_sample.split())[:240]
            lines.append(f"  First failure: `{sample}`")
    for where, text in side.log_problems.items():
        lines.append(f"- {name} log `{where}`: {text}")
    for process, count in side.restarts.items():
        lines.append(f"- {name} process `{process}` crashed and was restarted {count}x during the run.")
    return lines


def interpretation(results: BenchResults) -> list[str]:
    """Sentences that follow from the figures of this run (no claim that the run cannot back)."""
    p, b = results.platform, results.baseline
    pr, br = _cpu_by_row(p), _cpu_by_row(b)
    service_names = list(SERVICES)
    p_http, b_http = pr.get("gateway", 0.0), br.get("bare-app", 0.0)
    p_services = sum(pr.get(s, 0.0) for s in service_names)
    b_services = sum(br.get(f"trivial-{s}", 0.0) for s in service_names)
    p_total = sum(v for k, v in pr.items() if k not in (OTHERS,))
    b_total = sum(v for k, v in br.items() if k not in (OTHERS,))
    busiest = max(service_names, key=lambda s: pr.get(s, 0.0))
    lines = [
        f"- The platform reaches {100 / results.ratio:.0f}% of the baseline's throughput (the baseline "
        f"serves {results.ratio:.2f}x its requests per second). The machine was busy on "
        f"{_fmt(_busy(p), 2)} (platform) and {_fmt(_busy(b), 2)} (baseline) of {os.cpu_count()} cores, so "
        "throughput is roughly cores / CPU-ms per request and the ratio mostly the ratio of CPU cost: "
        f"{_fmt(p_total, 2)} ms per platform request against {_fmt(b_total, 2)} ms per baseline request "
        "(all our processes, the load generator included).",
        f"- HTTP tier: the gateway spends {_fmt(p_http, 2)} CPU-ms per request, the bare Flask app "
        f"{_fmt(b_http, 2)} ms; the difference ({_fmt(p_http - b_http, 2)} ms) is the gateway's own work "
        "(JWT check, OpenTelemetry spans for the request and its five gRPC calls, client interceptors, "
        "id check, reflective protobuf-to-JSON rendering, problem handling).",
        f"- Services: the five real gRPC servers spend {_fmt(p_services, 2)} CPU-ms per request in total "
        f"against {_fmt(b_services, 2)} ms for the trivial ones; the real ones open a SQLAlchemy session "
        "and query SQLite, run server interceptors (tracing, error mapping), and convert rows to messages. "
        f"The most expensive is {busiest} ({_fmt(pr.get(busiest, 0.0), 2)} ms).",
    ]
    lines.append(
        f"- Latency is queueing: with {results.settings.concurrency} closed-loop clients, p50 is close to "
        f"clients / throughput ({results.settings.concurrency / p.load.rps * 1000:.0f} ms for the platform, "
        f"{results.settings.concurrency / b.load.rps * 1000:.0f} ms for the baseline), so the p50 ratio "
        "follows the throughput ratio: the time goes into waiting for a CPU, not into any one slow call."
    )
    others = p.cpu.per_request_ms(p.load.requests).get(OTHERS, 0.0)
    lines.append(
        f"- Work not ours (other processes, kernel) came to {_fmt(others, 2)} CPU-ms per platform "
        "request: the larger it is against the rows above, the more this run was disturbed by other "
        "load on the machine, and the less the absolute figures (not only the ratio) should be trusted."
    )
    return lines


def render(results: BenchResults) -> str:
    s, p, b, ev = results.settings, results.platform, results.baseline, results.events
    f = ev.figures()
    load_avg = ", ".join(f"{x:.2f}" for x in results.load_average_at_start)
    exported = "yes" if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "no"
    out = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`bench/run_all.py`) on {results.started_at:%Y-%m-%d %H:%M} UTC; the run "
        f"took {results.elapsed_s:.0f} s. Hand-written profiling notes: [PROFILE.md](PROFILE.md).",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in machine_facts().items()],
        f"| load average at start (1, 5, 15 min) | {load_avg} |",
        "",
        "## Settings",
        "",
        "| | |",
        "| --- | --- |",
        f"| gateway and bare app | gunicorn gthread, {s.gateway_workers} workers x "
        f"{s.gateway_threads} threads |",
        "| gRPC servers | 16 threads each; platform: one process per service, baseline: the same |",
        "| service deadline | 1.0 s per call (gateway default; the bare app uses the same) |",
        f"| concurrency | {s.concurrency} closed-loop clients, one keep-alive connection each |",
        f"| duration | {s.duration_s:.0f} s measured after {s.warmup_s:.0f} s warm-up, per target |",
        f"| load generator | {p.load.generator} |",
        f"| ids | random among {s.contacts} contacts, each with its welcome notification |",
        f"| tracing | spans recorded; exported over OTLP: {exported} |",
        "| databases | SQLite (the embedded default), fresh for the run |",
        "",
        "## Customer-360: `GET /api/v1/customers/{id}/360`",
        "",
        "| target | requests/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| platform (gateway + 5 services) | {p.load.rps:.1f} | {_fmt(p.load.p50_ms)} | "
        f"{_fmt(p.load.p99_ms)} | {p.load.errors} / {p.load.requests} |",
        f"| baseline (bare Flask + 5 trivial gRPC servers) | {b.load.rps:.1f} | {_fmt(b.load.p50_ms)} | "
        f"{_fmt(b.load.p99_ms)} | {b.load.errors} / {b.load.requests} |",
        f"| **ratio baseline / platform** | **{results.ratio:.2f}x** | "
        f"{_fmt(p.load.p50_ms / b.load.p50_ms, 2)}x (platform / baseline) | "
        f"{_fmt(p.load.p99_ms / b.load.p99_ms, 2)}x | |",
        "",
        "An error is a reply other than 200, a transport error, or a 200 whose view lacks a section "
        '(`"unavailable"` not empty: a service missed its deadline).',
        "",
    ]
    problems = _errors("platform", p) + _errors("baseline", b)
    out += ["Errors and log lines:", "", *problems, ""] if problems else ["Errors and log lines: none.", ""]
    out += [
        "## Where the CPU goes",
        "",
        "CPU time of each process tree during the measured window (from /proc), divided by the requests "
        "completed in it.",
        "",
        *_cpu_table(results),
        "",
        "## `contact_created`: commit to consumed",
        "",
        f"{ev.created} contacts created through the gateway one by one at {ev.rate_per_s:.0f}/s on the "
        f"otherwise idle platform; {len(ev.service_ms)} welcome notifications seen, {ev.missing} missing.",
        "",
        "| measure | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: |",
        f"| service timestamps: notification `created_at` - contact `created_at` | "
        f"{_fmt(f['service_p50_ms'])} | {_fmt(f['service_p99_ms'])} | {_fmt(f['service_max_ms'])} |",
        f"| client-observed: POST reply -> notification readable over gRPC | {_fmt(f['visible_p50_ms'])} | "
        f"{_fmt(f['visible_p99_ms'])} | |",
        "",
        "What the first interval contains, in order: the rest of the contacts transaction after the contact "
        "row is stamped (the outbox insert, whose `ce-time` is stamped microseconds later, and the SQLite "
        "commit); the after-commit hook waking the outbox relay thread in the same `serve` process; the "
        "relay's claim query; `basic_publish` on a confirm-mode channel (the broker routes the persistent "
        "message to the durable queue and may deliver it before it confirms); delivery to the notifications "
        "worker's consumer (prefetch 20); decoding; the consumer's transaction opening with `BEGIN "
        "IMMEDIATE`, the inbox insert and the handler up to the moment it stamps the notification. It stops "
        "**before** the consumer's commit and ack. The client-observed figure includes that commit (plus "
        "up to 5 ms of polling) but starts only when the POST reply reaches the client.",
        "",
        "## Interpretation",
        "",
        *interpretation(results),
        "",
    ]
    if results.kept_dir:
        out += [f"The run's data and logs were kept in `{results.kept_dir}` for investigation.", ""]
    return "\n".join(out)
