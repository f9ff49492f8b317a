"""Where the CPU went during a load window, by component, read from /proc (Linux only).

On a 2-core machine the throughput figure is mostly "how many CPU-milliseconds does one request cost,
summed over every process it touches", so this is the cheapest honest profile: CPU-ms per request for
the gateway, each service, the load generator, RabbitMQ, and everything else on the machine (other
users' work shows up there, which tells how much a run was disturbed).

A background thread snapshots /proc every half second; `usage(start, end)` compares the snapshots
nearest the inside of a window, so no hook into the load generator is needed.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SAMPLE_SECONDS = 0.5
GENERATOR = "load generator"
RUNNER = "bench runner (log pumps)"
OTHERS = "everything else (other processes, kernel)"


@dataclass(frozen=True)
class _Proc:
    ppid: int
    comm: str
    ticks: int  # utime + stime


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.time()
    busy_ticks: int  # the whole machine, all CPUs, everything but idle and iowait
    procs: dict[int, _Proc]


@dataclass
class CpuUsage:
    seconds: float  # length of the window actually compared
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # component -> CPU seconds in the window
    machine_cpu_seconds: float = 0.0

    def per_request_ms(self, requests: int) -> dict[str, float]:
        return {k: v * 1000 / requests for k, v in self.cpu_seconds.items()} if requests else {}

    def cores(self) -> dict[str, float]:
        """Average number of cores each component kept busy."""
        return {k: v / self.seconds for k, v in self.cpu_seconds.items()} if self.seconds else {}

    def plus(self, other: CpuUsage) -> CpuUsage:
        """Both windows together (rounds of one target)."""
        spent = dict(self.cpu_seconds)
        for name, seconds in other.cpu_seconds.items():
            spent[name] = spent.get(name, 0.0) + seconds
        return CpuUsage(
            self.seconds + other.seconds, spent, self.machine_cpu_seconds + other.machine_cpu_seconds
        )

    def folding(self, names: Iterable[str]) -> CpuUsage:
        """The same window with the named components counted as everything else (processes of another
        target that were running, idle, while this one was measured)."""
        names = set(names)
        spent = {k: v for k, v in self.cpu_seconds.items() if k not in names}
        spent[OTHERS] = spent.get(OTHERS, 0.0) + sum(v for k, v in self.cpu_seconds.items() if k in names)
        return CpuUsage(self.seconds, spent, self.machine_cpu_seconds)


def snapshot() -> Snapshot:
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    procs: dict[int, _Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name is in parentheses and may itself contain spaces or parentheses.
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        procs[int(entry.name)] = _Proc(int(rest[1]), comm, int(rest[11]) + int(rest[12]))
    return Snapshot(time.time(), sum(fields) - idle, procs)


class CpuSampler:
    """Snapshots /proc in a daemon thread until stopped; use as a context manager."""

    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self.interval = interval
        self.snapshots: list[Snapshot] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.snapshots.append(snapshot())
            if self._stop.wait(self.interval):
                return

    def usage(self, start: float, end: float, roots: Mapping[str, int]) -> CpuUsage:
        """CPU seconds per component between the first snapshot at or after `start` and the last at or
        before `end`. `roots` names the processes whose whole trees are components (name -> pid); other
        descendants of this process are the load generator; RabbitMQ is recognised by its VM's name."""
        inside = [s for s in list(self.snapshots) if start <= s.at <= end]
        if len(inside) < 2:
            return CpuUsage(0.0)
        first, last = inside[0], inside[-1]
        owner = _owners(last, roots)
        spent: dict[str, float] = defaultdict(float)
        for pid, proc in last.procs.items():
            before = first.procs.get(pid)
            # A pid reused by another process in between would show a drop; count it from zero then.
            delta = proc.ticks - (before.ticks if before and before.ticks <= proc.ticks else 0)
            if delta:
                spent[owner.get(pid) or _by_name(proc)] += delta / TICKS_PER_SECOND
        machine = (last.busy_ticks - first.busy_ticks) / TICKS_PER_SECOND
        accounted = sum(v for k, v in spent.items() if k != OTHERS)
        spent[OTHERS] = max(0.0, machine - accounted)
        return CpuUsage(last.at - first.at, dict(spent), machine)


def _by_name(proc: _Proc) -> str:
    if proc.comm.startswith("beam"):
        return "rabbitmq"
    return "postgresql (every backend)" if proc.comm.startswith("postgres") else OTHERS


def _owners(snap: Snapshot, roots: Mapping[str, int]) -> dict[int, str]:
    """pid -> component, for every process under one of `roots` or under this process."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, proc in snap.procs.items():
        children[proc.ppid].append(pid)
    owner: dict[int, str] = {}

    def claim(pid: int, name: str) -> None:
        stack = [pid]
        while stack:
            current = stack.pop()
            if current in owner:
                continue
            owner[current] = name
            stack.extend(children.get(current, ()))

    for name, pid in roots.items():
        claim(pid, name)
    # This process only pumps the servers' output into log files and sleeps; what else is under it
    # (wrk, or the Python generator processes) is load generation.
    owner[os.getpid()] = RUNNER
    for child in children.get(os.getpid(), ()):
        claim(child, GENERATOR)
    return owner
