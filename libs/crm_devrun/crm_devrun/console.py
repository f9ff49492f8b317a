"""What `make run` prints: short human lines (the default), or JSON lines for containers and CI.

Both are observers of the supervisor (crm_devrun.states.Observer) plus a way to print the supervisor's own
notes (the banner, "stopping ..."). They are called from several threads, so each line is written whole
under a lock and flushed at once (stdout is block-buffered when it is not a terminal).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TextIO

from crm_devrun.banner import Banner
from crm_devrun.paths import log_file, shown
from crm_devrun.states import State, StateChange
from crm_platform.config import Setting
from crm_platform.telemetry import JsonFormatter

FORMATS = ("text", "json")


def log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}")
    return value


LOG_FORMAT = Setting(
    "LOG_FORMAT",
    log_format,
    default="text",
    help="what make run prints: text (short lines; children's logs in CRM_DATA_DIR/logs) or json (every "
    "line JSON, children's included, for containers and CI)",
)

# The "service" of the supervisor's own JSON lines (the children's name themselves).
SUPERVISOR_SERVICE = "devrun"
SUPERVISOR_LOGGER = "crm_devrun.supervisor"


class Console(Protocol):
    def state_changed(self, change: StateChange) -> None: ...

    def output(self, process: str, line: bytes) -> None: ...

    def note(self, message: str, level: int = logging.INFO, *, detail: str = "", **fields: Any) -> None:
        """A message of the supervisor's own: `detail` is more for a person (log excerpts the JSON stream
        already holds), `fields` what a machine would want of it."""
        ...

    def banner(self, banner: Banner) -> None: ...


def make_console(fmt: str, *, log_dir: Path, stream: TextIO | None = None) -> Console:
    return JsonConsole(stream) if fmt == "json" else HumanConsole(log_dir, stream)


class _Writer:
    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        # sys.stdout is looked up at each write (not at construction) so pytest's capture sees it.
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(text)
            stream.flush()


class HumanConsole:
    """One short line per state change; the children's own output goes only to their log files."""

    def __init__(self, log_dir: Path, stream: TextIO | None = None, name_width: int = 20) -> None:
        self.log_dir = log_dir
        self.name_width = name_width
        self._out = _Writer(stream)

    def state_changed(self, change: StateChange) -> None:
        self.name_width = max(self.name_width, len(change.process))
        clock = time.strftime("%H:%M:%S", time.localtime(change.at))
        text = change.describe()
        if change.state is State.EXITED:
            # A crash is when one wants to read the log: say where it is.
            text += f"; see {shown(log_file(self.log_dir, change.process))}"
        self._out.write(f"{clock}  {change.process:<{self.name_width}}  {text}\n")

    def output(self, process: str, line: bytes) -> None:
        pass  # in the log file already (the supervisor writes it); a terminal full of JSON helps no one

    def note(self, message: str, level: int = logging.INFO, *, detail: str = "", **fields: Any) -> None:
        self._out.write(message + "\n" + (detail + "\n" if detail else ""))

    def banner(self, banner: Banner) -> None:
        self._out.write(banner.text() + "\n")


class JsonConsole:
    """Every line on stdout is a JSON object: the children's lines as they print them, the supervisor's
    in the children's format (crm_platform.telemetry.JsonFormatter), so one log pipeline reads both."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = _Writer(stream)

    def state_changed(self, change: StateChange) -> None:
        fields: dict[str, Any] = {"process_name": change.process, "state": change.state.value}
        if change.pid is not None:
            fields["pid"] = change.pid
        if change.returncode is not None:
            fields["exit_code"] = change.returncode
            if change.signal_name:
                fields["signal"] = change.signal_name
        if change.delay is not None:
            fields["restart_in_s"] = change.delay
        level = logging.WARNING if change.abnormal else logging.INFO
        self._emit(
            SUPERVISOR_SERVICE,
            SUPERVISOR_LOGGER,
            level,
            f"{change.process} {change.describe()}",
            change.at,
            fields,
        )

    def output(self, process: str, line: bytes) -> None:
        text = line.decode(errors="replace").rstrip("\r\n")
        if _is_json_object(text):
            self._out.write(text + "\n")
        elif text.strip():
            # Not every child logs JSON (gunicorn's own lines, a traceback before logging is set up):
            # wrap those, named after the process, so that every line stays parseable.
            self._emit(process, "output", logging.INFO, text, time.time(), {})

    def note(self, message: str, level: int = logging.INFO, *, detail: str = "", **fields: Any) -> None:
        self._emit(SUPERVISOR_SERVICE, SUPERVISOR_LOGGER, level, message, time.time(), fields)

    def banner(self, banner: Banner) -> None:
        self.note("CRM platform is up", **banner.fields())

    def _emit(
        self, service: str, logger: str, level: int, message: str, at: float, fields: Mapping[str, Any]
    ) -> None:
        record = logging.makeLogRecord(
            {
                **fields,
                "name": logger,
                "levelno": level,
                "levelname": logging.getLevelName(level),
                "msg": message,
                "created": at,
            }
        )
        self._out.write(_formatter(service).format(record) + "\n")


@lru_cache
def _formatter(service: str) -> JsonFormatter:
    return JsonFormatter(service)


def _is_json_object(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
