"""What the import tests share: the worker's import loop, in a thread of the test or in a process of its
own (to kill outright)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from contacts.imports import runner
from crm_platform.service import Runtime

# The worker's import loop, as a process of its own: `python -c WORKER <database url>`.
WORKER = """
import sys, threading
from contacts.main import DEFINITION
from contacts.imports.runner import run_imports
from crm_platform.service import open_runtime
run_imports(open_runtime(DEFINITION, sys.argv[1]), threading.Event())
"""


def worker_process(database_url: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, database_url], env=env)


@contextmanager
def import_loop(runtime: Runtime) -> Iterator[None]:
    """The worker's import loop in a thread, until the block ends."""
    stopping = threading.Event()
    thread = threading.Thread(target=runner.run_imports, args=(runtime, stopping), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join(10)
