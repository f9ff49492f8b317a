"""The supervisor with real child processes (a few lines of Python each) and the consoles of `make run`:
children's output goes to their log files, the terminal gets one line per state change, or JSON lines
with LOG_FORMAT=json."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from crm_devrun.console import LOG_FORMAT, HumanConsole, JsonConsole, make_console
from crm_devrun.probes import wait_until
from crm_devrun.states import Observer, State, StateChange
from crm_devrun.supervisor import ProcessSpec, Supervisor

from crm_platform.config import ConfigError

# HH:MM:SS, the process name padded, what happened.
HUMAN_LINE = re.compile(r"^\d\d:\d\d:\d\d  (?P<name>\S+) +(?P<what>.+)$")


def python(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", code]


def chatty(name: str, lines: Sequence[str], *, exit_code: int | None = None) -> ProcessSpec:
    """Prints `lines` (alternately on stdout and stderr), then exits with `exit_code`, or sleeps on."""
    code = "import sys, time\n"
    for i, line in enumerate(lines):
        code += f"print({line!r}, file=sys.{'stdout' if i % 2 == 0 else 'stderr'}, flush=True)\n"
    code += f"sys.exit({exit_code})\n" if exit_code is not None else "time.sleep(60)\n"
    return ProcessSpec(name, python(code))


class Recorder:
    """An observer that keeps what it hears, to wait on it."""

    def __init__(self, then: Observer | None = None) -> None:
        self.changes: list[StateChange] = []
        self.then = then

    def state_changed(self, change: StateChange) -> None:
        self.changes.append(change)
        if self.then:
            self.then.state_changed(change)

    def output(self, process: str, line: bytes) -> None:
        if self.then:
            self.then.output(process, line)

    def states(self, name: str) -> list[State]:
        return [c.state for c in self.changes if c.process == name]


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    """Supervisors a test starts; stopped whatever happens, so no child outlives its test."""
    started: list[Supervisor] = []
    yield started
    for supervisor in started:
        supervisor.stop()


def run(
    supervisors: list[Supervisor], log_dir: Path, specs: list[ProcessSpec], observer: Observer, **kw: bool
) -> Supervisor:
    env = {"PATH": "/usr/bin:/bin"}
    supervisor = Supervisor(specs, log_dir=log_dir, base_env=env, observer=observer, **kw)
    supervisors.append(supervisor)
    return supervisor.start()


def human_lines(text: str) -> list[tuple[str, str]]:
    return [(m["name"], m["what"]) for m in map(HUMAN_LINE.match, text.splitlines()) if m]


def test_a_childs_output_lands_in_its_log_file_not_on_the_terminal(
    tmp_path: Path, supervisors: list[Supervisor], capfd: pytest.CaptureFixture[str]
) -> None:
    log_dir = tmp_path / "var" / "logs"  # not there yet: the supervisor creates it
    recorder = Recorder(HumanConsole(log_dir))
    supervisor = run(supervisors, log_dir, [chatty("talker", ['{"message": "out"}', "err-line"])], recorder)
    log = log_dir / "talker.log"
    wait_until(lambda: log.exists() and "err-line" in log.read_text(), timeout=10, what="the log file")
    supervisor.stop()

    assert log.read_text().splitlines() == ['{"message": "out"}', "err-line"]
    terminal = capfd.readouterr()
    assert "out" not in terminal.out and "err-line" not in terminal.out + terminal.err
    pid = supervisor["talker"].process.pid
    assert human_lines(terminal.out) == [("talker", f"started (pid {pid})"), ("talker", "stopped")]


def test_log_files_are_appended_to_across_runs(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    recorder = Recorder()
    run(supervisors, tmp_path, [chatty("once", ["first"], exit_code=0)], recorder, restart=False)
    wait_until(lambda: State.EXITED in recorder.states("once"), timeout=10, what="the first run's end")
    run(supervisors, tmp_path, [chatty("once", ["second"], exit_code=0)], recorder, restart=False)
    wait_until(lambda: recorder.states("once").count(State.EXITED) == 2, timeout=10, what="the second")
    assert (tmp_path / "once.log").read_text().splitlines() == ["first", "second"]


def test_a_line_is_printed_when_a_child_exits_and_it_is_restarted(
    tmp_path: Path, supervisors: list[Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(HumanConsole(tmp_path))
    supervisor = run(supervisors, tmp_path, [chatty("crasher", ["boom"], exit_code=3)], recorder)
    wait_until(lambda: supervisor["crasher"].restarts >= 1, timeout=10, what="a restart")
    supervisor.stop()

    lines = [what for name, what in human_lines(capsys.readouterr().out) if name == "crasher"]
    assert lines[0].startswith("started (pid ")
    assert lines[1] == f"exited (code 3); see {tmp_path / 'crasher.log'}"
    assert lines[2] == "restarting in 0.5 s"
    assert lines[3].startswith("started (pid ")


def test_each_process_has_its_own_back_off(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    recorder = Recorder()
    specs = [chatty("crasher", [], exit_code=1), chatty("steady", ["up"])]
    supervisor = run(supervisors, tmp_path, specs, recorder)
    wait_until(lambda: supervisor["crasher"].restarts >= 2, timeout=10, what="two restarts")
    assert supervisor["steady"].alive() and supervisor["steady"].restarts == 0
    delays = [c.delay for c in recorder.changes if c.state is State.RESTARTING]
    assert delays[:2] == [0.5, 1.0]


def test_prepare_runs_before_every_start(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    """What the platform uses to clear a worker's heartbeat, so a restart is not "ready" on the old one."""
    prepared: list[bool] = []
    spec = ProcessSpec("crasher", python("raise SystemExit(1)"), prepare=lambda: prepared.append(True))
    supervisor = run(supervisors, tmp_path, [spec], Recorder())
    wait_until(lambda: len(prepared) >= 2, timeout=10, what="a restart")
    supervisor.stop()
    assert len(prepared) == 1 + supervisor["crasher"].restarts


def test_a_signal_death_and_readiness_are_reported(
    tmp_path: Path, supervisors: list[Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "serving"
    code = f"import pathlib, time\ntime.sleep(0.3)\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)\n"
    spec = ProcessSpec("server", python(code), ready=marker.exists)
    recorder = Recorder(HumanConsole(tmp_path))
    supervisor = run(supervisors, tmp_path, [spec], recorder, restart=False)
    supervisor.wait_ready(10)
    supervisor["server"].kill()

    lines = [what for _, what in human_lines(capsys.readouterr().out)]
    assert lines[1:] == ["ready", "stopped (killed by SIGKILL)"]


def test_log_format_json_sends_json(
    tmp_path: Path, supervisors: list[Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    console = make_console(LOG_FORMAT.get({"LOG_FORMAT": "json"}), log_dir=tmp_path)
    assert isinstance(console, JsonConsole)
    child_json = '{"time": "t", "level": "INFO", "service": "talker", "message": "hello"}'
    recorder = Recorder(console)
    spec = chatty("talker", [child_json, "a plain line"], exit_code=2)
    supervisor = run(supervisors, tmp_path, [spec], recorder, restart=False)
    wait_until(lambda: State.EXITED in recorder.states("talker"), timeout=10, what="the exit")
    supervisor.stop()

    out = capsys.readouterr().out
    lines = out.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert child_json in lines  # the child's own JSON line, as it wrote it
    plain = next(e for e in entries if e["message"] == "a plain line")
    assert plain["service"] == "talker"
    states = [e for e in entries if e.get("service") == "devrun"]
    assert [(e["process_name"], e["state"]) for e in states] == [("talker", "started"), ("talker", "exited")]
    assert states[1]["exit_code"] == 2 and states[1]["level"] == "WARNING"
    assert {"time", "level", "logger", "message"} <= states[0].keys()  # crm_platform.telemetry's format
    # The log file has the child's lines either way.
    assert (tmp_path / "talker.log").read_text().splitlines() == [child_json, "a plain line"]


def test_log_format_defaults_to_text_and_rejects_unknown_values(tmp_path: Path) -> None:
    assert isinstance(make_console(LOG_FORMAT.get({}), log_dir=tmp_path), HumanConsole)
    assert isinstance(make_console(LOG_FORMAT.get({"LOG_FORMAT": "TEXT"}), log_dir=tmp_path), HumanConsole)
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        LOG_FORMAT.get({"LOG_FORMAT": "xml"})


def test_human_lines_are_aligned_and_short() -> None:
    out = io.StringIO()
    console = HumanConsole(Path("/nowhere"), out)
    console.state_changed(StateChange("gateway", State.STARTED, pid=42, at=0))
    console.state_changed(StateChange("notifications-worker", State.RESTARTING, delay=2.0, at=0))
    first, second = out.getvalue().splitlines()
    assert first.index("started") == second.index("restarting")
    assert second.endswith("notifications-worker  restarting in 2 s")
