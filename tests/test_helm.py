"""The Helm chart lints, renders objects the Kubernetes API accepts, and keeps the properties the
deployment relies on (restricted pod security, probe paths, no secret in the ConfigMap).

Runs the real helm binary: $HYGIE_HELM, else .tools/bin/helm (scripts/install-helm.sh), else PATH.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.catalog import parse_catalog
from gateway.settings import Settings
from policies.policy_file import parse_policy

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "hygie"
VALUES_FILES: dict[str, Path | None] = {
    "default": None,
    "full": CHART / "ci" / "full-values.yaml",
    "dev": CHART / "ci" / "dev-values.yaml",
}
RELEASE = "hygie"
NAMESPACE = "hygie"

# Kubernetes releases the rendered objects are checked against: the oldest the chart supports
# (Chart.yaml kubeVersion) and the newest this helm knows. kubernetes-validate ships the OpenAPI
# JSON schemas of every release it supports inside the package (kubernetes-json-schema/
# v<version>-local[-strict]/), so validation is offline; strict=True picks the "-strict" schemas,
# which set additionalProperties: false and so reject misspelt or misplaced fields.
KUBE_VERSIONS = ("1.29.0", "1.35.0")

# kubernetes-validate has schemas for built-in kinds only. Custom resources are checked here by
# their API group, and only these are expected; any other kind without a schema fails the test
# (kubernetes_validate.SchemaNotFoundError is not caught), so a typo in a built-in apiVersion
# cannot hide behind "no schema".
CRD_GROUPS = {"monitoring.coreos.com": {"ServiceMonitor"}}

Manifest = dict[str, Any]


def find_helm() -> str | None:
    """The helm binary to use, or None when there is none."""
    from_env = os.environ.get("HYGIE_HELM")
    if from_env:
        # An explicit choice that points nowhere is a mistake to report, not a reason to skip.
        if not os.access(from_env, os.X_OK):
            pytest.fail(f"HYGIE_HELM={from_env} is not an executable file")
        return from_env
    local = ROOT / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("helm")


@pytest.fixture(scope="session")
def helm() -> str:
    path = find_helm()
    if path is None:
        reason = (
            "helm not found: run `bash scripts/install-helm.sh` (installs .tools/bin/helm) "
            "or set HYGIE_HELM"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )


def template(helm: str, *args: str, kube_version: str = KUBE_VERSIONS[-1]) -> list[Manifest]:
    """`helm template` of the chart (hooks included) as parsed objects; fails the test on error."""
    result = run_helm(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        kube_version,
        *args,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _rendered(helm: str, values: str, kube_version: str) -> tuple[Manifest, ...]:
    path = VALUES_FILES[values]
    args = ["--values", str(path)] if path else []
    return tuple(template(helm, *args, kube_version=kube_version))


def rendered(helm: str, values: str, kube_version: str = KUBE_VERSIONS[-1]) -> list[Manifest]:
    """Cached render, deep-copied so a test cannot change what another one sees."""
    return copy.deepcopy(list(_rendered(helm, values, kube_version)))


def one(manifests: list[Manifest], kind: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def kinds(manifests: list[Manifest]) -> set[str]:
    return {m["kind"] for m in manifests}


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    for m in manifests:
        if m["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            yield f"{m['kind']}/{m['metadata']['name']}", m["spec"]["template"]["spec"]


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_chart_lints_strictly(helm: str, values: str) -> None:
    path = VALUES_FILES[values]
    args = ["--values", str(path)] if path else []
    result = run_helm(helm, "lint", "--strict", str(CHART), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_rendered_objects_match_the_kubernetes_schema(
    helm: str, values: str, kube_version: str
) -> None:
    manifests = rendered(helm, values, kube_version)
    assert manifests
    for manifest in manifests:
        group = manifest["apiVersion"].rpartition("/")[0]
        if group in CRD_GROUPS:
            assert manifest["kind"] in CRD_GROUPS[group]
            continue
        kubernetes_validate.validate(manifest, kube_version, strict=True)


def test_strict_validation_rejects_an_unknown_field(helm: str) -> None:
    # Guards the test above: if strict mode stopped working, misspelt fields would pass silently.
    deployment = one(rendered(helm, "default"), "Deployment")
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    probe["httpGet"]["paht"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_every_pod_meets_the_restricted_pod_security_standard(helm: str, values: str) -> None:
    specs = list(pod_specs(rendered(helm, values)))
    assert {name.split("/")[0] for name, _ in specs} == {"Deployment", "Job"}
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] == 10001, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        assert not any("hostPath" in v for v in spec.get("volumes", [])), name
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert "add" not in sc["capabilities"], name
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in spec["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name


def test_gateway_writes_only_to_tmp_and_the_spool(helm: str) -> None:
    spec = one(rendered(helm, "default"), "Deployment")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp", "/var/lib/hygie"}
    for mount in container["volumeMounts"]:
        if mount["mountPath"] in writable:
            assert "emptyDir" in volumes[mount["name"]]
    assert env_of(container)["HYGIE_SPOOL_DIR"]["value"].startswith("/var/lib/hygie/")


@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_probes_use_the_health_endpoints(helm: str, values: str) -> None:
    deployment = one(rendered(helm, values), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    expected = {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in expected.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}


def test_gateway_runs_the_contracted_command_and_environment(helm: str) -> None:
    deployment = one(rendered(helm, "full"), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["hygie"]
    assert container["args"] == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    env = env_of(container)
    assert env["HYGIE_CONFIG"]["value"] == "/etc/hygie/config.yaml"
    assert env["HYGIE_POLICY"]["value"] == "/etc/hygie/policy.yaml"
    assert env["HYGIE_SPOOL_DIR"]["value"] == "/var/lib/hygie/spool"
    assert env["HYGIE_LOG_FORMAT"]["value"] == "json"
    assert env["HYGIE_LOG_LEVEL"]["value"] == "warning"
    assert env["HYGIE_GRACEFUL_SHUTDOWN_S"]["value"] == "100"
    assert env["HYGIE_AUTO_MIGRATE"]["value"] == "false"
    assert env["HYGIE_ORG_TIMEZONE"]["value"] == "Europe/Paris"
    assert env["HYGIE_OTLP_ENDPOINT"]["value"] == "http://otel-collector.observability:4318"
    # The ingress's pods, whose X-Forwarded-For the failed-authentication throttle believes.
    proxies = env["HYGIE_TRUSTED_PROXIES"]["value"]
    assert json.loads(proxies) == ["10.42.0.0/16", "10.43.0.12"]
    assert Settings(trusted_proxies=json.loads(proxies)).trusted_proxies == tuple(
        json.loads(proxies)
    )
    secret_refs = {
        name: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for name, e in env.items()
        if "valueFrom" in e
    }
    assert secret_refs == {
        "HYGIE_DATABASE_URL": ("hygie-database", "url"),
        "HYGIE_REDIS_URL": ("hygie-redis", "url"),
        "HYGIE_ADMIN_TOKEN": ("hygie-admin", "token"),
        "AZURE_API_KEY": ("hygie-azure", "api-key"),
        "MISTRAL_API_KEY": ("hygie-mistral", "api-key"),
    }
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/hygie"]["readOnly"] is True


def test_default_values_read_credentials_from_existing_secrets_only(helm: str) -> None:
    manifests = rendered(helm, "default")
    assert "Secret" not in kinds(manifests)
    (container,) = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    assert env["HYGIE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "hygie-database"
    assert env["HYGIE_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "hygie-admin"
    assert "HYGIE_REDIS_URL" not in env
    assert "HYGIE_OTLP_ENDPOINT" not in env
    assert "HYGIE_TRUSTED_PROXIES" not in env
    # No policy in the values: the gateway's built-in default policy applies.
    assert "HYGIE_POLICY" not in env


SECRET_KEY = re.compile(r"(api_?key|password|passwd|secret|token)$", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def strings_and_keys(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", item
            yield from strings_and_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_and_keys(item, f"{path}[{index}]")


def gateway_configmap(manifests: list[Manifest]) -> Manifest:
    return next(
        m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == RELEASE
    )


@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_configmap_holds_the_config_and_no_secret(helm: str, values: str) -> None:
    manifests = rendered(helm, values)
    data = gateway_configmap(manifests)["data"]
    assert "config.yaml" in data
    documents = {name: yaml.safe_load(text) for name, text in data.items()}
    for path, value in strings_and_keys(documents):
        assert not SECRET_KEY.search(path.rsplit(".", 1)[-1]), f"secret-like key at {path}"
        if isinstance(value, str):
            assert not URL_WITH_PASSWORD.search(value), f"credentials in URL at {path}"
    for secret in (m for m in manifests if m["kind"] == "Secret"):
        for secret_value in secret.get("stringData", {}).values():
            for text in data.values():
                assert secret_value not in text


@pytest.mark.parametrize("values", sorted(VALUES_FILES))
def test_configmap_files_pass_the_gateway_parsers(helm: str, values: str) -> None:
    # The real parsers: a chart that renders a file the gateway refuses would crash-loop pods.
    data = gateway_configmap(rendered(helm, values))["data"]
    catalog = parse_catalog(yaml.safe_load(data["config.yaml"]), source="config.yaml")
    if "policy.yaml" in data:
        parse_policy(data["policy.yaml"].encode(), source="policy.yaml")
    (container,) = one(rendered(helm, values), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert ("HYGIE_POLICY" in env_of(container)) == ("policy.yaml" in data)
    if values == "full":
        full_values = yaml.safe_load((CHART / "ci" / "full-values.yaml").read_text())
        assert yaml.safe_load(data["config.yaml"]) == full_values["config"]
        assert [m.name for m in catalog.models] == ["llama-3.1-8b-instruct", "gpt-4o-mini"]
        assert set(data) == {"config.yaml", "policy.yaml"}
    if values == "default":
        assert set(data) == {"config.yaml"}


def test_config_change_rolls_the_pods_and_other_changes_do_not(helm: str) -> None:
    def checksum(*args: str) -> str:
        deployment = one(template(helm, *args), "Deployment")
        annotation: str = deployment["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]
        return annotation

    full = ["--values", str(VALUES_FILES["full"])]
    base = checksum(*full)
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    assert checksum(*full, "--set", "autoscaling.maxReplicas=12") == base
    assert checksum(*full, "--set-string", "config.prices.m.input=0.10") != base
    assert checksum(*full, "--set", "policy.name=other") != base


def test_dev_secret_is_created_before_the_migration_and_rolls_pods(helm: str) -> None:
    manifests = rendered(helm, "dev")
    secret = one(manifests, "Secret")
    job = one(manifests, "Job")
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert set(secret["stringData"]) == {"database-url", "admin-token", "redis-url"}
    deployment = one(manifests, "Deployment")
    assert "checksum/dev-secret" in deployment["spec"]["template"]["metadata"]["annotations"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    for name in ("HYGIE_DATABASE_URL", "HYGIE_ADMIN_TOKEN", "HYGIE_REDIS_URL"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]


def test_migration_runs_once_as_a_hook_job(helm: str) -> None:
    manifests = rendered(helm, "full")
    job = one(manifests, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert [container["command"], container["args"]] == [["hygie"], ["migrate"]]
    database = env_of(container)["HYGIE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database == {"name": "hygie-database", "key": "migration-url"}
    # The serving pods keep the DML-only URL.
    deployment = one(manifests, "Deployment")
    (gateway,) = deployment["spec"]["template"]["spec"]["containers"]
    assert env_of(gateway)["HYGIE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "url"
    assert not any(c["name"] == "migrate" for c in spec.get("initContainers", []))
    # Pods do not migrate on start while the Job does; without the Job they must.
    assert env_of(gateway)["HYGIE_AUTO_MIGRATE"]["value"] == "false"
    no_job = template(helm, "--set", "migration.enabled=false")
    assert "Job" not in kinds(no_job)
    (gateway,) = one(no_job, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "HYGIE_AUTO_MIGRATE" not in env_of(gateway)


def test_optional_objects_are_off_by_default(helm: str) -> None:
    default = kinds(rendered(helm, "default"))
    assert default == {
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "Job",
    }
    full = kinds(rendered(helm, "full"))
    assert {"HorizontalPodAutoscaler", "Ingress", "ServiceMonitor"} <= full


def test_autoscaling_owns_the_replica_count(helm: str) -> None:
    manifests = rendered(helm, "full")
    assert "replicas" not in one(manifests, "Deployment")["spec"]
    hpa = one(manifests, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert one(rendered(helm, "default"), "Deployment")["spec"]["replicas"] == 2
    result = run_helm(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--set",
        "autoscaling.enabled=true",
        "--set",
        "autoscaling.minReplicas=5",
        "--set",
        "autoscaling.maxReplicas=2",
    )
    assert result.returncode != 0
    assert "maxReplicas must be at least" in result.stderr


def test_shutdown_fits_in_the_termination_grace_period(helm: str) -> None:
    deployment = one(rendered(helm, "default"), "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    graceful = int(env_of(container)["HYGIE_GRACEFUL_SHUTDOWN_S"]["value"])
    assert graceful + 5 < spec["terminationGracePeriodSeconds"]
    result = run_helm(
        helm, "template", RELEASE, str(CHART), "--set", "server.gracefulShutdownSeconds=115"
    )
    assert result.returncode != 0
    assert "gracefulShutdownSeconds must be less than" in result.stderr


def test_ingress_exposes_only_the_openai_api(helm: str) -> None:
    ingress = one(rendered(helm, "full"), "Ingress")
    paths = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == ["/v1"]
    assert ingress["spec"]["tls"] == [{"secretName": "ia-chu-tls", "hosts": ["ia.chu.example"]}]


def test_service_monitor_scrapes_metrics_on_the_gateway_service(helm: str) -> None:
    manifests = rendered(helm, "full")
    monitor = one(manifests, "ServiceMonitor")
    service = one(manifests, "Service")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_pod_disruption_budget_and_spread_select_the_gateway_pods(helm: str) -> None:
    manifests = rendered(helm, "full")
    pod_labels = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    pdb = one(manifests, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 2
    assert "maxUnavailable" not in pdb["spec"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    spread = one(manifests, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }
    for constraint in spread:
        assert constraint["labelSelector"]["matchLabels"].items() <= pod_labels.items()


def test_dashboard_configmap_ships_the_dashboard_file(helm: str) -> None:
    configmap = next(
        m for m in rendered(helm, "full") if m["metadata"]["name"] == f"{RELEASE}-dashboard"
    )
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads(configmap["data"]["hygie.json"])
    assert shipped == json.loads((CHART / "dashboards" / "hygie.json").read_text())


BAD_VALUES = {
    "unknown top-level key": (["--set", "logFormat=json"], "additional properties"),
    "log format outside the enum": (["--set", "server.logFormat=xml"], "/server/logFormat"),
    "zero replicas": (["--set", "replicaCount=0"], "/replicaCount"),
    "both disruption budget fields": (
        ["--set", "podDisruptionBudget.minAvailable=1"],
        "/podDisruptionBudget",
    ),
    "dev secret without values": (["--set", "devSecret.create=true"], "/devSecret/databaseUrl"),
    "no database secret": (["--set", "database.existingSecret="], "/database/existingSecret"),
    "bad provider env name": (
        [
            "--set",
            "providerCredentials[0].env=azure-key,providerCredentials[0].secretName=a,"
            "providerCredentials[0].key=k",
        ],
        "/providerCredentials/0/env",
    ),
    # A float would be rounded on its way to an invoice; prices are decimal strings.
    "policy without rules": (["--set", "policy.name=x"], "/policy"),
    "hosting class outside the enum": (
        [
            "--set-json",
            'config.models=[{"name": "m", "deployments": [{"name": "d", "replicas": '
            '["http://v:8000/v1"], "hosting": {"class": "us_cloud"}}]}]',
        ],
        "/config/models/0/deployments/0/hosting/class",
    ),
    "float price": (
        ["--set-json", 'config.prices={"m": {"input": 0.1}}'],
        "/config/prices/m/input",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(helm: str, case: str) -> None:
    args, where = BAD_VALUES[case]
    result = run_helm(helm, "template", RELEASE, str(CHART), *args)
    assert result.returncode != 0
    assert where in result.stderr, result.stderr


def test_schema_rejects_a_literal_api_key_in_the_config(helm: str, tmp_path: Path) -> None:
    values = {
        "config": {
            "models": [
                {
                    "name": "gpt-4o-mini",
                    "deployments": [
                        {"name": "azure-fr", "kind": "litellm", "api_key": "sk-not-here"}
                    ],
                }
            ]
        }
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    result = run_helm(helm, "template", RELEASE, str(CHART), "--values", str(path))
    assert result.returncode != 0
    assert "/config/models/0/deployments/0" in result.stderr, result.stderr
