"""bench/RESULTS.md from one run of each benchmark: machine, settings, figures, CPU by component,
interpretation. Customer-360 (bench_360) always; transcoding overhead (bench_transcoding), validation and
JSON costs (bench_validate) and the filter compiler's costs (bench_filter) when they were run.

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
from typing import Any

from bench_360 import BenchResults, Side
from bench_transcoding import TranscodingResults, cpu_rows
from bench_validate import REPEATS as VALIDATE_REPEATS
from bench_validate import ValidateResults
from cpu import GENERATOR, OTHERS, RUNNER
from crm_devrun.platform import SERVICES
from rounds import LATER_WARMUP_SECONDS

# What the issue asks of customer-360 against the baseline measured in the same run.
TARGET_THROUGHPUT_SHARE = 0.6  # platform requests/s >= 0.6 x the baseline's
TARGET_P99_RATIO = 1.5  # platform p99 <= 1.5 x the baseline's

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
            f"During the {name}'s windows the machine was busy on {_fmt(_busy(side), 2)} of "
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
        "(JWT check, OpenTelemetry spans for the request and its five gRPC calls, the caller's metadata, "
        "id check, protobuf-to-JSON rendering, problem handling).",
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


def _sampling() -> str:
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return f"OTEL_TRACES_SAMPLER={os.environ['OTEL_TRACES_SAMPLER']}"
    ratio = os.environ.get("OTEL_TRACES_SAMPLER_ARG") or "1.0, the default"
    return f"ParentBased(TraceIdRatioBased({ratio}))"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets(results: BenchResults) -> list[str]:
    p, b = results.platform.load, results.baseline.load
    share = p.rps / b.rps if b.rps else math.nan
    p99 = p.p99_ms / b.p99_ms if b.p99_ms else math.nan
    return [
        f"Platform throughput / baseline throughput: **{_fmt(share, 3)}x** (target >= "
        f"{TARGET_THROUGHPUT_SHARE:.2f}x: {_met(share >= TARGET_THROUGHPUT_SHARE)}); platform p99 / baseline "
        f"p99: **{_fmt(p99, 3)}x** (target <= {TARGET_P99_RATIO:.1f}x: {_met(p99 <= TARGET_P99_RATIO)}).",
    ]


def rounds_table(results: BenchResults) -> list[str]:
    """Each window of both targets, when there were several."""
    p, b = results.platform.rounds, results.baseline.rounds
    if len(p) < 2 or len(p) != len(b):
        return []
    lines = [
        "Each window. The figures above are over all of a target's windows: requests/s over their whole "
        "time, p50 and p99 over all their requests (each window's latency distribution, pooled).",
        "",
        "| window | platform req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms | share |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, (pw, bw) in enumerate(zip(p, b, strict=True), start=1):
        share = pw.rps / bw.rps if bw.rps else math.nan
        lines.append(
            f"| {i} | {pw.rps:.1f} | {_fmt(pw.p50_ms)} | {_fmt(pw.p99_ms)} | {bw.rps:.1f} | "
            f"{_fmt(bw.p50_ms)} | {_fmt(bw.p99_ms)} | {_fmt(share, 2)}x |"
        )
    return [*lines, ""]


def transcoding_section(t: TranscodingResults) -> list[str]:
    s, rest, direct = t.settings, t.rest, t.grpc
    rest_cpu, grpc_cpu = cpu_rows(rest), cpu_rows(direct)

    def row(name: str, side: Any, cpu: dict[str, float]) -> str:
        load = side.load
        return (
            f"| {name} | {load.rps:.1f} | {_fmt(load.p50_ms)} | {_fmt(load.p99_ms)} | "
            f"{load.errors} / {load.requests} | {_fmt(cpu['gateway'], 2)} | "
            f"{_fmt(cpu['contacts (gRPC serve)'], 2)} | {_fmt(cpu['load generator'], 2)} |"
        )

    contacts_cores = {
        name: side.cpu.cores().get("contacts", math.nan) for name, side in (("rest", rest), ("grpc", direct))
    }
    lines = [
        "## Transcoding overhead: `GET /api/v1/contacts/{id}` against a direct `GetContact`",
        "",
        f"The platform started as for customer-360 (gateway: gunicorn gthread, {s.gateway_workers} workers x "
        f"{s.gateway_threads} threads), {s.contacts} contacts. Both sides: {s.concurrency} closed-loop "
        f"clients, each with its own connection, {s.duration_s:.0f} s measured in {s.rounds} windows taken "
        f"in turns (after {s.warmup_s:.0f} s warm-up), the same contacts server and ids, the caller metadata "
        "the gateway sends; p50 and p99 over all the windows' requests. REST: "
        f"{rest.load.generator}; gRPC: {direct.load.generator}, blocking unary calls.",
        "",
        "| side | requests/s | p50 ms | p99 ms | errors | gateway CPU-ms / req | contacts CPU-ms / req "
        "| load generator CPU-ms / req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        row("REST through the gateway", rest, rest_cpu),
        row("gRPC directly", direct, grpc_cpu),
        f"| **ratio direct / REST** | **{t.ratio:.2f}x** | "
        f"{_fmt(rest.load.p50_ms / direct.load.p50_ms, 2)}x (REST / direct) | "
        f"{_fmt(rest.load.p99_ms / direct.load.p99_ms, 2)}x | | | | |",
        "",
    ]
    if t.rest_single and t.grpc_single:
        rs, gs = t.rest_single, t.grpc_single
        lines += [
            "One client alone (nothing queues):",
            "",
            "| side | requests/s | p50 ms | p99 ms | errors |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| REST through the gateway | {rs.rps:.1f} | {_fmt(rs.p50_ms, 2)} | {_fmt(rs.p99_ms, 2)} | "
            f"{rs.errors} / {rs.requests} |",
            f"| gRPC directly | {gs.rps:.1f} | {_fmt(gs.p50_ms, 2)} | {_fmt(gs.p99_ms, 2)} | "
            f"{gs.errors} / {gs.requests} |",
            "",
        ]
    lines += [
        f"- The gateway spends {_fmt(rest_cpu['gateway'], 2)} CPU-ms per REST request (bearer token, route, "
        "path to request message, the traced gRPC call, JSON, ETag): that is the transcoding overhead in "
        f"CPU, against {_fmt(rest_cpu['contacts (gRPC serve)'], 2)} ms the contacts service spends on the "
        "same request.",
        f"- Throughput: the contacts process kept {_fmt(contacts_cores['rest'], 2)} cores busy under the "
        f"REST load and {_fmt(contacts_cores['grpc'], 2)} under the direct load. One Python process runs "
        "Python code on about one core at most (one GIL), so where that figure is near 1 the service, not "
        "the gateway, sets the throughput of both sides, and the gateway's cost shows in CPU and latency "
        "more than in requests/s.",
    ]
    if t.rest_single and t.grpc_single:
        added = t.rest_single.p50_ms - t.grpc_single.p50_ms
        lines.append(
            f"- With one client, the gateway adds {_fmt(added, 2)} ms to the p50 of a call "
            f"({_fmt(t.rest_single.p50_ms, 2)} ms against {_fmt(t.grpc_single.p50_ms, 2)} ms)."
        )
    lines.append(
        f"- The Python gRPC generator costs {_fmt(grpc_cpu['load generator'], 2)} CPU-ms per call against "
        f"{_fmt(rest_cpu['load generator'], 2)} ms for the REST side's generator, on the same two cores: "
        "the direct side pays for its client, which the REST side does not."
    )
    lines.append("")
    return lines


def validation_section(v: ValidateResults) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in v.load_average_at_start)
    lines = [
        "## Validation and JSON costs (bench/bench_validate.py)",
        "",
        f"CPU time per message in this process, best of {VALIDATE_REPEATS} timing runs (median in brackets); "
        f"load average at start {load}.",
        "",
        "| operation | µs / message | median | note |",
        "| --- | ---: | ---: | --- |",
    ]
    for t in v.protovalidate + v.json:
        lines.append(f"| {t.label} | {t.best_us:.2f} | {t.median_us:.2f} | {t.note} |")
    by_label = {t.label: t.best_us for t in v.protovalidate + v.json}

    def ratio(a: str, b: str) -> str:
        return _fmt(by_label[a] / by_label[b], 1) if by_label.get(b) else "n/a"

    valid = ratio(
        "protovalidate, valid CreateContactRequest", "SerializeToString, CreateContactRequest (yardstick)"
    )
    lines += [
        "",
        f"- protovalidate on a valid CreateContactRequest costs {valid}x serialising it; an invalid one "
        "costs more because every violation is collected and described.",
        "- The platform's JSON mapping against protobuf's: encode "
        f"{ratio('protojson.encode, Contact', 'json_format.MessageToDict, Contact')}x, decode "
        f"{ratio('protojson.decode_into, Contact', 'json_format.ParseDict, Contact')}x the time of "
        "MessageToDict / ParseDict.",
        "",
    ]
    return lines


def filter_section(rows: list[tuple[str, float]] | str) -> list[str]:
    lines = ["## Filter compiler (bench/bench_filter.py)", ""]
    if isinstance(rows, str):
        return [*lines, rows, ""]
    lines += [
        "CPU time per operation, best of that script's timing runs (see its docstring).",
        "",
        "| operation | µs / op |",
        "| --- | ---: |",
        *[f"| {label} | {us:.1f} |" for label, us in rows],
        "",
    ]
    return lines


def render(
    results: BenchResults,
    transcoding: TranscodingResults | None = None,
    validation: ValidateResults | None = None,
    filters: list[tuple[str, float]] | str | None = None,
) -> str:
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
        f"{s.gateway_threads} threads, each worker listening on its own socket (reuse_port) |",
        f"| gRPC servers | {os.environ.get('CRM_GRPC_MAX_WORKERS', '8')} threads each "
        "(CRM_GRPC_MAX_WORKERS); platform: one process per service, baseline: the same |",
        "| service deadline | 1.0 s per call (gateway default; the bare app uses the same) |",
        f"| concurrency | {s.concurrency} closed-loop clients, one keep-alive connection each |",
        f"| duration | {s.duration_s:.0f} s measured per target, in {s.rounds} windows of "
        f"{s.duration_s / max(1, s.rounds):.0f} s taken in turns with the other target (platform first, then "
        f"baseline first, ...); {s.warmup_s:.0f} s warm-up before each target's first window, "
        f"{LATER_WARMUP_SECONDS:.0f} s before the others |",
        f"| load generator | {p.load.generator} |",
        f"| ids | random among {s.contacts} contacts, each with its welcome notification |",
        f"| tracing | every process records spans, sampler {_sampling()}; exported over OTLP: {exported} |",
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
        *targets(results),
        "",
        *rounds_table(results),
        "An error is a reply other than 200, a transport error, or a 200 whose view lacks a section "
        '(`"unavailable"` not empty: a service missed its deadline).',
        "",
    ]
    problems = _errors("platform", p) + _errors("baseline", b)
    out += ["Errors and log lines:", "", *problems, ""] if problems else ["Errors and log lines: none.", ""]
    out += [
        "## Where the CPU goes",
        "",
        "CPU time of each process tree during the measured windows (from /proc), divided by the requests "
        "completed in them.",
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
    if transcoding is not None:
        out += transcoding_section(transcoding)
    if validation is not None:
        out += validation_section(validation)
    if filters is not None:
        out += filter_section(filters)
    if results.kept_dir:
        out += [f"The run's data and logs were kept in `{results.kept_dir}` for investigation.", ""]
    return "\n".join(out)
