"""Closed-loop gRPC load on ContactsService.GetContact: the direct-call side of bench/bench_transcoding.py.

N concurrent clients, each with **its own channel** (so its own HTTP/2 connection, as each wrk client has
its own keep-alive HTTP/1.1 connection), each sending its next call when the last one answered, for a
fixed time after a warm-up; requests/s, p50, p99 and every error, as bench/load.py reports for HTTP.

The clients are threads of several generator processes (PROCESSES, like load.py's Python generator) so
that no generator process is GIL-bound; each call is a blocking unary call (`stub.GetContact(...)`), which
waits in gRPC's C core without holding the GIL. Python gRPC clients cost more CPU per call than wrk does
per HTTP request; bench_transcoding.py measures and reports the generator's CPU on both sides so the
comparison can be read with that in mind.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from stats import LoadResult, percentile, quantiles_of

PROCESSES = 4
START_LEAD_SECONDS = 3.0  # time for the generator processes to import, connect and warm their channels


@dataclass(frozen=True)
class GrpcLoadSpec:
    target: str  # host:port of the contacts gRPC server
    ids: Sequence[str]  # each call asks for one of these, chosen at random
    metadata: Sequence[tuple[str, str]] = ()  # sent with every call (the caller, as the gateway sends it)
    concurrency: int = 32
    duration_s: float = 15.0
    warmup_s: float = 3.0
    timeout_s: float = 10.0
    # "process": the threads of one generator process share its channel (one HTTP/2 connection each, as
    # the gateway's workers each have one to the service); "client": every client has its own channel.
    channel_per: str = "process"


@dataclass
class _Report:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sample: str = ""


def run_grpc_load(spec: GrpcLoadSpec) -> LoadResult:
    processes = min(PROCESSES, spec.concurrency)
    per_process = [
        spec.concurrency // processes + (i < spec.concurrency % processes) for i in range(processes)
    ]
    start = time.time() + START_LEAD_SECONDS
    window = (start + spec.warmup_s, start + spec.warmup_s + spec.duration_s)
    children: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-grpc-load-") as tmp:
        try:
            for seed, threads in enumerate(per_process):
                job = {
                    "spec": {**asdict(spec), "ids": list(spec.ids), "metadata": list(spec.metadata)},
                    "threads": threads,
                    "seed": seed,
                    "start": start,
                    "window": window,
                }
                job_file = Path(tmp, f"job-{seed}.json")
                job_file.write_text(json.dumps(job))
                children.append(
                    subprocess.Popen(
                        [sys.executable, __file__, "--generator-process", str(job_file)],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            reports = [_collect(child, spec) for child in children]
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
    latencies = [ms for report in reports for ms in report.latencies_ms]
    errors: Counter[str] = Counter()
    for report in reports:
        errors.update(report.errors)
    return LoadResult(
        generator=f"python gRPC ({processes} processes x {max(per_process)} threads, a channel per "
        f"{spec.channel_per})",
        concurrency=spec.concurrency,
        duration_s=spec.duration_s,
        requests=len(latencies),
        errors=sum(errors.values()),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        error_kinds=dict(errors),
        error_sample=next((r.sample for r in reports if r.sample), ""),
        window=window,
        quantiles_ms=quantiles_of(latencies),
    )


def _collect(child: subprocess.Popen[str], spec: GrpcLoadSpec) -> _Report:
    out, _ = child.communicate(timeout=START_LEAD_SECONDS + spec.warmup_s + spec.duration_s + 60)
    if child.returncode != 0:
        raise RuntimeError(f"gRPC load generator process failed with exit code {child.returncode}")
    data = json.loads(out)
    return _Report(data["latencies_ms"], Counter(data["errors"]), data["sample"])


def _generator_process() -> None:
    job = json.loads(Path(sys.argv[2]).read_text())
    raw = job["spec"]
    spec = GrpcLoadSpec(**{**raw, "metadata": [tuple(pair) for pair in raw["metadata"]]})
    start, window, seed = job["start"], tuple(job["window"]), job["seed"]
    import grpc

    shared = grpc.insecure_channel(spec.target) if spec.channel_per == "process" else None
    with ThreadPoolExecutor(job["threads"]) as pool:
        parts = list(
            pool.map(
                lambda i: _client(spec, start, window, Random(seed * 1000 + i), shared),
                range(job["threads"]),
            )
        )
    if shared is not None:
        shared.close()
    merged = _Report()
    for part in parts:
        merged.latencies_ms.extend(part.latencies_ms)
        merged.errors.update(part.errors)
        merged.sample = merged.sample or part.sample
    json.dump(
        {"latencies_ms": merged.latencies_ms, "errors": merged.errors, "sample": merged.sample}, sys.stdout
    )


def _client(
    spec: GrpcLoadSpec, start: float, window: tuple[float, float], rng: Random, shared: Any
) -> _Report:
    """One closed-loop client, on the process's channel or its own; keeps only calls that complete
    inside the window."""
    import grpc

    from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc

    report = _Report()
    metadata = tuple(spec.metadata)
    with (
        contextlib.nullcontext(shared)
        if shared is not None
        else grpc.insecure_channel(spec.target) as channel
    ):
        grpc.channel_ready_future(channel).result(timeout=max(1.0, start - time.time() + 5))
        stub = contacts_pb2_grpc.ContactsServiceStub(channel)
        time.sleep(max(0.0, start - time.time()))
        while True:
            began = time.time()
            if began >= window[1]:
                break
            kind = ""
            try:
                request = contacts_pb2.GetContactRequest(id=rng.choice(spec.ids))
                stub.GetContact(request, timeout=spec.timeout_s, metadata=metadata)
            except grpc.RpcError as error:
                kind = error.code().name if hasattr(error, "code") else type(error).__name__
                report.sample = report.sample or f"{kind}: {error}"
            finished = time.time()
            if window[0] <= finished <= window[1]:
                report.latencies_ms.append((finished - began) * 1000)
                if kind:
                    report.errors[kind] += 1
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["--generator-process"]:
        _generator_process()
    else:
        raise SystemExit("used by bench/bench_transcoding.py")
