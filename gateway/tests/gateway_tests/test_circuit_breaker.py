"""The per-service circuit breaker on a fake clock: when it opens, how it probes, what counts as failure."""

from __future__ import annotations

import os
import threading

import grpc
import pytest

from crm_platform import config
from gateway.circuit_breaker import BreakerPolicy, CircuitBreaker, CircuitBreakers, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


POLICY = BreakerPolicy(failures=3, failure_rate=0.5, min_calls=10, window_seconds=10, cool_down_seconds=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(POLICY, clock)


def fail(breaker: CircuitBreaker, times: int, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record(code)


def test_opens_after_consecutive_failures_and_answers_at_once(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state is State.CLOSED and breaker.allow()
    fail(breaker, 1, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert breaker.state is State.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_consecutive_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record(grpc.StatusCode.OK)
    fail(breaker, 2)
    assert breaker.state is State.CLOSED


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
    ],
)
def test_answers_from_a_live_service_are_not_failures(breaker: CircuitBreaker, code: grpc.StatusCode) -> None:
    fail(breaker, 10, code)
    assert breaker.state is State.CLOSED


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    ],
)
def test_infrastructure_errors_are_failures(breaker: CircuitBreaker, code: grpc.StatusCode) -> None:
    fail(breaker, 3, code)
    assert breaker.state is State.OPEN


def test_cancelled_calls_are_no_verdict(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    fail(breaker, 5, grpc.StatusCode.CANCELLED)
    fail(breaker, 1)
    assert breaker.state is State.OPEN  # the two failures before and the one after are consecutive


def test_opens_on_failure_rate_within_the_window(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Alternating answers never make 3 consecutive failures, but half of the calls fail.
    for _ in range(4):
        fail(breaker, 1, grpc.StatusCode.OK)
        fail(breaker, 1)
    assert breaker.state is State.CLOSED  # 8 calls: below min_calls
    fail(breaker, 1, grpc.StatusCode.OK)
    fail(breaker, 1)
    assert breaker.state is State.OPEN  # 10 calls, 5 failed


def test_old_calls_leave_the_window(breaker: CircuitBreaker, clock: FakeClock) -> None:
    for _ in range(4):
        fail(breaker, 1, grpc.StatusCode.OK)
        fail(breaker, 1)
    clock.advance(11)  # those 8 calls are out of the window now
    for _ in range(4):
        fail(breaker, 1, grpc.StatusCode.OK)
        fail(breaker, 1)
    assert breaker.state is State.CLOSED


def test_half_open_after_cool_down_lets_one_probe_through(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(4.9)
    assert not breaker.allow()
    clock.advance(0.2)
    assert breaker.allow()  # the probe
    assert breaker.state is State.HALF_OPEN
    assert not breaker.allow()  # only one at a time
    breaker.record(grpc.StatusCode.OK)
    assert breaker.state is State.CLOSED
    assert breaker.allow() and breaker.allow()


def test_a_failed_probe_opens_for_another_cool_down(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(5)
    assert breaker.allow()
    breaker.record(grpc.StatusCode.DEADLINE_EXCEEDED)
    assert breaker.state is State.OPEN
    clock.advance(4)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_an_abandoned_probe_lets_the_next_caller_probe(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(5)
    assert breaker.allow()
    breaker.record(grpc.StatusCode.CANCELLED)
    assert breaker.allow()


def test_a_probe_that_never_reports_is_replaced_after_a_cool_down(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.advance(5)
    assert breaker.allow()
    clock.advance(1)
    assert not breaker.allow()
    clock.advance(5)
    assert breaker.allow()


def test_many_threads_see_one_consistent_state(clock: FakeClock) -> None:
    breaker = CircuitBreaker(BreakerPolicy(failures=1600, min_calls=10**6), clock)
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(200):
            breaker.allow()
            breaker.record(grpc.StatusCode.UNAVAILABLE)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly 1,600 failures open it: a lost update would leave it closed.
    assert breaker.state is State.OPEN


def test_one_breaker_per_service(clock: FakeClock) -> None:
    breakers = CircuitBreakers(POLICY, clock)
    fail(breakers["sales"], 3)
    assert breakers["sales"].state is State.OPEN
    assert breakers["support"].state is State.CLOSED
    assert breakers["sales"] is breakers["sales"]


def test_a_forked_worker_starts_with_closed_breakers(clock: FakeClock) -> None:
    breakers = CircuitBreakers(POLICY, clock)
    fail(breakers["sales"], 3)
    read, write = os.pipe()
    child = os.fork()  # as gunicorn forks its workers
    if child == 0:
        os.write(write, breakers["sales"].state.value.encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 64) == b"closed"
    assert breakers["sales"].state is State.OPEN  # the parent keeps what it learnt
    os.close(read)
    os.close(write)


def test_policy_from_the_environment() -> None:
    policy = BreakerPolicy.from_env(
        {
            "GATEWAY_BREAKER_FAILURES": "7",
            "GATEWAY_BREAKER_FAILURE_RATE": "0.25",
            "GATEWAY_BREAKER_MIN_CALLS": "40",
            "GATEWAY_BREAKER_WINDOW_SECONDS": "30",
            "GATEWAY_BREAKER_COOL_DOWN_SECONDS": "2.5",
        }
    )
    assert policy == BreakerPolicy(7, 0.25, 40, 30.0, 2.5)
    assert BreakerPolicy.from_env({}) == BreakerPolicy()
    with pytest.raises(config.ConfigError, match="GATEWAY_BREAKER_FAILURE_RATE"):
        BreakerPolicy.from_env({"GATEWAY_BREAKER_FAILURE_RATE": "1.5"})
