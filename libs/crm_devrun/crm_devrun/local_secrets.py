"""Secrets `make run` generates once and keeps under CRM_DATA_DIR, so a restart keeps tokens and the admin
login valid."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_path(data_dir: Path, name: str) -> Path:
    return data_dir / "secrets" / name


def local_secret(data_dir: Path, name: str, nbytes: int) -> tuple[str, bool]:
    """A secret kept in a private file (mode 0600): (value, whether it was just created)."""
    path = secret_path(data_dir, name)
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, True
