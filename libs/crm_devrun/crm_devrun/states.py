"""What the supervisor reports: a process's state changes, and who listens to them.

The supervisor only produces these; how they are shown (a human line, a JSON line, a log record) is the
observer's business, so tests and benchmarks can listen differently from `make run`.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class State(StrEnum):
    STARTED = "started"
    READY = "ready"
    EXITED = "exited"  # died on its own: a crash, or an exit nobody asked for
    RESTARTING = "restarting"
    STOPPED = "stopped"  # ended because we asked it to


@dataclass(frozen=True)
class StateChange:
    process: str
    state: State
    pid: int | None = None
    returncode: int | None = None  # EXITED/STOPPED: the exit code, or -N when killed by signal N
    delay: float | None = None  # RESTARTING: seconds until the restart
    at: float = field(default_factory=time.time)

    @property
    def signal_name(self) -> str | None:
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def abnormal(self) -> bool:
        """Whether this is worth a warning: a crash, or a stop that needed more than SIGTERM."""
        if self.state is State.EXITED:
            return True
        return self.state is State.STOPPED and self.returncode not in (None, 0, -signal.SIGTERM)

    def describe(self) -> str:
        """The change in a few words, without the process name (the caller puts it where it fits)."""
        if self.state is State.STARTED:
            return f"started (pid {self.pid})"
        if self.state is State.RESTARTING:
            return f"restarting in {self.delay:g} s"
        if self.state is State.EXITED:
            return f"exited ({self._how()})"
        if self.state is State.STOPPED:
            return f"stopped ({self._how()})" if self.abnormal else "stopped"
        return self.state.value

    def _how(self) -> str:
        return f"killed by {self.signal_name}" if self.signal_name else f"code {self.returncode}"


class Observer(Protocol):
    """Receives every state change and every line a child prints; called from the supervisor's threads."""

    def state_changed(self, change: StateChange) -> None: ...

    def output(self, process: str, line: bytes) -> None: ...


class LoggingObserver:
    """The default for tests and benchmarks: state changes as log records (pytest shows them on failure),
    children's output only in their log files."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("crm_devrun.supervisor")

    def state_changed(self, change: StateChange) -> None:
        level = logging.WARNING if change.abnormal else logging.INFO
        self.logger.log(level, "%s %s", change.process, change.describe())

    def output(self, process: str, line: bytes) -> None:
        pass
