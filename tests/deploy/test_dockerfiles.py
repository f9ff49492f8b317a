"""The Dockerfiles (one for the five services, one for the gateway), the shared build script, the service
entrypoint and the health probe, checked without a Docker engine.

The build script runs here for real (it only needs uv and the lock), so what an image would contain is
checked: the locked requirements with hashes, and the workspace packages the package depends on.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from deploy_support import PACKAGES, ROOT, SERVICE_DOCKERFILE, Dockerfile, run
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from crm_platform.listen_ports import free_port

BASE_IMAGE = "python:3.11-slim"
BUILD_SCRIPT = ROOT / "deploy" / "docker" / "build.sh"
PROBE = ROOT / "deploy" / "docker" / "probe.py"
ENTRYPOINT = ROOT / "deploy" / "docker" / "crm-service.sh"


def pyproject(package: str) -> dict[str, Any]:
    return tomllib.loads((PACKAGES[package][1] / "pyproject.toml").read_text())


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_dockerfile_shape(package: str, dockerfiles: dict[str, Dockerfile]) -> None:
    dockerfile = dockerfiles[package]
    dist, _folder, port = PACKAGES[package]
    where = f"{dockerfile.path.relative_to(ROOT)} {dockerfile.build_args or ''}".strip()

    assert len(dockerfile.stages) >= 2, f"{where}: build in a separate stage"
    bases = [stage[0][1].split()[0] for stage in dockerfile.stages]
    assert set(bases) == {BASE_IMAGE}, f"{where}: every stage starts from {BASE_IMAGE}, not {bases}"
    build_runs = [args for stage in dockerfile.stages for args in dockerfile.all("RUN", stage)]
    assert any(f"deploy/docker/build.sh {dist} " in args for args in build_runs), f"{where}: build.sh {dist}"

    user = dockerfile.last("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, (
        f"{where}: run as a numeric non-root user (runAsNonRoot checks it)"
    )
    assert dockerfile.all("EXPOSE") == [str(port)], f"{where}: EXPOSE {port}"
    scripts = pyproject(package)["project"].get("scripts", {})
    assert dist in scripts, f"{where}: {dist} is not a [project.scripts] entry of {package}'s pyproject.toml"
    assert dockerfile.exec_form("CMD") == ["serve"]

    env = dockerfile.env()
    if package == "gateway":
        assert dockerfile.exec_form("ENTRYPOINT") == [dist], f"{where}: ENTRYPOINT [{dist!r}]"
        assert (env["GATEWAY_HOST"], env["GATEWAY_PORT"]) == ("0.0.0.0", str(port))
        assert dockerfile.healthcheck() == ["crm-probe", "http", str(port), "/healthz"]
    else:
        # crm-service (deploy/docker/crm-service.sh) runs crm-$CRM_SERVICE listening on CRM_GRPC_PORT.
        assert dockerfile.exec_form("ENTRYPOINT") == ["crm-service"], where
        assert (env["CRM_SERVICE"], env["CRM_GRPC_PORT"]) == (package, str(port)), where
        assert env["CRM_METRICS_HOST"] == "0.0.0.0", f"{where}: the scraper reaches metrics from outside"
        assert dockerfile.healthcheck() == ["crm-probe", "grpc"], where


def test_one_dockerfile_serves_every_service() -> None:
    """No per-service copies to keep in step: services/Dockerfile with ARG SERVICE and GRPC_PORT."""
    leftovers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "services").glob("*/Dockerfile"))
    assert not leftovers, f"per-service Dockerfiles are back: {leftovers}"
    declared = re.findall(r"^ARG (\w+)", SERVICE_DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert {"SERVICE", "GRPC_PORT"} <= set(declared)


def test_the_service_and_gateway_images_install_the_same_way(dockerfiles: dict[str, Dockerfile]) -> None:
    """The steps that build the venv and the user are the same in the gateway's file and the services'."""

    def install_steps(package: str) -> list[tuple[str, str]]:
        dist = PACKAGES[package][0]
        steps = [step for stage in dockerfiles[package].stages for step in stage]
        return [
            (ins, args.replace(dist, "crm-X"))
            for ins, args in steps
            if ins in {"FROM", "COPY", "WORKDIR", "USER"} or (ins == "RUN" and "test -n" not in args)
        ]

    assert install_steps("contacts") == install_steps("gateway")


def run_entrypoint(tmp_path: Path, **env: str) -> str:
    """deploy/docker/crm-service.sh with a stand-in crm-<service> that prints what it was given."""
    fake = tmp_path / "crm-contacts"
    fake.write_text('#!/bin/sh\necho "$CONTACTS_GRPC_LISTEN $*"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "worker", "--x"],
        capture_output=True,
        text=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", **env},
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_entrypoint_runs_the_service_on_every_interface(tmp_path: Path) -> None:
    assert (
        run_entrypoint(tmp_path, CRM_SERVICE="contacts", CRM_GRPC_PORT="50051") == "0.0.0.0:50051 worker --x"
    )
    given = run_entrypoint(
        tmp_path, CRM_SERVICE="contacts", CRM_GRPC_PORT="50051", CONTACTS_GRPC_LISTEN="10.0.0.1:7000"
    )
    assert given == "10.0.0.1:7000 worker --x", "an operator's own listen address wins"


def test_entrypoint_refuses_an_odd_service_name(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "serve"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CRM_SERVICE": "x;rm -rf /"},
        timeout=10,
    )
    assert result.returncode == 2 and "bad CRM_SERVICE" in result.stderr


@pytest.fixture(scope="module")
def uv() -> str:
    """The project's pinned uv (scripts/bootstrap.sh), the same version the images install."""
    pinned = ROOT / ".tools" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed: run scripts/bootstrap.sh (make setup)", pytrace=False)
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_build_script_exports_the_locked_dependencies(package: str, uv: str, tmp_path: Path) -> None:
    dist = PACKAGES[package][0]
    env = {"PATH": f"{Path(uv).parent}:/usr/bin:/bin", "UV_NO_PROGRESS": "1", "UV_OFFLINE": "1"}
    result = subprocess.run(
        ["sh", str(BUILD_SCRIPT), dist, str(tmp_path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr

    requirements = (tmp_path / "requirements.txt").read_text()
    pins = [line for line in requirements.splitlines() if line and not line.startswith((" ", "#"))]
    assert pins and all("==" in line for line in pins), "every requirement is pinned"
    assert requirements.count("--hash=sha256:") >= len(pins), "every requirement carries its hashes"
    names = {line.split("==")[0] for line in pins}
    assert not {"pytest", "ruff", "nameko", "kubernetes-validate"} & names, "no dev dependency in an image"
    assert not any(name.startswith("crm-") for name in names), "workspace packages are installed from /app"
    if package != "gateway":
        assert "flask" not in names, f"{dist} must not carry the gateway's dependencies"

    members = (tmp_path / "app" / "workspace.txt").read_text().split()
    expected = {
        "-e",
        "/app/libs/crm_platform",
        "/app/protos",
        f"/app/{PACKAGES[package][1].relative_to(ROOT)}",
    }
    assert set(members) == expected, "the image holds the chassis, the contracts and the package itself only"
    for member in members[1::2]:
        copied = tmp_path / "app" / member.removeprefix("/app/")
        assert (copied / "pyproject.toml").exists()
        assert not (copied / "tests").exists(), "tests stay out of images"
    source = PACKAGES[package][1] / "migrations"
    if source.exists():
        assert (tmp_path / "app" / source.relative_to(ROOT) / "env.py").exists(), (
            "migrations ship beside the package"
        )
    assert (tmp_path / "app" / "bin" / "crm-probe").stat().st_mode & 0o111
    assert (tmp_path / "app" / "bin" / "crm-service").stat().st_mode & 0o111


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps PATH out of the build context: Docker matches each pattern against the
    path and every parent folder; `*` stays within a folder, `**/` spans any number of them."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns), "teach dockerignore_excludes() about ! patterns"
    regexes = [
        re.compile(re.escape(p).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))
        for p in patterns
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(regex.fullmatch(prefix) for regex in regexes for prefix in prefixes)


def test_dockerignore_keeps_out_local_state_and_keeps_what_the_build_needs() -> None:
    for path in [".venv/bin/python", "var/contacts.db", "services/contacts/contacts/__pycache__/x.pyc",
                 ".git/HEAD", ".pytest_cache/v", "tests/deploy/test_k8s.py", ".env"]:  # fmt: skip
        assert dockerignore_excludes(path), f".dockerignore should exclude {path}"
    needed = ["uv.lock", "pyproject.toml", "deploy/docker/build.sh", "deploy/docker/probe.py"]
    for package, (_dist, folder, _port) in PACKAGES.items():
        folder_in_repo = folder.relative_to(ROOT)
        needed += [f"{folder_in_repo}/pyproject.toml", f"{folder_in_repo}/{package}/main.py"]
        needed += [f"{folder_in_repo}/migrations/env.py"]
    needed += ["libs/crm_platform/crm_platform/config.py", "protos/python/crm/__init__.py"]
    for path in needed:
        assert not dockerignore_excludes(path), f".dockerignore must not exclude {path}: the build needs it"


# --- the probe every image's HEALTHCHECK runs --------------------------------------------------------


def probe(*args: str) -> int:
    return runpy.run_path(str(PROBE))["main"](list(args))


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port, servicer
    server.stop(None)


def test_grpc_probe_follows_the_health_service(health_server: tuple[int, health.HealthServicer]) -> None:
    port, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert probe("grpc", str(port)) == 0
    os.environ["CRM_GRPC_PORT"] = str(port)  # the service image's HEALTHCHECK names no port
    try:
        assert probe("grpc") == 0
    finally:
        del os.environ["CRM_GRPC_PORT"]
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert probe("grpc", str(port)) == 1


def test_grpc_probe_fails_when_nothing_listens() -> None:
    port = free_port()  # free a moment ago, and nothing listens on it
    assert probe("grpc", str(port)) == 1


def test_http_probe_follows_the_status_code() -> None:
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status["code"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_address[1])
        assert probe("http", port, "/healthz") == 0
        status["code"] = 503
        assert probe("http", port, "/healthz") == 1
        assert probe("http", port, "/nothing") == 1
    finally:
        server.shutdown()
        server.server_close()
    assert probe("bogus") == 2


def test_build_script_and_entrypoint_are_valid_sh() -> None:
    for script in (BUILD_SCRIPT, ENTRYPOINT):
        result = run(["sh", "-n", str(script)])
        assert result.returncode == 0, result.stderr
