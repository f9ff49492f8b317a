"""One database per backend per test module: CREATE DATABASE costs PostgreSQL about a second, and the
listing tests only need a table they can refill."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable


@functools.cache
def _postgres_up() -> bool:
    return postgres_reachable()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database of each kind we support, shared by the tests of one module."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("listing") / "listing.db"
        yield f"sqlite:///{path}"
        return
    if not _postgres_up():
        pytest.skip("PostgreSQL is not reachable at CRM_TEST_POSTGRES_URL")
    url = create_database(f"listing_{request.module.__name__.rsplit('.', 1)[-1]}")
    try:
        yield url
    finally:
        drop_database(url)
