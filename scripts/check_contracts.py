"""Check protos/crm with Buf: `buf lint`, and `buf breaking` against their previous version.

Both run on images, never on the sources, so Buf needs no network and no `deps`: gen_protos.py compiles the
working tree's contracts (imports from the installed packages) into a FileDescriptorSet, and `buf build
--path crm` turns it into an image whose google/ and buf/ files are marked as imports, which lint skips and
`buf breaking --exclude-imports` leaves out. The rules are the working tree's `protos/buf.yaml`.

The baseline is the previous version of the contracts: the newest commit of HEAD's history whose protos/crm
differs from the working tree's (so on a clean checkout, the commit before the last contracts change). Its
protos/crm is compiled the same way; it needs no buf.yaml of its own. Without such a commit (a shallow
clone, or the contracts' first version) only the breaking check is skipped, and the verdict says so.

Usage: python scripts/check_contracts.py [--root DIR] [--against REV]
Exit status: 0 when lint and breaking pass (or breaking is skipped), 1 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gen_protos

CONTRACTS = "protos/crm"
CONFIG = Path("protos") / "buf.yaml"


@dataclass
class Baseline:
    """The commit to check against, or why there is none (then `commit` is None)."""

    commit: str | None
    reason: str = ""


@dataclass
class Result:
    lint_errors: list[str] = field(default_factory=list)
    baseline: Baseline = field(default_factory=lambda: Baseline(None))
    breaking_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lint_errors and not self.breaking_errors

    def verdict(self) -> str:
        lint = f"buf lint: {len(self.lint_errors)} problem(s)" if self.lint_errors else "buf lint: clean"
        if self.baseline.commit is None:
            breaking = f"buf breaking: skipped ({self.baseline.reason})"
        else:
            against = f"against {self.baseline.commit[:12]}"
            if self.breaking_errors:
                breaking = f"buf breaking {against}: {len(self.breaking_errors)} breaking change(s)"
            else:
                breaking = f"buf breaking {against}: no breaking change"
        return f"contracts {'OK' if self.ok else 'FAILED'}: {lint}; {breaking}"


def buf_executable() -> str:
    """The venv's buf (from the buf-bin wheel), next to this interpreter; else whatever is on PATH."""
    beside = Path(sys.executable).parent / "buf"
    found = str(beside) if beside.exists() else shutil.which("buf")
    if not found:
        raise SystemExit("buf not found: install the dev dependencies (`make setup`)")
    return found


def run_buf(args: list[str]) -> list[str]:
    """Runs buf; returns its messages (none when it passes)."""
    proc = subprocess.run([buf_executable(), *args], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return []
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return lines or [f"buf {args[0]} exited with status {proc.returncode}"]


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=check)


def build_image(proto_root: Path, out: Path, what: str) -> None:
    """A Buf image of the contracts under `proto_root/crm`; everything else in it is marked as an import."""
    descriptor_set = out.with_suffix(".fds.binpb")
    try:
        gen_protos.write_descriptor_set(descriptor_set, proto_root)
    except SystemExit as exc:  # protoc has printed why
        raise SystemExit(f"{exc}: cannot compile {what}") from None
    problems = run_buf(["build", str(descriptor_set), "--path", "crm", "-o", str(out)])
    if problems:
        raise SystemExit("\n  ".join([f"buf build of {what} failed:", *problems]))


def find_baseline(root: Path) -> Baseline:
    """The newest commit of HEAD's history whose protos/crm differs from the working tree's."""
    if shutil.which("git") is None:
        return Baseline(None, "git not installed")
    if git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0:
        return Baseline(None, f"{root} is not a git checkout with commits")
    # New .proto files not yet added make the working tree differ from every commit; git diff misses them.
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", f"{CONTRACTS}/*.proto").stdout
    for commit in git(root, "log", "--format=%H", "--", CONTRACTS).stdout.split():
        diff = git(root, "diff", "--quiet", commit, "--", CONTRACTS, check=False)
        if diff.returncode not in (0, 1):
            raise SystemExit(f"git diff {commit} failed: {diff.stderr.strip()}")
        if untracked.strip() or diff.returncode == 1:
            return Baseline(commit)
    shallow = git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    if shallow:
        return Baseline(None, "shallow clone: its history has no earlier version of protos/crm")
    return Baseline(None, "no earlier version of protos/crm in HEAD's history")


def resolve(root: Path, rev: str) -> Baseline:
    proc = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise SystemExit(f"--against {rev}: no such commit")
    return Baseline(proc.stdout.strip())


def extract_contracts(root: Path, commit: str, dest: Path) -> Path:
    """Writes the commit's protos/crm under `dest`; returns the proto root (dest/protos)."""
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit, "--", CONTRACTS],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {commit} {CONTRACTS} failed: {archive.stderr.decode().strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "protos"


def check(root: Path, against: str | None = None) -> Result:
    """Lints the working tree's contracts under `root` and checks them against their previous version."""
    config = root / CONFIG
    if not config.is_file():
        raise SystemExit(f"{config} not found: it holds the lint and breaking rules")
    result = Result()
    with tempfile.TemporaryDirectory(prefix="check-contracts-") as tmp:
        new = Path(tmp) / "new.binpb"
        build_image(root / "protos", new, "the working tree's contracts")
        result.lint_errors = run_buf(["lint", str(new), "--config", str(config)])
        result.baseline = resolve(root, against) if against else find_baseline(root)
        if result.baseline.commit is not None:
            old = Path(tmp) / "old.binpb"
            baseline = extract_contracts(root, result.baseline.commit, Path(tmp) / "baseline")
            build_image(baseline, old, f"the contracts of {result.baseline.commit[:12]} (try --against REV)")
            result.breaking_errors = run_buf(
                ["breaking", str(new), "--against", str(old), "--config", str(config), "--exclude-imports"]
            )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=gen_protos.ROOT, help="the repository's top directory")
    parser.add_argument("--against", metavar="REV", help="check against this commit instead of the baseline")
    args = parser.parse_args(argv)
    result = check(args.root.resolve(), args.against)
    for title, problems in (("buf lint", result.lint_errors), ("buf breaking", result.breaking_errors)):
        if problems:
            print(f"{title}:", *problems, sep="\n  ", file=sys.stderr)
    print(result.verdict(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
