"""Supervises a set of local processes: start, stream their output, restart the ones that crash,
stop them all together. Used by `make run`, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

RESTART_BACKOFF_INITIAL = 0.5
RESTART_BACKOFF_MAX = 10.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    # Returns True once the process serves; polled by `wait_ready`.
    ready: Callable[[], bool] | None = None


class Supervised:
    def __init__(self, spec: ProcessSpec, base_env: Mapping[str, str], log_dir: Path, echo: bool) -> None:
        self.spec = spec
        self.env = {**base_env, **spec.env}
        self.log_path = log_dir / f"{spec.name}.log"
        self.echo = echo
        self.process: subprocess.Popen[bytes] | None = None
        self.wanted = False  # whether it should be running (restarted if it dies)
        self.restarts = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self.wanted = True
            if self.process is None or self.process.poll() is not None:
                self._spawn()

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            list(self.spec.argv),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us only; we stop children in order
        )
        assert self.process.stdout is not None
        threading.Thread(
            target=self._pump, args=(self.process.stdout,), name=f"log-{self.spec.name}", daemon=True
        ).start()

    def _pump(self, stream: IO[bytes]) -> None:
        with self.log_path.open("ab") as log:
            for line in iter(stream.readline, b""):
                log.write(line)
                log.flush()
                if self.echo:
                    sys.stdout.write(f"[{self.spec.name}] {line.decode(errors='replace')}")
                    sys.stdout.flush()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        with self._lock:
            self.wanted = False
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Crash it on purpose (SIGKILL), without restarting it."""
        self.stop(signal.SIGKILL)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        log_dir: Path,
        base_env: Mapping[str, str] | None = None,
        echo: bool = False,
        restart: bool = True,
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if base_env is None else base_env)
        self.processes = {s.name: Supervised(s, env, log_dir, echo) for s in specs}
        self.restart = restart
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def __getitem__(self, name: str) -> Supervised:
        return self.processes[name]

    def start(self) -> Supervisor:
        for process in self.processes.values():
            process.start()
        if self.restart and self._monitor is None:
            self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)
            self._monitor.start()
        return self

    def _watch(self) -> None:
        backoff = dict.fromkeys(self.processes, RESTART_BACKOFF_INITIAL)
        # When each dead process is due to be restarted: tracked per process, so one crashing process's
        # back-off never delays restarting another.
        due: dict[str, float] = {}
        while not self._stopping.wait(0.2):
            now = time.monotonic()
            for name, process in self.processes.items():
                if not process.wanted or process.alive():
                    due.pop(name, None)
                    continue
                if name not in due:
                    code = process.process.returncode if process.process else None
                    print(
                        f"[supervisor] {name} exited with {code}; restarting in {backoff[name]:.1f}s",
                        file=sys.stderr,
                    )
                    due[name] = now + backoff[name]
                    backoff[name] = min(backoff[name] * 2, RESTART_BACKOFF_MAX)
                elif now >= due[name] and not self._stopping.is_set():
                    del due[name]
                    process.restarts += 1
                    process.start()

    def wait_ready(self, timeout: float = 60.0, names: Sequence[str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = [self.processes[n] for n in (names or self.processes)]
        while pending:
            for process in list(pending):
                if process.spec.ready is None or process.spec.ready():
                    pending.remove(process)
                elif not process.alive() and not self.restart:
                    raise RuntimeError(f"{process.spec.name} exited:\n{process.tail()}")
            if pending and time.monotonic() > deadline:
                details = "\n\n".join(f"--- {p.spec.name} ---\n{p.tail()}" for p in pending)
                raise TimeoutError(f"not ready after {timeout}s: {[p.spec.name for p in pending]}\n{details}")
            time.sleep(0.1)

    def stop(self) -> None:
        self._stopping.set()
        # Reverse order: the gateway first, so nothing new arrives while services drain.
        threads = [threading.Thread(target=p.stop) for p in reversed(list(self.processes.values()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def run_forever(self) -> None:
        """Foreground mode: until Ctrl-C or SIGTERM, then stop everything."""
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        print("[supervisor] stopping the platform...", file=sys.stderr)
        self.stop()
