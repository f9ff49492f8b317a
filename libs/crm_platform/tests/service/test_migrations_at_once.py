"""Processes of one service starting together (its `serve` and its `worker`) each migrate the database
on start: on a fresh SQLite database they must not both create its tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

# A real service's migrations (contacts: many revisions, indexes created by several of them), run by
# separate processes as the launcher runs them.
MIGRATE = """
import sys
from pathlib import Path
from sqlalchemy import create_engine
import contacts
from crm_platform.migrations import upgrade
sys.stdin.read()  # start together: the parent closes stdin once every process is up
upgrade(create_engine(sys.argv[1]), Path(contacts.__file__).resolve().parents[1] / "migrations")
"""


def test_processes_migrating_one_fresh_sqlite_database_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'contacts.db'}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in processes:
        process.stdin.close()  # type: ignore[union-attr]
    failures = [p.stderr.read()[-2000:] for p in processes if p.wait(120) != 0]  # type: ignore[union-attr]
    assert not failures, failures[0]
    assert "contacts" in inspect(create_engine(url)).get_table_names()
