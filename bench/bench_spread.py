"""Does scaling a service out spread the gateway's calls? Calls per replica and throughput, 3 vs 1 replica.

1. One SQLite contacts database, migrated and seeded once; three replicas of the contacts gRPC server,
   each its own process (the real servicer, `GrpcServer` and its metrics interceptor, `serve_metrics`),
   on 127.0.0.1, 127.0.0.2 and 127.0.0.3 with the same port: three pods behind one name.
2. Two driver processes stand in for two gunicorn workers of the gateway: each builds the gateway's own
   `ServiceClients` (gateway/gateway/clients.py, hence `crm_platform.grpc_client`'s channel options and
   the `round_robin` service config) with the contacts address `ipv4:127.0.0.1:P,127.0.0.2:P,127.0.0.3:P`,
   the static form of what a headless Service's DNS name resolves to (`dns:///contacts:P` takes the
   same load-balancing path; only the resolver differs), and runs THREADS closed-loop threads calling
   `ListContacts` (limit 20) for DURATION seconds after a warm-up.
3. Each replica counts the calls it served (`crm_grpc_server_handled_total` on its metrics endpoint,
   read before and after the window): calls per replica, and the spread max/min (target: within 20 %).
4. The same drivers against replica 1 alone: throughput with one replica, in the same run.

On a 2-core machine the three replicas and the drivers share the same two cores, so throughput cannot
grow much with replicas; the spread is the figure that shows the balancing works (issue 7).

Run: `.venv/bin/python bench/bench_spread.py` (about a minute). `--duration`, `--threads` to change.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crm_platform.listen_ports import free_port

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
DRIVERS = 2  # gateway workers
CONTACTS = 60
LIST_PATH = "/crm.contacts.v1.ContactsService/ListContacts"
CALLER = ("bench-admin", ("admin",))
SPREAD_TARGET = 1.2


# --- one replica (a child process) ----------------------------------------------------------------------


def run_replica(address: str, metrics_port: int, database_url: str) -> None:
    """What `crm-contacts serve` runs, minus telemetry and the relay: the servicer behind GrpcServer,
    metrics on their own port."""
    os.environ["CONTACTS_METRICS_PORT"] = str(metrics_port)
    from contacts import api
    from contacts.main import DEFINITION
    from crm_platform import config
    from crm_platform.grpc_server import GrpcServer
    from crm_platform.metrics.exposition import serve_metrics
    from crm_platform.service import open_runtime

    runtime = open_runtime(DEFINITION, database_url)
    server = GrpcServer("contacts", address, lambda s: api.register(s, runtime)).start()
    if serve_metrics(config.metrics_port_setting("contacts")) is None:
        sys.exit(f"replica {address}: no metrics endpoint")
    server.wait()
    runtime.engine.dispose()


# --- the drivers (stand-ins for gateway workers) ----------------------------------------------------------


@dataclass(frozen=True)
class DriveSpec:
    target: str
    threads: int
    start_at: float  # time.time() when counting starts (warm-up before it)
    stop_at: float


def drive(spec: DriveSpec, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import threading

    from crm.contacts.v1 import contacts_pb2
    from crm_platform.testing.callers import caller_metadata
    from gateway.clients import ServiceClients

    clients = ServiceClients({"contacts": spec.target})  # opened here, after fork, as in a worker
    list_contacts = clients.unary("contacts", LIST_PATH, contacts_pb2.ListContactsResponse)
    metadata = caller_metadata(CALLER[0], "admin")
    request = contacts_pb2.ListContactsRequest(limit=20)
    counted = [0] * spec.threads
    errors = [0] * spec.threads

    def loop(i: int) -> None:
        while (now := time.time()) < spec.stop_at:
            try:
                list_contacts(request, metadata=metadata, timeout=5)
            except Exception:
                if now >= spec.start_at:
                    errors[i] += 1
                continue
            if now >= spec.start_at:
                counted[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(spec.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clients.close()
    results.put((sum(counted), sum(errors)))


@dataclass(frozen=True)
class Window:
    calls: int
    errors: int
    seconds: float
    served: dict[str, float]  # replica host -> calls it served in the window (its own metrics)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def spread(self) -> float:
        counts = list(self.served.values())
        return max(counts) / min(counts) if min(counts) > 0 else float("inf")


def served_count(metrics_port: int) -> float:
    """ListContacts calls answered OK by one replica, from its own metrics endpoint."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    for line in body.splitlines():
        if (
            line.startswith("crm_grpc_server_handled_total{")
            and 'grpc_method="ListContacts"' in line
            and 'grpc_code="OK"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def measure(
    target: str, threads: int, warmup: float, duration: float, metrics_ports: dict[str, int]
) -> Window:
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    start_at = time.time() + warmup
    spec = DriveSpec(target, threads, start_at, start_at + duration)
    drivers = [ctx.Process(target=drive, args=(spec, results)) for _ in range(DRIVERS)]
    for process in drivers:
        process.start()
    time.sleep(max(0.0, start_at - time.time()))
    before = {host: served_count(port) for host, port in metrics_ports.items()}
    time.sleep(max(0.0, spec.stop_at - time.time()))
    after = {host: served_count(port) for host, port in metrics_ports.items()}
    totals = [results.get(timeout=60) for _ in drivers]
    for process in drivers:
        process.join(30)
    return Window(
        calls=sum(c for c, _ in totals),
        errors=sum(e for _, e in totals),
        seconds=duration,
        served={host: after[host] - before[host] for host in metrics_ports},
    )


# --- orchestration ----------------------------------------------------------------------------------------


def port_free_on_all(port: int) -> bool:
    for host in HOSTS:
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def wait_serving(host: str, port: int, deadline: float) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    while True:
        with grpc.insecure_channel(f"{host}:{port}") as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"replica {host}:{port} did not start")
        time.sleep(0.2)


@contextmanager
def replicas(database_url: str, workdir: Path) -> Iterator[tuple[int, dict[str, int]]]:
    port = free_port()
    while not port_free_on_all(port):
        port = free_port()
    metrics_ports = {host: free_port() for host in HOSTS}
    env = {**os.environ, "CRM_DATA_DIR": str(workdir), "CRM_LOG_LEVEL": "WARNING"}
    processes = []
    try:
        for host in HOSTS:
            log = (workdir / f"replica-{host}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "replica",
                        f"{host}:{port}",
                        str(metrics_ports[host]),
                        database_url,
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        for host in HOSTS:
            wait_serving(host, port, deadline)
        yield port, metrics_ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def prepare_database(database_url: str) -> None:
    """Migrate and seed once, before any replica starts (they then find nothing to migrate)."""
    from contacts import api
    from contacts.main import DEFINITION
    from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
    from crm_platform.grpc_client import open_channel
    from crm_platform.grpc_server import GrpcServer
    from crm_platform.service import open_runtime
    from crm_platform.testing.callers import caller_metadata

    runtime = open_runtime(DEFINITION, database_url)
    server = GrpcServer("contacts", "127.0.0.1:0", lambda s: api.register(s, runtime)).start()
    channel = open_channel(f"127.0.0.1:{server.port}")
    stub = contacts_pb2_grpc.ContactsServiceStub(channel)
    metadata = caller_metadata(CALLER[0], "admin")
    for i in range(CONTACTS):
        request = contacts_pb2.CreateContactRequest(
            first_name="Ada", last_name=f"Spread{i:03d}", email=f"spread{i}@example.com"
        )
        stub.CreateContact(request, metadata=metadata)
    channel.close()
    server.stop(0)
    runtime.engine.dispose()


def run(threads: int, warmup: float, duration: float) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-spread-"))
    database_url = f"sqlite:///{workdir / 'contacts.db'}"
    # One data dir for this process, the replicas and the drivers: one caller-context key pair.
    os.environ["CRM_DATA_DIR"] = str(workdir)
    try:
        prepare_database(database_url)
        with replicas(database_url, workdir) as (port, metrics_ports):
            spread_target = "ipv4:" + ",".join(f"{host}:{port}" for host in HOSTS)
            three = measure(spread_target, threads, warmup, duration, metrics_ports)
            one = measure(f"{HOSTS[0]}:{port}", threads, warmup, duration, metrics_ports)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "drivers": DRIVERS,
        "threads_per_driver": threads,
        "duration_s": duration,
        "three_replicas": {
            "calls_per_s": round(three.rate, 1),
            "errors": three.errors,
            "served_per_replica": {h: int(v) for h, v in three.served.items()},
            "spread_max_over_min": round(three.spread, 3),
        },
        "one_replica": {
            "calls_per_s": round(one.rate, 1),
            "errors": one.errors,
            "served_per_replica": {h: int(v) for h, v in one.served.items()},
        },
        "throughput_ratio_3_over_1": round(three.rate / one.rate, 3) if one.rate else None,
        "spread_within_target": three.spread <= SPREAD_TARGET,
        "cpus": os.cpu_count(),
    }


def print_results(results: dict[str, object]) -> None:
    three = results["three_replicas"]
    one = results["one_replica"]
    assert isinstance(three, dict) and isinstance(one, dict)
    print(
        f"ListContacts through the gateway's client code, {results['drivers']} drivers x "
        f"{results['threads_per_driver']} threads, {results['duration_s']} s per window, "
        f"{results['cpus']} CPUs"
    )
    print(f"  3 replicas: {three['calls_per_s']} calls/s, {three['errors']} errors")
    for host, count in three["served_per_replica"].items():
        print(f"    {host}: {count} calls served")
    verdict = "within" if results["spread_within_target"] else "NOT within"
    print(f"    spread max/min {three['spread_max_over_min']} ({verdict} the {SPREAD_TARGET} target)")
    print(f"  1 replica:  {one['calls_per_s']} calls/s, {one['errors']} errors")
    print(f"  throughput 3 replicas / 1 replica: {results['throughput_ratio_3_over_1']}x")
    print(json.dumps(results))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["replica"]:
        address, metrics_port, database_url = args[1:4]
        run_replica(address, int(metrics_port), database_url)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8, help="closed-loop threads per driver process")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    options = parser.parse_args(args)
    results = run(options.threads, options.warmup, options.duration)
    print_results(results)
    return 0 if results["spread_within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
