"""Where a supervised process's log lives, and how to show a path to a person."""

from __future__ import annotations

from pathlib import Path


def log_file(log_dir: Path, process: str) -> Path:
    """One file per process name, appended to across restarts and runs."""
    return log_dir / f"{process}.log"


def shown(path: Path) -> str:
    """A path as short as it can be said unambiguously: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
