"""pytest plugin: real RabbitMQ vhosts and real databases (SQLite and PostgreSQL), one per test.

Registered for the whole repository by the root conftest.py. Tests that need a server the machine does
not have are skipped with a message saying which one; on the CI machine both answer, so nothing skips.
"""

from __future__ import annotations

import functools
import secrets
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable
from crm_platform.testing.rabbit import amqp_url_for_vhost, create_vhosts, delete_vhost, rabbitmq_reachable


@functools.cache
def _rabbitmq_up() -> bool:
    return rabbitmq_reachable()


@functools.cache
def _postgres_up() -> bool:
    return postgres_reachable()


class _Vhosts:
    """Hands out fresh vhosts and deletes used ones in the background.

    Every `rabbitmqctl` call boots an Erlang VM (~0.5 s), more than the work it does, so vhosts are
    created in growing batches (1, 2, 3, then 4 at a time: a run of one test creates one, a long run
    creates few batches) and deleted while the next tests run.
    """

    MAX_BATCH = 4

    def __init__(self) -> None:
        self._ready: list[str] = []
        self._handed_out = 0
        self._reaper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vhost-reaper")
        self._deletions: list[Future[None]] = []

    def take(self) -> str:
        if not self._ready:
            batch = min(self.MAX_BATCH, self._handed_out + 1)
            names = [f"crm_test_{secrets.token_hex(6)}" for _ in range(batch)]
            create_vhosts(names)
            self._ready.extend(names)
        self._handed_out += 1
        return self._ready.pop()

    def release(self, vhost: str) -> None:
        self._deletions.append(self._reaper.submit(delete_vhost, vhost))

    def close(self) -> None:
        for vhost in self._ready:
            self.release(vhost)
        self._ready.clear()
        self._reaper.shutdown(wait=True)
        for future in self._deletions:
            if future.exception() is not None:
                warnings.warn(f"could not delete a test vhost: {future.exception()}", stacklevel=1)


@pytest.fixture(scope="session")
def _vhosts() -> Iterator[_Vhosts]:
    vhosts = _Vhosts()
    yield vhosts
    vhosts.close()


def _fresh_vhost(vhosts: _Vhosts) -> Iterator[str]:
    if not _rabbitmq_up():
        pytest.skip("RabbitMQ is not reachable at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/)")
    vhost = vhosts.take()
    try:
        yield amqp_url_for_vhost(vhost)
    finally:
        vhosts.release(vhost)


@pytest.fixture
def amqp_url(_vhosts: _Vhosts) -> Iterator[str]:
    """URL of a fresh RabbitMQ vhost, deleted (with its exchanges and queues) after the test."""
    yield from _fresh_vhost(_vhosts)


@pytest.fixture(scope="module")
def amqp_url_module(_vhosts: _Vhosts) -> Iterator[str]:
    """Like `amqp_url`, shared by the tests of one module."""
    yield from _fresh_vhost(_vhosts)


@pytest.fixture
def postgres_database() -> Iterator[Callable[[str], str]]:
    """Factory: `postgres_database(prefix)` creates a fresh database and returns its URL; all are
    dropped after the test. For tests that need several databases (one per service)."""
    if not _postgres_up():
        pytest.skip("PostgreSQL is not reachable at CRM_TEST_POSTGRES_URL")
    created: list[str] = []

    def make(prefix: str) -> str:
        url = create_database(prefix)
        created.append(url)
        return url

    try:
        yield make
    finally:
        for url in created:
            drop_database(url)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, postgres_database: Callable[[str], str]) -> str:
    """URL of a fresh PostgreSQL database, dropped after the test."""
    return postgres_database(request.node.name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind we support: a SQLite file under tmp_path, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Every span finished in this process during the test, kept in memory."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        # The global provider can be set once per process; whoever is first installs an SDK one.
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    processor = SimpleSpanProcessor(memory)
    provider.add_span_processor(processor)
    yield memory
    processor.shutdown()  # stays registered (no API removes it) but exports nothing more
