"""Closed-loop HTTP load: N concurrent clients, each with one keep-alive connection, GETting random paths
for a fixed time after a warm-up; reports requests/s, p50, p99 and every error.

Two generators, the same measurement:
- `wrk` (Debian's `wrk`, C, one event-loop thread) when it is on PATH: it takes the least CPU, which
  matters on a 2-core machine where the generator competes with the servers it measures;
- otherwise Python: several processes (so the generator's own GIL is not the bottleneck) of threads.
Both are closed loop, so latencies are per request as a client sees them, and neither sends more than the
servers answer. Use `python bench/load.py --help` to run it by hand against any URL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from urllib.parse import urlsplit

from stats import LoadResult, percentile, quantiles_of

WRK_SCRIPT = Path(__file__).with_name("wrk_paths.lua")
PYTHON_PROCESSES = 4  # enough that no generator process is GIL-bound at a few hundred requests/s
START_LEAD_SECONDS = 2.0  # time for spawned generator processes to import and connect before the start


@dataclass(frozen=True)
class LoadSpec:
    base_url: str  # http://host:port
    paths: Sequence[str]  # each request GETs one of these, chosen at random
    headers: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = 32
    duration_s: float = 15.0
    warmup_s: float = 3.0
    timeout_s: float = 10.0
    # Text every good reply body contains; a 200 without it counts as an error ("200 partial"). For the
    # 360 view this is `"unavailable":[]`: a section the gateway had to leave out is a failure to report.
    ok_marker: str = ""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(spec: LoadSpec, generator: str = "auto") -> LoadResult:
    """Run the load with `generator` ("wrk", "python", or "auto": wrk when installed)."""
    if not spec.paths:
        raise ValueError("no paths to request")
    if generator == "auto":
        generator = "wrk" if wrk_available() else "python"
    if generator == "wrk":
        return _run_wrk(spec)
    if generator == "python":
        return _run_python(spec)
    raise ValueError(f"unknown generator {generator!r}")


# --- wrk ---------------------------------------------------------------------------------------------


def _run_wrk(spec: LoadSpec) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        paths_file = Path(tmp, "paths.txt")
        paths_file.write_text("\n".join(spec.paths) + "\n")
        sample_file = Path(tmp, "sample.txt")
        env = {
            **os.environ,
            "BENCH_PATHS_FILE": str(paths_file),
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in spec.headers.items()),
            "BENCH_SAMPLE_FILE": str(sample_file),
            "BENCH_OK_MARKER": spec.ok_marker,
        }
        if spec.warmup_s > 0:
            _wrk(spec, env, spec.warmup_s)  # discarded: connections, caches and JITs settle
            sample_file.unlink(missing_ok=True)
        began = time.time()
        figures = _wrk(spec, env, spec.duration_s)
        sample = sample_file.read_text(errors="replace")[:300] if sample_file.exists() else ""
    kinds: Counter[str] = Counter()
    for part in filter(None, figures["failures"].split(",")):
        status, count = part.split("=")
        kinds[status] += int(count)
    for transport in ("connect", "read", "write", "timeout"):
        if figures[transport]:
            kinds[transport] += figures[transport]
    transport_errors = sum(figures[t] for t in ("connect", "read", "write", "timeout"))
    return LoadResult(
        generator="wrk (1 thread)",
        concurrency=spec.concurrency,
        duration_s=figures["duration_us"] / 1e6,
        requests=figures["requests"] + transport_errors,
        errors=sum(kinds.values()),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        error_kinds=dict(kinds),
        error_sample=sample,
        window=(began, began + figures["duration_us"] / 1e6),
        quantiles_ms=tuple(us / 1000 for us in figures.get("quantiles_us", ())),
    )


def _wrk(spec: LoadSpec, env: dict[str, str], seconds: float) -> dict[str, int | str]:
    # One thread: at these rates a single event loop keeps 32 connections busy and leaves the most CPU
    # to the servers being measured.
    argv = [
        "wrk",
        "-t1",
        f"-c{spec.concurrency}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(spec.timeout_s))}s",
        "-s",
        str(WRK_SCRIPT),
        spec.base_url,
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, int | str] = json.loads(line.removeprefix("BENCH_JSON "))
            return figures
    raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout[-500:]}")


# --- Python ------------------------------------------------------------------------------------------


@dataclass
class ClientReport:
    """What one client (or one generator process) saw inside the measuring window."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sample: str = ""

    @classmethod
    def merge(cls, parts: Sequence[ClientReport]) -> ClientReport:
        merged = cls()
        for part in parts:
            merged.latencies_ms.extend(part.latencies_ms)
            merged.errors.update(part.errors)
            merged.sample = merged.sample or part.sample
        return merged

    def dump(self) -> None:
        """Writes the report as a generator process's answer (JSON on stdout)."""
        json.dump(
            {"latencies_ms": self.latencies_ms, "errors": self.errors, "sample": self.sample}, sys.stdout
        )


def _run_python(spec: LoadSpec) -> LoadResult:
    return run_generator_processes(
        __file__,
        asdict(spec),
        concurrency=spec.concurrency,
        warmup_s=spec.warmup_s,
        duration_s=spec.duration_s,
        max_processes=PYTHON_PROCESSES,
        start_lead_s=START_LEAD_SECONDS,
        label="python ({processes} processes x {threads} threads)",
    )


def run_generator_processes(
    script: str,
    spec: Mapping[str, object],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    max_processes: int,
    start_lead_s: float,
    label: str,
) -> LoadResult:
    """Runs `concurrency` closed-loop clients as threads spread over generator processes of `script`
    (`script --generator-process JOB_FILE`, which prints a ClientReport as JSON) and merges their reports.

    Every process gets `spec`, its thread count, a seed, and one wall-clock start and measuring window
    shared by all, so everyone starts together and measures the same window. `label` names the generator
    in the result (`{processes}` and `{threads}` are filled in).
    """
    processes = min(max_processes, concurrency)
    per_process = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    start = time.time() + start_lead_s
    window = (start + warmup_s, start + warmup_s + duration_s)
    # Plain subprocesses rather than multiprocessing: nothing depends on how the caller's __main__ is
    # written, and no thread of the caller (the supervisor's log pumps) is forked.
    children: list[subprocess.Popen[str]] = []
    timeout = start_lead_s + warmup_s + duration_s + 60
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        try:
            for seed, threads in enumerate(per_process):
                job = {"spec": spec, "threads": threads, "seed": seed, "start": start, "window": window}
                job_file = Path(tmp, f"job-{seed}.json")
                job_file.write_text(json.dumps(job))
                children.append(
                    subprocess.Popen(
                        [sys.executable, script, "--generator-process", str(job_file)],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            reports = [_collect(child, timeout) for child in children]
        finally:
            for child in children:  # only ever needed when something failed (or SIGTERM) midway
                if child.poll() is None:
                    child.kill()
                    child.wait()
    merged = ClientReport.merge(reports)
    return LoadResult(
        generator=label.format(processes=processes, threads=max(per_process)),
        concurrency=concurrency,
        duration_s=duration_s,
        requests=len(merged.latencies_ms),
        errors=sum(merged.errors.values()),
        p50_ms=percentile(merged.latencies_ms, 50),
        p99_ms=percentile(merged.latencies_ms, 99),
        error_kinds=dict(merged.errors),
        error_sample=merged.sample,
        window=window,
        quantiles_ms=quantiles_of(merged.latencies_ms),
    )


def _collect(child: subprocess.Popen[str], timeout: float) -> ClientReport:
    out, _ = child.communicate(timeout=timeout)
    if child.returncode != 0:
        raise RuntimeError(f"load generator process failed with exit code {child.returncode}")
    data = json.loads(out)
    return ClientReport(data["latencies_ms"], Counter(data["errors"]), data["sample"])


def _generator_process() -> None:
    """Entry point of one generator process: reads its job (JSON) from the file named on the command
    line and writes its report as JSON on stdout."""
    job = json.loads(Path(sys.argv[2]).read_text())
    spec = LoadSpec(**job["spec"])
    start, window, seed = job["start"], tuple(job["window"]), job["seed"]
    with ThreadPoolExecutor(job["threads"]) as pool:
        parts = list(
            pool.map(lambda i: _client(spec, start, window, Random(seed * 1000 + i)), range(job["threads"]))
        )
    ClientReport.merge(parts).dump()


def _client(spec: LoadSpec, start: float, window: tuple[float, float], rng: Random) -> ClientReport:
    """One closed-loop client; keeps only requests that complete inside the measured window."""
    report = ClientReport()
    parts = urlsplit(spec.base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    headers = dict(spec.headers)
    marker = spec.ok_marker.encode()
    conn: http.client.HTTPConnection | None = None
    time.sleep(max(0.0, start - time.time()))
    while True:
        began = time.time()
        if began >= window[1]:
            break
        kind = ""
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=spec.timeout_s)
            conn.request("GET", rng.choice(spec.paths), headers=headers)
            reply = conn.getresponse()
            body = reply.read()
            if reply.status != 200:
                kind = str(reply.status)
            elif marker and marker not in body:
                kind = "200 partial"
            if kind:
                report.sample = report.sample or f"{reply.status} {body[:300].decode(errors='replace')}"
        except (OSError, http.client.HTTPException) as exc:
            kind = type(exc).__name__
            report.sample = report.sample or f"{kind}: {exc}"
            if conn is not None:
                conn.close()
            conn = None
        finished = time.time()
        if window[0] <= finished <= window[1]:
            report.latencies_ms.append((finished - began) * 1000)
            if kind:
                report.errors[kind] += 1
    if conn is not None:
        conn.close()
    return report


# --- command line ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("base_url", help="http://host:port")
    parser.add_argument("paths", nargs="+", help="paths to GET, chosen at random")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=15.0, help="measured seconds")
    parser.add_argument("-w", "--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("-g", "--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--ok-marker", default="", help="text a good body contains (else: error)")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    spec = LoadSpec(
        args.base_url,
        args.paths,
        {k.strip(): v.strip() for k, v in headers.items()},
        concurrency=args.concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
        ok_marker=args.ok_marker,
    )
    result = run_load(spec, args.generator)
    print(f"{result.generator}, {result.concurrency} clients, {result.duration_s:.1f} s")
    print(result.summary())
    if result.error_sample:
        print(f"first failure: {result.error_sample}")
    if math.isnan(result.p50_ms):
        raise SystemExit("no request completed in the measured window")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--generator-process"]:
        _generator_process()
    else:
        main()
