"""deploy/k8s: every manifest valid for Kubernetes (strict schema), every kustomization renders, and the
rendered objects agree with the code (ports, probes, settings) and with our rules (limits, non-root).

`kubectl kustomize` renders each kustomization as `kubectl apply -k` would; kubernetes-validate checks
the objects against the API schema of each Kubernetes version we claim, rejecting unknown fields.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from deploy_support import (
    GATEWAY_PORT,
    INFRASTRUCTURE_DEPLOYMENTS,
    K8S,
    PACKAGES,
    ROOT,
    SERVICES,
    Dockerfile,
    config_maps,
    containers,
    image_package,
    kustomization_dirs,
    resolved_env,
    run,
    secret_example,
    tool,
)

from crm_platform.config import GRPC_PORTS, METRICS_PORTS, WORKER_METRICS_PORT_OFFSET

# The oldest Kubernetes we support (native gRPC probes need 1.27; 1.30 is the oldest still maintained by
# the big managed offerings) and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
KUSTOMIZATIONS = [str(path.relative_to(K8S)) for path in kustomization_dirs()]
SECRET_NAME = "crm-secrets"
DEPLOYMENTS = {"gateway", *SERVICES, *(f"{name}-worker" for name in SERVICES)}
PGBOUNCER_PORT = 6432


def kustomization(folder: str) -> dict[str, Any]:
    return yaml.safe_load((K8S / folder / "kustomization.yaml").read_text())


def test_there_is_a_base_and_a_dev_overlay() -> None:
    assert {"base", "overlays/dev"} <= set(KUSTOMIZATIONS)


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_everything_a_kustomization_names_exists(folder: str) -> None:
    spec = kustomization(folder)
    named = list(spec.get("resources", [])) + list(spec.get("components", []))
    named += [patch["path"] for patch in spec.get("patches", []) if "path" in patch]
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        named += [entry.split("=")[-1] for entry in generator.get("files", []) + generator.get("envs", [])]
    assert named, f"{folder}/kustomization.yaml names nothing"
    for entry in named:
        target = (K8S / folder / entry).resolve()
        assert target.exists(), f"{folder}/kustomization.yaml names {entry}, which does not exist"
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), f"{entry} is a folder without kustomization.yaml"


def test_every_yaml_file_is_used_or_an_example() -> None:
    """A manifest that no kustomization lists is never applied: it is a mistake, or an example by name."""
    listed = set()
    for folder in KUSTOMIZATIONS:
        spec = kustomization(folder)
        entries = spec.get("resources", []) + [p["path"] for p in spec.get("patches", []) if "path" in p]
        listed |= {(K8S / folder / entry).resolve() for entry in entries}
    for path in K8S.rglob("*.yaml"):
        if path.name != "kustomization.yaml" and not path.name.endswith(".example.yaml"):
            assert path.resolve() in listed, f"{path.relative_to(ROOT)} is in no kustomization"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_strictly(
    version: str, kustomize_builds: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The files as written (base resources and examples) and every kustomization as rendered."""
    files = [p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml" and "overlays" not in p.parts]
    for folder, docs in kustomize_builds.items():
        rendered = tmp_path / f"{folder.replace('/', '-')}.rendered.yaml"
        rendered.write_text(yaml.safe_dump_all(docs))
        files.append(rendered)
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, *map(str, files)])
    assert result.returncode == 0, f"Kubernetes {version}:\n{result.stdout}{result.stderr}"


def test_the_validator_rejects_unknown_fields(tmp_path: Path) -> None:
    """Guards the checks above: --strict must really turn a misspelt field into a failure."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1}], selectr: {}}\n"
    )
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSIONS[0], str(bad)])
    assert result.returncode != 0


# --- the rendered objects -----------------------------------------------------------------------------


@pytest.fixture(params=KUSTOMIZATIONS)
def rendered(request: pytest.FixtureRequest, kustomize_builds: dict[str, list[dict[str, Any]]]):
    return kustomize_builds[request.param]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_objects_are_ours_and_complete(rendered: list[dict[str, Any]]) -> None:
    kinds = {doc["kind"] for doc in rendered}
    assert kinds <= {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"}
    assert "Secret" not in kinds, "secrets are created out of band, never rendered from git"
    assert set(by_kind(rendered, "Deployment")) == DEPLOYMENTS | INFRASTRUCTURE_DEPLOYMENTS
    assert set(by_kind(rendered, "Service")) == {"gateway", "pgbouncer", *SERVICES}, "workers take no traffic"


def test_every_deployment_scales_with_an_hpa(rendered: list[dict[str, Any]]) -> None:
    deployments = {
        name: d
        for name, d in by_kind(rendered, "Deployment").items()
        if name not in INFRASTRUCTURE_DEPLOYMENTS
    }
    targets = {}
    for name, hpa in by_kind(rendered, "HorizontalPodAutoscaler").items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["name"] in deployments, f"HPA {name} targets {ref}"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        metrics = [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"]
        assert "cpu" in metrics, f"HPA {name} scales on CPU"
        targets[ref["name"]] = name
    assert set(targets) == set(deployments), f"no HPA for {sorted(set(deployments) - set(targets))}"


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_selectors_pick_the_right_pods(rendered: list[dict[str, Any]]) -> None:
    deployments = by_kind(rendered, "Deployment")
    for name, deployment in deployments.items():
        assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels(deployment)), name
    for kind in ("Service", "PodDisruptionBudget"):
        for name, obj in by_kind(rendered, kind).items():
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            picked = {d for d, deployment in deployments.items() if selects(selector, pod_labels(deployment))}
            assert picked == {name}, f"{kind} {name} selects the pods of {sorted(picked)}"


def test_ports_and_probes_match_the_code(rendered: list[dict[str, Any]]) -> None:
    services = by_kind(rendered, "Service")
    for deployment, container in containers(rendered):
        name = deployment["metadata"]["name"]
        package = image_package(container)
        port = PACKAGES[package][2]
        if name.endswith("-worker"):
            assert container["args"] == ["worker"], name
            assert "ports" not in container and "readinessProbe" not in container, name
            check = {"exec": {"command": [f"crm-{package}", "check-worker"]}}
            for probe in ("startupProbe", "livenessProbe"):
                assert {k: v for k, v in container[probe].items() if k == "exec"} == check, f"{name} {probe}"
            continue
        assert container["args"] == ["serve"], name
        assert [p["containerPort"] for p in container["ports"]] == [port], name
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container[probe]
            if package == "gateway":
                path = "/readyz?scope=self" if probe == "readinessProbe" else "/healthz"
                assert spec["httpGet"] == {"path": path, "port": port}, f"{name} {probe}"
            else:
                assert spec["grpc"] == {"port": port}, f"{name} {probe}"
        service_ports = services[name]["spec"]["ports"]
        assert [p["port"] for p in service_ports] == [port], f"Service {name}"
        named = {p.get("name"): p["containerPort"] for p in container["ports"]}
        for p in service_ports:
            assert named.get(p["targetPort"], p["targetPort"]) == port, f"Service {name} targets {p}"


def test_containers_are_limited_and_unprivileged(
    rendered: list[dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    for deployment, container in containers(rendered):
        where = f"{deployment['metadata']['name']}/{container['name']}"
        package = image_package(container)
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{where}: {bound} for cpu and memory"
        pod = deployment["spec"]["template"]["spec"]
        security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        assert security.get("runAsNonRoot") is True, where
        assert str(security.get("runAsUser")) == dockerfiles[package].last("USER").split(":")[0], where
        assert security.get("allowPrivilegeEscalation") is False, where
        assert security.get("readOnlyRootFilesystem") is True, where
        assert security.get("capabilities", {}).get("drop") == ["ALL"], where
        # A read-only root needs somewhere to write: CRM_DATA_DIR of the image (the worker heartbeat).
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert dockerfiles[package].env()["CRM_DATA_DIR"] in mounts, f"{where}: mount CRM_DATA_DIR"
        assert ":" in container["image"].rsplit("/", 1)[-1], f"{where}: pin an image tag"
        assert not container["image"].endswith(":latest"), f"{where}: pin an image tag"


def test_config_references_resolve(rendered: list[dict[str, Any]]) -> None:
    maps = config_maps(rendered)
    example = secret_example()
    for deployment, container in containers(rendered):
        where = f"{deployment['metadata']['name']}/{container['name']}"
        assert "envFrom" not in container, f"{where}: list variables one by one (see deploy/k8s/README.md)"
        for var in container.get("env", []):
            source = var.get("valueFrom", {})
            if "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                assert ref["key"] in maps.get(ref["name"], {}), f"{where}: {var['name']} -> {ref}"
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                assert ref["name"] == SECRET_NAME, f"{where}: {var['name']} reads Secret {ref['name']}"
                assert ref["key"] in example, f"{where}: {ref['key']} is not in secret.example.yaml"


def test_the_gateway_finds_every_service(rendered: list[dict[str, Any]]) -> None:
    gateway = next(c for d, c in containers(rendered) if d["metadata"]["name"] == "gateway")
    env = resolved_env(gateway, rendered, secret_example())
    services = by_kind(rendered, "Service")
    for service, port in GRPC_PORTS.items():
        host, _, addr_port = env[f"{service.upper()}_GRPC_ADDR"].partition(":")
        assert (host, int(addr_port)) == (service, port), (
            f"the gateway looks for {service} at {host}:{addr_port}"
        )
        assert services[service]["spec"]["ports"][0]["port"] == port
    assert services["gateway"]["spec"]["ports"][0]["port"] == GATEWAY_PORT


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_environment_matches_what_the_code_reads(
    package: str, kustomize_builds: dict[str, list[dict[str, Any]]], report_of, dockerfiles
) -> None:
    report = report_of(package)
    for folder, docs in kustomize_builds.items():
        for deployment, container in containers(docs):
            if image_package(container) != package:
                continue
            where = f"{folder}: {deployment['metadata']['name']}/{container['name']}"
            env = {var["name"]: var for var in container.get("env", [])}
            unknown = sorted(name for name in env if not report.reads(name))
            assert not unknown, f"{where} sets variables that crm-{package} never reads: {unknown}"
            for name, var in env.items():
                if report.settings.get(name, {}).get("secret"):
                    assert "secretKeyRef" in var.get("valueFrom", {}), (
                        f"{where}: {name} must come from a Secret"
                    )
            provided = {
                name
                for name, var in env.items()
                if var.get("value")
                or not any(ref.get("optional") for ref in var.get("valueFrom", {}).values())
            }
            provided |= {name for name, value in dockerfiles[package].env().items() if value}
            missing = sorted(report.required - provided)
            assert not missing, f"{where} lacks required settings {missing}"


# --- scale-out, metrics and PgBouncer ---------------------------------------------------------------------


def test_grpc_services_are_headless_for_client_side_balancing(rendered: list[dict[str, Any]]) -> None:
    """A headless Service resolves to every ready pod; clients use round_robin over those addresses
    (crm_platform.grpc_client). A ClusterIP would pin each client connection to one pod."""
    services = by_kind(rendered, "Service")
    for name in SERVICES:
        assert services[name]["spec"].get("clusterIP") == "None", f"Service {name} must be headless"
    assert services["gateway"]["spec"].get("clusterIP") != "None", "the gateway sits behind a load balancer"


def test_every_pod_is_scraped_where_it_serves_metrics(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in by_kind(rendered, "Deployment").items():
        if name in INFRASTRUCTURE_DEPLOYMENTS:
            continue
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        service = name.removesuffix("-worker")
        if name == "gateway":
            port = GATEWAY_PORT
        elif name.endswith("-worker"):
            port = METRICS_PORTS[service] + WORKER_METRICS_PORT_OFFSET
        else:
            port = METRICS_PORTS[service]
        assert annotations.get("prometheus.io/scrape") == "true", f"{name}: prometheus.io/scrape"
        assert annotations.get("prometheus.io/port") == str(port), f"{name}: metrics on {port}"
        assert annotations.get("prometheus.io/path") == "/metrics", name


def pgbouncer_ini(rendered: list[dict[str, Any]]) -> configparser.ConfigParser:
    maps = [
        doc
        for doc in rendered
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("pgbouncer-config")
    ]
    assert len(maps) == 1, "one generated pgbouncer-config ConfigMap"
    parser = configparser.ConfigParser(comment_prefixes=(";", "#"))
    parser.read_string(maps[0]["data"]["pgbouncer.ini"])
    return parser


def test_pgbouncer_pools_in_transaction_mode_for_the_services(rendered: list[dict[str, Any]]) -> None:
    ini = pgbouncer_ini(rendered)
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert ini["pgbouncer"]["listen_port"] == str(PGBOUNCER_PORT)
    assert "options" not in ini["pgbouncer"].get("ignore_startup_parameters", ""), "never drop the timeouts"
    deployment = by_kind(rendered, "Deployment")["pgbouncer"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert [p["containerPort"] for p in container["ports"]] == [PGBOUNCER_PORT]
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    assert security.get("runAsNonRoot") is True and security.get("readOnlyRootFilesystem") is True
    assert {"requests", "limits"} <= set(container.get("resources", {}))
    mounted = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/pgbouncer/pgbouncer.ini", "/etc/pgbouncer/userlist.txt"} <= mounted
    secret_items = [v["secret"] for v in pod["volumes"] if "secret" in v]
    assert secret_items and secret_items[0]["secretName"] == SECRET_NAME
    assert all(item["key"] in secret_example() for s in secret_items for item in s["items"])
    assert by_kind(rendered, "Service")["pgbouncer"]["spec"]["ports"][0]["port"] == PGBOUNCER_PORT


def test_services_reach_their_databases_through_pgbouncer() -> None:
    example = secret_example()
    for service in SERVICES:
        url = urlsplit(example[f"{service.upper()}_DATABASE_URL"])
        assert (url.hostname, url.port) == ("pgbouncer", PGBOUNCER_PORT), f"{service} bypasses PgBouncer"
        assert parse_qs(url.query).get("pgbouncer") == ["true"], (
            f"{service}: tell the driver (?pgbouncer=true)"
        )
        assert f'"{url.username}"' in example["PGBOUNCER_USERLIST"], f"{url.username} is not in the userlist"
