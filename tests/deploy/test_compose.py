"""docker-compose.yml: valid for docker-compose, no committed secrets, and in step with the code.

docker-compose renders the file itself (`config`), so anchors, merges and `${VAR}` substitution are
checked the way `docker-compose up` would see them; no engine is needed for that.
"""

from __future__ import annotations

import configparser
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from deploy_support import (
    COMPOSE_FILE,
    COMPOSE_SECRETS,
    GATEWAY_PORT,
    PACKAGES,
    ROOT,
    SERVICES,
    build_args,
    clean_env,
    compose,
    compose_package,
    dockerfile_path,
)

from crm_platform.config import GRPC_PORTS

INFRASTRUCTURE = {
    "rabbitmq",
    "otel-collector",
    "pgbouncer",
    "gateway-db",
    *(f"{name}-db" for name in SERVICES),
}
PGBOUNCER_INI = ROOT / "deploy" / "pgbouncer" / "compose.ini"
EXPECTED_OURS = {"gateway": "gateway", **{n: n for n in SERVICES}, **{f"{n}-worker": n for n in SERVICES}}


def ours(compose_config: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Our containers: compose service name -> (package, service)."""
    found = {}
    for name, service in compose_config["services"].items():
        package = compose_package(service)
        if package:
            found[name] = (package, service)
    return found


def test_config_is_valid() -> None:
    result = compose("config", "-q", env=clean_env(**COMPOSE_SECRETS))
    assert result.returncode == 0, result.stderr


def test_refuses_to_run_without_the_secrets() -> None:
    """Every secret comes from the operator: docker-compose stops, naming it, when one is not set."""
    result = compose("config", "-q", env=clean_env())
    assert result.returncode != 0, "docker-compose accepted the file without any secret set"
    assert any(name in result.stderr for name in COMPOSE_SECRETS), result.stderr


def test_secrets_have_no_default() -> None:
    """Each secret is only ever used as `${VAR:?message}`: no `${VAR:-default}`, no bare `${VAR}`."""
    text = COMPOSE_FILE.read_text()
    for name in COMPOSE_SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^A-Z0-9_][^}]*)?\}", text)
        assert uses, f"{name} is not used in docker-compose.yml"
        assert all(use.startswith(":?") for use in uses), f"{name} must be written ${{{name}:?message}}"


def test_no_secret_literal_in_the_file() -> None:
    """Values of password-like keys and credentials inside URLs are substitutions, never literals."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    offenders = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}"
                if isinstance(value, str) and re.search(r"PASS|SECRET|TOKEN|_KEY$", str(key)):
                    if not re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value):
                        offenders.append(here)
                elif isinstance(value, str) and "://" in value:
                    password = urlsplit(value.replace("$${", "${")).password
                    if password and not password.startswith("${"):
                        offenders.append(here)
                else:
                    walk(value, here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(raw, "")
    assert not offenders, f"literal secrets in docker-compose.yml at {offenders}"


def test_every_service_is_known_and_present(compose_config: dict[str, Any]) -> None:
    names = set(compose_config["services"])
    unknown = names - INFRASTRUCTURE - set(EXPECTED_OURS)
    assert not unknown, f"compose services that are neither ours nor infrastructure: {sorted(unknown)}"
    assert names == INFRASTRUCTURE | set(EXPECTED_OURS), (
        f"missing: {sorted(INFRASTRUCTURE | set(EXPECTED_OURS) - names)}"
    )
    assert {name: package for name, (package, _) in ours(compose_config).items()} == EXPECTED_OURS


def test_each_container_is_built_from_its_packages_dockerfile(compose_config: dict[str, Any]) -> None:
    for name, (package, service) in ours(compose_config).items():
        build = service.get("build")
        assert build, f"{name} has no build section"
        assert (ROOT / build["context"]).resolve() == ROOT, f"{name}: the build context must be the repo root"
        assert (ROOT / build["dockerfile"]).resolve() == dockerfile_path(package), name
        assert {k: str(v) for k, v in (build.get("args") or {}).items()} == build_args(package), (
            f"{name}: build arguments"
        )
        expected = ["worker"] if name.endswith("-worker") else ["serve"]
        assert service.get("command") == expected, f"{name} should run {expected}"


def test_workers_are_checked_by_their_heartbeat(compose_config: dict[str, Any]) -> None:
    for name, (package, service) in ours(compose_config).items():
        if name.endswith("-worker"):
            assert service["healthcheck"]["test"] == ["CMD", f"crm-{package}", "check-worker"], name
        else:
            # The servers' check is the image's HEALTHCHECK (tests/deploy/test_dockerfiles.py).
            assert "healthcheck" not in service, f"{name}: keep the servers' healthcheck in the image"


def test_dependencies_wait_for_health(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name, (package, service) in ours(compose_config).items():
        deps = service.get("depends_on", {})
        database = f"{package}-db"
        assert deps.get(database, {}).get("condition") == "service_healthy", (
            f"{name} must wait for {database}"
        )
        if package != "gateway":
            assert deps.get("rabbitmq", {}).get("condition") == "service_healthy", (
                f"{name} must wait for rabbitmq"
            )
    for name, service in services.items():
        for dep, how in (service.get("depends_on") or {}).items():
            if how.get("condition") == "service_healthy":
                has_check = "healthcheck" in services[dep] or compose_package(
                    services[dep]
                )  # image HEALTHCHECK
                assert has_check, f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck"


def pgbouncer_databases() -> dict[str, dict[str, str]]:
    """[databases] of deploy/pgbouncer/compose.ini: name -> its connection settings."""
    parser = configparser.ConfigParser(comment_prefixes=(";", "#"))
    parser.read(PGBOUNCER_INI)
    return {
        name: dict(part.split("=", 1) for part in value.split())
        for name, value in parser["databases"].items()
    }


def test_pgbouncer_pools_in_transaction_mode() -> None:
    parser = configparser.ConfigParser(comment_prefixes=(";", "#"))
    parser.read(PGBOUNCER_INI)
    settings = parser["pgbouncer"]
    assert settings["pool_mode"] == "transaction"
    assert settings["listen_port"] == "6432"
    # `options` must be refused rather than ignored: ignoring it would silently drop the timeouts.
    assert "options" not in settings.get("ignore_startup_parameters", "")


def test_each_service_has_its_own_database(compose_config: dict[str, Any]) -> None:
    """The services through PgBouncer (each database name routed to its own container), the gateway
    directly; every container has its own volume."""
    services = compose_config["services"]
    routed = pgbouncer_databases()
    pooler = services["pgbouncer"]["environment"]
    seen: dict[tuple[str, str], str] = {}
    for name, (package, service) in ours(compose_config).items():
        url = urlsplit(service["environment"][f"{package.upper()}_DATABASE_URL"])
        database = url.path.lstrip("/")
        if package == "gateway":
            host = url.hostname
        else:
            assert (url.hostname, url.port) == ("pgbouncer", 6432), f"{name} bypasses PgBouncer"
            assert parse_qs(url.query).get("pgbouncer") == ["true"], (
                f"{name}: tell the driver (?pgbouncer=true)"
            )
            assert (url.username, url.password) == (pooler["DB_USER"], pooler["DB_PASSWORD"]), name
            host = routed[database]["host"]
            assert routed[database]["dbname"] == database, f"PgBouncer renames {database}"
            assert f"{package}-db" in (services["pgbouncer"].get("depends_on") or {})
        assert host == f"{package}-db", f"{name} uses the database container {host}"
        db_env = services[host]["environment"]
        assert database == db_env["POSTGRES_DB"], f"{name} names database {database}"
        assert url.username == db_env["POSTGRES_USER"] and url.password == db_env["POSTGRES_PASSWORD"], name
        assert seen.setdefault((host, database), package) == package, f"{host}/{database} is shared"
    volumes = [tuple(services[f"{p}-db"]["volumes"]) for p in PACKAGES]
    assert len(set(volumes)) == len(volumes), "every database container needs its own volume"


def test_broker_and_collector_addresses(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    rabbit = services["rabbitmq"]["environment"]
    collector = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    collector_port = int(collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1])
    for name, (_package, service) in ours(compose_config).items():
        env = service["environment"]
        if "AMQP_URL" in env:
            amqp = urlsplit(env["AMQP_URL"])
            assert (amqp.hostname, amqp.port) == ("rabbitmq", 5672), name
            assert (amqp.username, amqp.password) == (
                rabbit["RABBITMQ_DEFAULT_USER"],
                rabbit["RABBITMQ_DEFAULT_PASS"],
            )
        otlp = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (otlp.hostname, otlp.port) == ("otel-collector", collector_port), name


def test_collector_pipelines_use_defined_components() -> None:
    collector = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    pipelines = collector["service"]["pipelines"]
    assert {"traces", "metrics", "logs"} <= set(pipelines)
    for pipeline in pipelines.values():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in collector[kind], f"{component} is used but not defined under {kind}"
    assert "debug" in collector["exporters"]


def test_ports_match_the_code(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    gateway = services["gateway"]
    published = {
        int(p["target"]) if isinstance(p, dict) else int(str(p).rsplit(":", 1)[1]) for p in gateway["ports"]
    }
    assert published == {GATEWAY_PORT}
    for service, port in GRPC_PORTS.items():
        addr = gateway["environment"][f"{service.upper()}_GRPC_ADDR"]
        assert addr == f"{service}:{port}", f"the gateway looks for {service} at {addr}"
        assert compose_package(services[service]) == service
        assert "ports" not in services[service], f"{service}: only the gateway is published"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_environment_matches_what_the_code_reads(
    package: str, compose_config: dict[str, Any], report_of, dockerfiles
) -> None:
    report = report_of(package)
    for name, (pkg, service) in ours(compose_config).items():
        if pkg != package:
            continue
        env = service.get("environment") or {}
        unknown = sorted(var for var in env if not report.reads(var))
        assert not unknown, f"{name} sets variables that crm-{package} never reads: {unknown}"
        given = {k for k, v in {**dockerfiles[package].env(), **env}.items() if v != ""}
        missing = sorted(report.required - given)
        assert not missing, f"{name} lacks required settings {missing}"
    assert not report.errors, f"values the crm-{package} code rejects: {report.errors}"
