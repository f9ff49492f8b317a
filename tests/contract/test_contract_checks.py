"""scripts/check_contracts.py catches what would break clients: each test builds a throwaway git repository
holding the real contracts and protos/buf.yaml plus a probe contract, changes the probe, and checks."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "protos/crm/probe/v1/probe.proto"
PROBE_SOURCE = """\
syntax = "proto3";

package crm.probe.v1;

import "buf/validate/validate.proto";
import "google/api/annotations.proto";
import "google/protobuf/timestamp.proto";

// A contract for the tests to change.
service ProbeService {
  rpc GetProbe(GetProbeRequest) returns (Probe) {
    option (google.api.http) = {get: "/api/v1/probes/{id}"};
  }
}

message Probe {
  string id = 1;
  string name = 2;
  google.protobuf.Timestamp created_at = 3;
}

message GetProbeRequest {
  string id = 1 [(buf.validate.field).string.min_len = 1];
}
"""


@pytest.fixture(scope="module")
def cc() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        yield importlib.import_module("check_contracts")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own git configuration (signing, hooks, default branch) stays out of the test repos.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Contract Tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """First the contracts (no buf.yaml: they predate the check), then a commit adding protos/buf.yaml."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "protos" / "crm", repo / "protos" / "crm")
    (repo / PROBE).parent.mkdir(parents=True)
    (repo / PROBE).write_text(PROBE_SOURCE)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "contracts")
    shutil.copy(ROOT / "protos" / "buf.yaml", repo / "protos" / "buf.yaml")
    commit(repo, "buf config")
    return repo


def baseline_commit(repo: Path) -> str:
    return git(repo, "log", "--format=%H", "-1", "--", "protos/crm")


def test_unchanged_contracts_have_no_baseline_and_pass(cc: ModuleType, repo: Path) -> None:
    result = cc.check(repo)
    assert result.ok, result.lint_errors
    assert result.baseline.commit is None
    assert "no earlier version" in result.verdict()


def test_added_field_passes(cc: ModuleType, repo: Path) -> None:
    before = baseline_commit(repo)
    edit(
        repo,
        PROBE,
        "  google.protobuf.Timestamp created_at = 3;\n",
        "  google.protobuf.Timestamp created_at = 3;\n  string nickname = 4;\n",
    )
    result = cc.check(repo)
    assert result.baseline.commit == before
    assert result.ok, result.lint_errors + result.breaking_errors
    assert "no breaking change" in result.verdict()


def test_removed_field_fails(cc: ModuleType, repo: Path) -> None:
    edit(repo, PROBE, "  string name = 2;\n", "")
    result = cc.check(repo)
    assert not result.ok
    assert not result.lint_errors
    assert any('field "2" with name "name"' in line and "deleted" in line for line in result.breaking_errors)
    assert result.verdict().startswith("contracts FAILED")


def test_renumbered_field_fails(cc: ModuleType, repo: Path) -> None:
    edit(repo, PROBE, "string name = 2;", "string name = 4;")
    result = cc.check(repo)
    assert not result.ok
    assert any('field "2" with name "name"' in line for line in result.breaking_errors)


def test_new_major_version_beside_the_old_passes(cc: ModuleType, repo: Path) -> None:
    """crm.probe.v2 may drop and renumber fields: it is a new package, and v1 stays as it was."""
    before = baseline_commit(repo)
    v2 = repo / "protos/crm/probe/v2/probe.proto"
    v2.parent.mkdir()
    v2.write_text(
        PROBE_SOURCE.replace("crm.probe.v1", "crm.probe.v2")
        .replace("  string name = 2;\n", "")
        .replace("created_at = 3", "created_at = 2")
    )
    untracked = cc.check(repo)  # a new file not yet added to git still counts as a change
    assert untracked.baseline.commit == before
    assert untracked.ok, untracked.lint_errors + untracked.breaking_errors
    commit(repo, "probe v2")
    committed = cc.check(repo)  # committed, as CI sees it: checked against the version before
    assert committed.baseline.commit == before
    assert committed.ok, committed.lint_errors + committed.breaking_errors


def test_deleting_a_package_fails(cc: ModuleType, repo: Path) -> None:
    (repo / PROBE).unlink()
    result = cc.check(repo)
    assert any("crm/probe/v1/probe.proto" in line and "deleted" in line for line in result.breaking_errors)


def test_lint_violation_fails(cc: ModuleType, repo: Path) -> None:
    edit(repo, PROBE, "  string name = 2;\n", "  string name = 2;\n  string nickName = 4;\n")
    result = cc.check(repo)
    assert not result.ok
    assert any("nickName" in line and "lower_snake_case" in line for line in result.lint_errors)
    assert not result.breaking_errors
    assert "buf lint: 1 problem(s)" in result.verdict()


def test_baseline_is_the_previous_version_of_the_contracts(cc: ModuleType, repo: Path) -> None:
    """A breaking commit stays flagged on a clean checkout, also after later commits that leave protos/crm."""
    before = baseline_commit(repo)
    edit(repo, PROBE, "  string name = 2;\n", "")
    commit(repo, "drop name")
    (repo / "README.md").write_text("unrelated\n")
    commit(repo, "unrelated")
    result = cc.check(repo)
    assert result.baseline.commit == before
    assert any('with name "name"' in line for line in result.breaking_errors)


def test_shallow_clone_skips_only_the_breaking_check(cc: ModuleType, repo: Path, tmp_path: Path) -> None:
    edit(repo, PROBE, "  string name = 2;\n", "")
    commit(repo, "drop name")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    result = cc.check(clone)
    assert result.ok
    assert result.baseline.commit is None
    assert "skipped (shallow clone" in result.verdict()
    edit(clone, PROBE, "  string id = 1;\n", "  string id = 1;\n  string nickName = 4;\n")
    assert cc.check(clone).lint_errors  # lint still runs


def test_command_line_exit_status_and_verdict(repo: Path) -> None:
    script = [sys.executable, str(ROOT / "scripts" / "check_contracts.py"), "--root", str(repo)]
    passing = subprocess.run(script, capture_output=True, text=True, check=False)
    assert passing.returncode == 0, passing.stderr
    assert passing.stdout.strip().startswith("contracts OK")
    edit(repo, PROBE, "string name = 2;", "string name = 4;")
    failing = subprocess.run(script, capture_output=True, text=True, check=False)
    assert failing.returncode == 1
    assert 'Previously present field "2" with name "name"' in failing.stderr
    assert failing.stderr.strip().splitlines()[-1].startswith("contracts FAILED")
