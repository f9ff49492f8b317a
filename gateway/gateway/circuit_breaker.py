"""Per-upstream circuit breakers: stop asking a service that is known to be down, for a cool-down.

A dead or hung service otherwise costs every request its full deadline (and a gateway thread for that
long). The breaker of a service opens after `failures` consecutive failures, or when at least
`min_calls` calls in the last `window_seconds` failed at `failure_rate` or more; while open, callers are
answered at once without a call. After `cool_down_seconds` one probe call is let through (half-open):
its success closes the breaker, its failure opens it for another cool-down.

Only errors that say "the service is not serving" count as failures (UNAVAILABLE, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, DATA_LOSS); an answer such as NOT_FOUND proves the service is up.
State is per process (each gunicorn worker learns on its own) and thread-safe; `allow()` on a closed
breaker reads one attribute and takes no lock, because it runs on every customer-360 call.
"""

from __future__ import annotations

import enum
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from crm_platform import config

# Codes that mean the service (or the path to it) is not able to serve right now.
FAILURE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
    }
)
WINDOW_BUCKETS = 10


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _rate(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError("must be a fraction in (0, 1]")
    return value


FAILURES = config.Setting(
    "GATEWAY_BREAKER_FAILURES",
    config.positive_int,
    default="5",
    help="consecutive failed calls to one service after which its circuit opens (per gateway worker)",
)
FAILURE_RATE = config.Setting(
    "GATEWAY_BREAKER_FAILURE_RATE",
    _rate,
    default="0.5",
    help="share of failed calls to one service within GATEWAY_BREAKER_WINDOW_SECONDS that opens its "
    "circuit (once GATEWAY_BREAKER_MIN_CALLS calls were made in the window)",
)
MIN_CALLS = config.Setting(
    "GATEWAY_BREAKER_MIN_CALLS",
    config.positive_int,
    default="20",
    help="calls within the window before the failure rate can open a circuit (a few calls prove nothing)",
)
WINDOW = config.Setting(
    "GATEWAY_BREAKER_WINDOW_SECONDS",
    _positive_float,
    default="10",
    help="sliding window over which the failure rate of calls to one service is measured",
)
COOL_DOWN = config.Setting(
    "GATEWAY_BREAKER_COOL_DOWN_SECONDS",
    _positive_float,
    default="5",
    help="how long an open circuit answers at once before one probe call is let through",
)


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    failure_rate: float = 0.5
    min_calls: int = 20
    window_seconds: float = 10.0
    cool_down_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> BreakerPolicy:
        return cls(
            failures=FAILURES.get(environ),
            failure_rate=FAILURE_RATE.get(environ),
            min_calls=MIN_CALLS.get(environ),
            window_seconds=WINDOW.get(environ),
            cool_down_seconds=COOL_DOWN.get(environ),
        )


class _Window:
    """Calls and failures over the last `seconds`, in fixed buckets: O(1) per call (at most
    WINDOW_BUCKETS buckets cleared when time has moved on), no per-call timestamps kept."""

    def __init__(self, seconds: float) -> None:
        self._width = seconds / WINDOW_BUCKETS
        self._calls = [0] * WINDOW_BUCKETS
        self._failures = [0] * WINDOW_BUCKETS
        self._head: int | None = None  # absolute index of the newest bucket
        self.calls = 0
        self.failures = 0

    def add(self, now: float, failed: bool) -> None:
        index = int(now // self._width)
        if index != self._head:  # most calls land in the newest bucket: nothing to move
            self._advance(index)
        slot = index % WINDOW_BUCKETS
        self._calls[slot] += 1
        self.calls += 1
        if failed:
            self._failures[slot] += 1
            self.failures += 1

    def clear(self) -> None:
        self._calls = [0] * WINDOW_BUCKETS
        self._failures = [0] * WINDOW_BUCKETS
        self._head = None
        self.calls = self.failures = 0

    def _advance(self, index: int) -> None:
        if self._head is None or index - self._head >= WINDOW_BUCKETS:
            self.clear()
        elif index > self._head:
            for expired in range(self._head + 1, index + 1):
                slot = expired % WINDOW_BUCKETS
                self.calls -= self._calls[slot]
                self.failures -= self._failures[slot]
                self._calls[slot] = self._failures[slot] = 0
        if self._head is None or index > self._head:
            self._head = index


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._consecutive = 0
        self._window = _Window(policy.window_seconds)
        self._opened_at = 0.0
        self._probe_started: float | None = None

    @property
    def state(self) -> State:
        return self._state

    def allow(self) -> bool:
        """May a call go out now? False while open; in half-open, True for one probe at a time."""
        if self._state is State.CLOSED:  # the hot path: one attribute read, no lock
            return True
        with self._lock:
            now = self._clock()
            if self._state is State.CLOSED:
                return True
            if self._state is State.OPEN:
                if now - self._opened_at < self.policy.cool_down_seconds:
                    return False
                self._state = State.HALF_OPEN
                self._probe_started = now
                return True
            # Half-open: one probe at a time; a probe that never reported (its caller died) is replaced
            # after another cool-down rather than keeping the circuit half-open forever.
            if self._probe_started is None or now - self._probe_started >= self.policy.cool_down_seconds:
                self._probe_started = now
                return True
            return False

    def record(self, code: grpc.StatusCode | None) -> None:
        """The outcome of a call that `allow()` let through: a failure code, any answer, or no verdict
        (None or CANCELLED: the caller gave up, which says nothing about the service)."""
        if code is None or code is grpc.StatusCode.CANCELLED:
            self.abandoned()
        elif code in FAILURE_CODES:
            self.failed()
        else:
            self.succeeded()

    def succeeded(self) -> None:
        with self._lock:
            self._consecutive = 0
            if self._state is State.CLOSED:
                self._window.add(self._clock(), failed=False)
            else:
                self._close()

    def failed(self) -> None:
        with self._lock:
            now = self._clock()
            if self._state is not State.CLOSED:
                self._open(now)  # the probe failed (or a call let through before the circuit opened)
                return
            self._consecutive += 1
            self._window.add(now, failed=True)
            window = self._window
            if self._consecutive >= self.policy.failures or (
                window.calls >= self.policy.min_calls
                and window.failures >= self.policy.failure_rate * window.calls
            ):
                self._open(now)

    def abandoned(self) -> None:
        with self._lock:
            if self._state is State.HALF_OPEN:
                self._probe_started = None  # let the next caller probe

    def _open(self, now: float) -> None:
        self._state = State.OPEN
        self._opened_at = now
        self._probe_started = None

    def _close(self) -> None:
        self._state = State.CLOSED
        self._consecutive = 0
        self._probe_started = None
        self._window.clear()


class CircuitBreakers:
    """One breaker per upstream service, made on first use. Breakers inherited through a fork are
    forgotten (`_forget_after_fork`): a worker learns about the services on its own, and a lock copied
    while another thread held it would never be released in the child."""

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}
        _ALL.add(self)

    def __getitem__(self, service: str) -> CircuitBreaker:
        breaker = self._breakers.get(service)
        if breaker is not None:
            return breaker
        with self._lock:
            return self._breakers.setdefault(service, CircuitBreaker(self.policy, self._clock))

    def forget(self) -> None:
        """Start over with every breaker closed (in a forked child: one thread, no lock to take)."""
        self._lock = threading.Lock()
        self._breakers = {}


_ALL: weakref.WeakSet[CircuitBreakers] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for breakers in list(_ALL):
        breakers.forget()


# A hook rather than a getpid() per lookup: no system call on the hot path.
os.register_at_fork(after_in_child=_forget_after_fork)
