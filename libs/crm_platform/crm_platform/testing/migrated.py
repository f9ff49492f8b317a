"""A service's runtime over a fresh test database, filled from a template migrated once per process.

Running a service's migrations before each test cost more than most tests (contacts: ~0.1 s on SQLite,
0.3-0.5 s on PostgreSQL), and hundreds of tests start from an empty database. The first test of a process
that asks migrates a template exactly as a service start migrates its database (`open_runtime`); every
later one gets a copy of it (SQLite's online backup; PostgreSQL's `CREATE DATABASE ... TEMPLATE`), then
`open_runtime` as usual, which finds it at the head revision. A database that already holds tables is
never replaced: it is opened and migrated as it is.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import threading
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from crm_platform.service import Runtime, ServiceDefinition, open_runtime
from crm_platform.testing.postgres import create_database, drop_database, has_tables, replace_with_copy

_lock = threading.Lock()
# (service, backend) -> the template's database: a SQLite file's path, or a PostgreSQL database's name.
_templates: dict[tuple[str, str], str] = {}


def open_migrated_runtime(definition: ServiceDefinition, database_url: str) -> Runtime:
    """`open_runtime(definition, database_url)`, an empty database first made a copy of the template."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and _is_empty_file(path := url.database or ""):
        _copy_sqlite(_template(definition, backend), path)
    elif backend == "postgresql" and not has_tables(database_url):
        replace_with_copy(database_url, _template(definition, backend))
    return open_runtime(definition, database_url)


def _template(definition: ServiceDefinition, backend: str) -> str:
    with _lock:
        if (definition.name, backend) not in _templates:
            _templates[(definition.name, backend)] = _make_template(definition, backend)
        return _templates[(definition.name, backend)]


def _make_template(definition: ServiceDefinition, backend: str) -> str:
    if backend == "sqlite":
        directory = tempfile.mkdtemp(prefix=f"crm-template-{definition.name}-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        url = f"sqlite:///{Path(directory) / 'template.db'}"
    else:
        url = create_database(f"template_{definition.name}")
        atexit.register(drop_database, url)
    # Disposed: nothing stays connected (PostgreSQL copies only a template nobody is connected to).
    open_runtime(definition, url).engine.dispose()
    return str(make_url(url).database)


def _is_empty_file(path: str) -> bool:
    if not path or path == ":memory:" or path.startswith("file:"):
        return False  # in memory, or a URI with options: opened as it is
    return not Path(path).exists() or Path(path).stat().st_size == 0


def _copy_sqlite(template: str, path: str) -> None:
    # The backup API copies a consistent image, whatever the template's write-ahead log still holds.
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
