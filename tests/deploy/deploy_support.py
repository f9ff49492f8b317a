"""Helpers of the deployment checks (tests/deploy): reading Dockerfiles, running docker-compose and
kubectl the same way every test does, and asking a package's own code which settings it reads.

Imported by the test modules as `deploy_support` (conftest.py puts this folder on sys.path); the pytest
fixtures built on these helpers live in conftest.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from crm_platform.config import GRPC_PORTS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE_FILE = ROOT / "docker-compose.yml"
INSTALL_HINT = "run scripts/install_deploy_tools.sh (the Makefile's test target does)"

SERVICES = tuple(GRPC_PORTS)
GATEWAY_PORT = 8080
# Each deployable package: python package -> (distribution name, folder, the port it serves).
PACKAGES: dict[str, tuple[str, Path, int]] = {
    **{name: (f"crm-{name}", ROOT / "services" / name, port) for name, port in GRPC_PORTS.items()},
    "gateway": ("crm-gateway", ROOT / "gateway", GATEWAY_PORT),
}
SERVICE_DOCKERFILE = ROOT / "services" / "Dockerfile"  # one recipe for the five services (ARG SERVICE)


def dockerfile_path(package: str) -> Path:
    return PACKAGES[package][1] / "Dockerfile" if package == "gateway" else SERVICE_DOCKERFILE


def build_args(package: str) -> dict[str, str]:
    """The --build-arg values an image of `package` is built with (none for the gateway's own file)."""
    if package == "gateway":
        return {}
    return {"SERVICE": package, "GRPC_PORT": str(PACKAGES[package][2])}


# Dummy values for the variables docker-compose.yml insists on (`${VAR:?...}`): long enough for the
# code's own checks (the JWT key needs 32 characters, the admin password 12).
COMPOSE_SECRETS = {
    "CRM_DB_PASSWORD": "dbpassword0123456789",
    "RABBITMQ_PASSWORD": "mqpassword0123456789",
    "GATEWAY_JWT_SECRET": "jwt-secret-for-tests-0123456789abcdef",
    "CRM_ADMIN_PASSWORD": "admin-password-0123",
}


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def tool(name: str) -> str:
    """Path of a command-line tool, looked up beside this Python first (the project venv), then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: {INSTALL_HINT}", pytrace=False)
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment, so that a developer's shell or `.env` cannot change what the tools render."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(extra)
    return env


def yaml_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


# --- Dockerfiles --------------------------------------------------------------------------------------


@dataclass
class Dockerfile:
    """The instructions of a Dockerfile, per stage; enough of the syntax for the files we write."""

    path: Path
    stages: list[list[tuple[str, str]]] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, build_args: dict[str, str] | None = None) -> Dockerfile:
        """The file with `${ARG}` replaced by the given build arguments, as `docker build` would."""
        joined = re.sub(r"\\\n", " ", path.read_text())
        parsed = cls(path, build_args=dict(build_args or {}))
        for line in joined.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, args = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "ARG":
                continue  # declarations only; their values are substituted below
            for name, value in parsed.build_args.items():
                args = args.replace("${" + name + "}", value)
            if instruction == "FROM":
                parsed.stages.append([])
            if not parsed.stages:
                continue  # a global ARG before the first FROM
            parsed.stages[-1].append((instruction, args.strip()))
        return parsed

    @property
    def final(self) -> list[tuple[str, str]]:
        return self.stages[-1]

    def all(self, instruction: str, stage: list[tuple[str, str]] | None = None) -> list[str]:
        return [args for ins, args in (self.final if stage is None else stage) if ins == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"{self.path.relative_to(ROOT)}: no {instruction} in the final stage"
        return found[-1]

    def exec_form(self, instruction: str) -> list[str]:
        """ENTRYPOINT/CMD in exec (JSON) form; the shell form would hide signals from the process."""
        args = self.last(instruction)
        value = json.loads(args)
        assert isinstance(value, list), f"{self.path.relative_to(ROOT)}: {instruction} must be a JSON list"
        return value

    def env(self) -> dict[str, str]:
        """ENV of the final stage (the `KEY=value ...` form, the one our files use)."""
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                key, sep, value = word.partition("=")
                assert sep, f"{self.path.relative_to(ROOT)}: write ENV as KEY=value ({args})"
                values[key] = value
        return values

    def healthcheck(self) -> list[str]:
        _options, _, command = self.last("HEALTHCHECK").partition("CMD")
        return json.loads(command)


# --- docker-compose -----------------------------------------------------------------------------------


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(f"docker-compose is not installed: {INSTALL_HINT}", pytrace=False)
    # An empty --env-file: a developer's own `.env` beside docker-compose.yml must not change the result.
    # (docker-compose wants a regular file: /dev/null is refused.)
    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "empty.env"
        empty.touch()
        return run([binary, "--env-file", str(empty), "-f", str(COMPOSE_FILE), *args], env=env)


def compose_package(service: dict[str, Any]) -> str | None:
    """Which of our packages a compose service runs (by its image `crm-<package>:...`), if any."""
    match = re.fullmatch(r"crm-([a-z]+)(?::.*)?", str(service.get("image", "")))
    return match.group(1) if match and match.group(1) in PACKAGES else None


# --- Kubernetes ---------------------------------------------------------------------------------------


def kustomization_dirs() -> list[Path]:
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


# Deployments of third-party software the manifests run beside ours (checked by their own tests).
INFRASTRUCTURE_DEPLOYMENTS = {"pgbouncer"}


def containers(
    docs: list[dict[str, Any]], *, ours_only: bool = True
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(Deployment, container) for every container of every Deployment, init containers included;
    only those of our own Deployments unless `ours_only` is off."""
    for doc in docs:
        if doc["kind"] == "Deployment":
            if ours_only and doc["metadata"]["name"] in INFRASTRUCTURE_DEPLOYMENTS:
                continue
            spec = doc["spec"]["template"]["spec"]
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                yield doc, container


def image_package(container: dict[str, Any]) -> str:
    match = re.fullmatch(r"(?:.*/)?crm-([a-z]+)(?::.*)?", container["image"])
    assert match and match.group(1) in PACKAGES, f"container {container['name']} runs {container['image']}"
    return match.group(1)


# --- what the code reads (settings_report.py, run by the fixture package_reports) -----------------------


@dataclass(frozen=True)
class PackageReport:
    settings: dict[str, dict[str, bool]]
    errors: list[str]  # values given in compose/k8s/Dockerfiles that the code's parser rejects
    import_error: str = ""  # the traceback, when `<package>.main` exists but does not import

    def reads(self, name: str) -> bool:
        return name in self.settings or name.startswith("OTEL_")

    @property
    def required(self) -> set[str]:
        return {name for name, s in self.settings.items() if s["required"]}


def candidate_values(
    dockerfiles: dict[str, Dockerfile],
    compose_config: dict[str, Any],
    kustomize_builds: dict[str, list[dict[str, Any]]],
) -> list[tuple[str, str]]:
    """Every (variable, value) the deployment files give our containers, for the parser check."""
    values = [pair for dockerfile in dockerfiles.values() for pair in dockerfile.env().items()]
    for service in compose_config["services"].values():
        if compose_package(service):
            values += [(k, str(v)) for k, v in (service.get("environment") or {}).items()]
    example = secret_example()
    for docs in kustomize_builds.values():
        for _deployment, container in containers(docs):
            values += [(name, value) for name, value in resolved_env(container, docs, example).items()]
    return sorted(set(values))


def secret_example() -> dict[str, str]:
    doc = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    return {k: str(v) for k, v in doc["stringData"].items()}


def config_maps(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc["kind"] == "ConfigMap"}


def resolved_env(
    container: dict[str, Any], docs: list[dict[str, Any]], secret: dict[str, str]
) -> dict[str, str]:
    """A container's environment with ConfigMap references resolved and Secrets taken from the example."""
    maps = config_maps(docs)
    env: dict[str, str] = {}
    for var in container.get("env", []):
        source = var.get("valueFrom", {})
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[var["name"]] = maps.get(ref["name"], {}).get(ref["key"], "")
        elif "secretKeyRef" in source:
            env[var["name"]] = secret.get(source["secretKeyRef"]["key"], "")
    return env
