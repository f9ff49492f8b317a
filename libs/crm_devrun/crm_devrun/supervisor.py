"""Supervises a set of local processes: start them, keep each one's output in its own log file, tell an
observer about every state change, restart the ones that crash, stop them all together.
Used by `make run`, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from crm_devrun.paths import log_file
from crm_devrun.states import LoggingObserver, Observer, State, StateChange

RESTART_BACKOFF_INITIAL = 0.5
RESTART_BACKOFF_MAX = 10.0
STOP_TIMEOUT_SECONDS = 15.0
# Readiness is polled quickly at first (startup is usually a second or two), then at most once a second:
# a probe may open a broker connection, and one that never succeeds must not cost much.
READY_POLL_FIRST = 0.1
READY_POLL_MAX = 1.0
# After a process ends, how long to let its last lines reach the log file before reporting the end
# (a grandchild that inherited the pipe may keep it open, so this is bounded).
DRAIN_SECONDS = 1.0


@dataclass
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    # Returns True once the process serves; polled after each start until it does.
    ready: Callable[[], bool] | None = None
    # Runs before each start: clears what a previous run left that `ready` would mistake for this one's.
    prepare: Callable[[], None] | None = None


class NotReadyError(TimeoutError):
    def __init__(self, message: str, names: list[str]) -> None:
        super().__init__(message)
        self.names = names


class Supervised:
    """One process, across its restarts. Each start gets a watcher thread that reports readiness and the
    end of that run, then (if the process is still wanted) restarts it after its back-off."""

    def __init__(
        self,
        spec: ProcessSpec,
        base_env: Mapping[str, str],
        log_dir: Path,
        observer: Observer,
        restart: bool = True,
    ) -> None:
        self.spec = spec
        self.env = {**base_env, **spec.env}
        self.log_path = log_file(log_dir, spec.name)
        self.observer = observer
        self.restart = restart
        self.process: subprocess.Popen[bytes] | None = None
        self.wanted = False  # whether it should be running (restarted if it dies)
        self.restarts = 0
        self._ready_pid: int | None = None  # the run that has passed its readiness probe
        self._backoff = RESTART_BACKOFF_INITIAL
        self._halt = threading.Event()  # set by stop(): cuts a pending restart's back-off short
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self) -> None:
        with self._lock:
            self.wanted = True
            self._halt.clear()
            if not self.alive():
                self._spawn()

    def _spawn(self) -> None:
        if self.spec.prepare is not None:
            self.spec.prepare()
        log = self.log_path.open("ab")
        try:
            process = subprocess.Popen(
                list(self.spec.argv),
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches us only; we stop children in order
            )
        except BaseException:
            log.close()
            raise
        self.process = process
        self.observer.state_changed(StateChange(self.name, State.STARTED, pid=process.pid))
        assert process.stdout is not None
        pump = threading.Thread(
            target=self._pump, args=(process.stdout, log), name=f"log-{self.name}", daemon=True
        )
        pump.start()
        self._watcher = threading.Thread(
            target=self._watch, args=(process, pump), name=f"watch-{self.name}", daemon=True
        )
        self._watcher.start()

    def _pump(self, stream: IO[bytes], log: IO[bytes]) -> None:
        """Copies the child's output to its log file, line by line, and hands each line to the observer."""
        with log:
            for line in iter(stream.readline, b""):
                log.write(line)
                log.flush()
                self.observer.output(self.name, line)

    def _watch(self, process: subprocess.Popen[bytes], pump: threading.Thread) -> None:
        returncode = self._await_ready_or_exit(process)
        pump.join(DRAIN_SECONDS)
        with self._lock:
            intended = not self.wanted
        state = State.STOPPED if intended else State.EXITED
        self.observer.state_changed(StateChange(self.name, state, pid=process.pid, returncode=returncode))
        if intended or not self.restart:
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, RESTART_BACKOFF_MAX)
        self.observer.state_changed(StateChange(self.name, State.RESTARTING, pid=process.pid, delay=delay))
        if self._halt.wait(delay):
            return
        with self._lock:
            # start() may have run meanwhile (a test restarting it by hand): then there is nothing to do.
            if self.wanted and not self.alive():
                self.restarts += 1
                self._spawn()

    def _await_ready_or_exit(self, process: subprocess.Popen[bytes]) -> int:
        """Polls the readiness probe while waiting for the process to end; returns its exit status."""
        probe = self.spec.ready
        interval = READY_POLL_FIRST
        while probe is not None:
            try:
                return process.wait(interval)
            except subprocess.TimeoutExpired:
                pass
            if _probe(probe) and process.poll() is None:
                self._ready_pid = process.pid
                self.observer.state_changed(StateChange(self.name, State.READY, pid=process.pid))
                break
            interval = min(interval * 1.5, READY_POLL_MAX)
        return process.wait()

    def ready(self) -> bool:
        """Whether the current run has passed its readiness probe (always, when it has none)."""
        if self.spec.ready is None:
            return True
        process = self.process
        return process is not None and self._ready_pid == process.pid and process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        with self._lock:
            self.wanted = False
            self._halt.set()
            process, watcher = self.process, self._watcher
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if watcher is not None and watcher is not threading.current_thread():
            # Its watcher reports "stopped": let it, so that nothing about this run comes after we return.
            watcher.join(DRAIN_SECONDS + 1.0)

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


def _probe(check: Callable[[], bool]) -> bool:
    # A probe that raises must not end the watcher: that would also end exit detection and restarts.
    try:
        return bool(check())
    except Exception:
        return False


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        log_dir: Path,
        base_env: Mapping[str, str] | None = None,
        observer: Observer | None = None,
        restart: bool = True,
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if base_env is None else base_env)
        self.observer = observer or LoggingObserver()
        self.log_dir = log_dir
        self.processes = {s.name: Supervised(s, env, log_dir, self.observer, restart) for s in specs}
        self.restart = restart

    def __getitem__(self, name: str) -> Supervised:
        return self.processes[name]

    def start(self) -> Supervisor:
        for process in self.processes.values():
            process.start()
        return self

    def wait_ready(self, timeout: float = 60.0, names: Sequence[str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = [self.processes[n] for n in (names or self.processes)]
        while pending:
            for process in list(pending):
                if process.ready():
                    pending.remove(process)
                elif not process.alive() and not self.restart:
                    raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            if pending and time.monotonic() > deadline:
                details = "\n\n".join(f"--- {p.name} ---\n{p.tail()}" for p in pending)
                names_pending = [p.name for p in pending]
                raise NotReadyError(f"not ready after {timeout}s: {names_pending}\n{details}", names_pending)
            time.sleep(0.1)

    def stop(self) -> None:
        # Reverse order: the gateway first, so nothing new arrives while services drain.
        threads = [threading.Thread(target=p.stop) for p in reversed(list(self.processes.values()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def run_forever(self) -> None:
        """Foreground mode: until Ctrl-C or SIGTERM, then stop everything."""
        wait_for_stop_signal()
        self.stop()


def wait_for_stop_signal() -> None:
    """Blocks until SIGINT or SIGTERM (main thread only)."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
