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
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from random import Random
from typing import Any

from load import ClientReport, run_generator_processes
from stats import LoadResult

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


def run_grpc_load(spec: GrpcLoadSpec) -> LoadResult:
    return run_generator_processes(
        __file__,
        {**asdict(spec), "ids": list(spec.ids), "metadata": list(spec.metadata)},
        concurrency=spec.concurrency,
        warmup_s=spec.warmup_s,
        duration_s=spec.duration_s,
        max_processes=PROCESSES,
        start_lead_s=START_LEAD_SECONDS,
        label="python gRPC ({processes} processes x {threads} threads, a channel per "
        + spec.channel_per
        + ")",
    )


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
    ClientReport.merge(parts).dump()


def _client(
    spec: GrpcLoadSpec, start: float, window: tuple[float, float], rng: Random, shared: Any
) -> ClientReport:
    """One closed-loop client, on the process's channel or its own; keeps only calls that complete
    inside the window."""
    import grpc

    from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc

    report = ClientReport()
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
