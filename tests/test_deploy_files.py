"""The deployment material under deploy/ is consistent: the compose stack has its services and
wires them to files that exist, the example configuration has the shape the gateway parses, the
dashboard reads only Hygie's metrics, and the image runs unprivileged."""

from __future__ import annotations

import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from gateway.catalog import load_catalog, parse_catalog
from policies.policy_file import parse_policy

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DASHBOARD = ROOT / "helm" / "hygie" / "dashboards" / "hygie.json"
FULL_VALUES = ROOT / "helm" / "hygie" / "ci" / "full-values.yaml"

METRICS = {
    "hygie_requests_total",
    "hygie_request_duration_seconds",
    "hygie_time_to_first_token_seconds",
    "hygie_tokens_total",
    "hygie_cost_eur_total",
    "hygie_quota_refusals_total",
    "hygie_policy_decisions_total",
    "hygie_policy_step_seconds",
    "hygie_upstream_healthy",
    "hygie_ledger_backlog",
}
# Series a histogram exposes besides its own name.
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
DATA_CLASSES = {"public", "internal", "personal", "health"}
HOSTING_CLASSES = {"on_premise", "hds_certified", "eu_cloud", "non_eu"}

Mapping = dict[str, Any]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> Mapping:
    data: Mapping = load_yaml(DEPLOY / "compose.yaml")
    return data


@pytest.fixture(scope="module")
def config() -> Mapping:
    data: Mapping = load_yaml(DEPLOY / "config" / "config.yaml")
    return data


@pytest.fixture(scope="module")
def policy() -> Mapping:
    data: Mapping = load_yaml(DEPLOY / "config" / "policy.yaml")
    return data


# --- compose -------------------------------------------------------------------------------


def test_compose_has_the_whole_stack(compose: Mapping) -> None:
    assert set(compose["services"]) == {
        "gateway",
        "migrate",
        "postgres",
        "redis",
        "vllm",
        "otel-collector",
        "prometheus",
        "grafana",
    }


def test_compose_gateway_runs_unprivileged_and_read_only(compose: Mapping) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["user"] == "10001:10001"
    assert gateway["read_only"] is True
    assert gateway["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in gateway["security_opt"]
    assert gateway["command"] == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert any(t.startswith("/tmp") for t in gateway["tmpfs"])
    assert "spool:/var/lib/hygie" in gateway["volumes"]
    assert gateway["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}


def test_compose_migrates_before_the_gateway_starts(compose: Mapping) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["image"] == services["gateway"]["image"]
    assert services["gateway"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_compose_gateway_environment_follows_the_contract(compose: Mapping) -> None:
    env = compose["services"]["gateway"]["environment"]
    assert env["HYGIE_CONFIG"] == "/etc/hygie/config.yaml"
    assert env["HYGIE_POLICY"] == "/etc/hygie/policy.yaml"
    assert env["HYGIE_SPOOL_DIR"] == "/var/lib/hygie/spool"
    assert env["HYGIE_LOG_FORMAT"] == "json"
    assert env["HYGIE_LOG_LEVEL"] == "info"
    assert env["HYGIE_ORG_TIMEZONE"] == "Europe/Paris"
    # The migrate service owns the schema; the gateway must not race it on start.
    assert env["HYGIE_AUTO_MIGRATE"] == "false"
    # Streams get their graceful period, and compose waits longer than that before SIGKILL.
    stop_grace = compose["services"]["gateway"]["stop_grace_period"]
    assert int(env["HYGIE_GRACEFUL_SHUTDOWN_S"]) < int(stop_grace.removesuffix("s"))
    assert env["HYGIE_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["HYGIE_REDIS_URL"] == "redis://redis:6379/0"
    assert env["HYGIE_DATABASE_URL"].startswith("postgresql+asyncpg://hygie:${POSTGRES_PASSWORD:?")
    assert env["HYGIE_DATABASE_URL"].endswith("@postgres:5432/hygie")
    assert "./config:/etc/hygie:ro" in compose["services"]["gateway"]["volumes"]


SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|API_KEY)$")
INTERPOLATED = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(:\?[^}]*|:-)\}$")


def test_compose_writes_no_secret_value(compose: Mapping) -> None:
    # Every secret-named variable is interpolated from the operator's .env or shell.
    checked = 0
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                checked += 1
                assert INTERPOLATED.match(str(value)), f"{name}.{key} has a literal value"
    assert checked >= 5


def test_compose_required_secrets_are_in_the_env_example(compose: Mapping) -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert referenced == example


def test_compose_vllm_reserves_an_nvidia_gpu_and_stays_private(compose: Mapping) -> None:
    vllm = compose["services"]["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai:v")
    (device,) = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["capabilities"] == ["gpu"]
    assert "ports" not in vllm, "vLLM must be reached through the gateway only"
    assert vllm["environment"]["HF_HUB_OFFLINE"] == "1"
    args = dict(a.removeprefix("--").split("=", 1) for a in vllm["command"] if "=" in a)
    assert args["served-model-name"] == "llama-3.1-8b-instruct"
    assert args["port"] == "8000"


def test_compose_bind_mounts_exist(compose: Mapping) -> None:
    mounted = 0
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                mounted += 1
                assert (DEPLOY / source).exists(), source
    assert mounted >= 5


# --- example configuration --------------------------------------------------------------------


def check_config_shape(config: Mapping) -> None:
    """Asserts the models/deployments/prices shape the gateway's parser reads."""
    assert set(config) <= {"models", "prices", "cost", "detector"}
    names = [model["name"] for model in config["models"]]
    assert len(names) == len(set(names)), "model names are unique"
    for model in config["models"]:
        assert model.get("approval", "approved") in {"approved", "pilot", "restricted"}
        assert model["deployments"], f"{model['name']} has no deployment"
        for deployment in model["deployments"]:
            assert deployment["kind"] in {"vllm", "litellm"}
            assert "api_key" not in deployment, "credentials come from api_key_env"
            hosting = deployment["hosting"]
            assert hosting["class"] in HOSTING_CLASSES
            assert set(hosting["cleared_for"]) <= DATA_CLASSES
            assert {"retention", "region", "legal_basis"} <= set(hosting)
            if deployment["kind"] == "vllm":
                assert deployment["replicas"]
                for replica in deployment["replicas"]:
                    url = urlsplit(replica)
                    assert url.scheme == "http" and url.path == "/v1", replica
            else:
                assert "/" in deployment["litellm_model"]
                assert re.fullmatch(r"[A-Z][A-Z0-9_]*", deployment["api_key_env"])
            for key, seconds in deployment.get("timeouts", {}).items():
                assert key in {"connect_s", "first_byte_s", "idle_s"}
                assert seconds > 0
    for model, prices in config.get("prices", {}).items():
        assert model in names, f"price for unknown model {model}"
        assert set(prices) <= {"input", "cached_input", "output"}
        for amount in prices.values():
            # Strings, so that the parser builds exact Decimals.
            assert isinstance(amount, str)
            assert Decimal(amount) >= 0


def test_example_config_has_the_gateway_shape(config: Mapping) -> None:
    check_config_shape(config)
    kinds = {d["kind"] for m in config["models"] for d in m["deployments"]}
    assert kinds == {"vllm", "litellm"}
    # And the gateway's own parser accepts it, as `hygie check-config` would.
    catalog = load_catalog(DEPLOY / "config" / "config.yaml")
    assert [m.name for m in catalog.models] == [m["name"] for m in config["models"]]
    assert catalog.prices["gpt-4o-mini"].output == Decimal("0.55")


def test_helm_full_values_config_has_the_gateway_shape() -> None:
    config = load_yaml(FULL_VALUES)["config"]
    check_config_shape(config)
    assert len(parse_catalog(config, source="full-values.yaml").models) == len(config["models"])


def test_example_config_points_at_compose_services_and_keys(
    config: Mapping, compose: Mapping
) -> None:
    gateway_env = compose["services"]["gateway"]["environment"]
    for model in config["models"]:
        for deployment in model["deployments"]:
            if deployment["kind"] == "vllm":
                for replica in deployment["replicas"]:
                    assert urlsplit(replica).hostname in compose["services"]
            else:
                assert deployment["api_key_env"] in gateway_env


def test_health_data_stays_on_premise(config: Mapping) -> None:
    for model in config["models"]:
        for deployment in model["deployments"]:
            if "health" in deployment["hosting"]["cleared_for"]:
                assert deployment["hosting"]["class"] == "on_premise"


def test_example_policy_passes_the_gateway_parser(policy: Mapping) -> None:
    loaded = parse_policy((DEPLOY / "config" / "policy.yaml").read_bytes(), source="policy.yaml")
    assert loaded.document.name == policy["name"]
    rules = {rule.name: rule for rule in loaded.document.rules}
    assert rules["health-on-sovereign-hosting"].action == "allow"
    # Identifiers that designate a patient make a request health data.
    entities = loaded.document.classification.entities
    assert {entities[t].label for t in ("NIR", "IPP", "NDA")} == {"health"}


def test_example_policy_reroutes_to_models_that_exist(policy: Mapping, config: Mapping) -> None:
    # A reroute rule needs a sovereign alternative on every external model, or it refuses.
    assert any(rule["action"] == "reroute" for rule in policy["rules"])
    names = {m["name"] for m in config["models"]}
    for model in config["models"]:
        external = any(d["hosting"]["class"] != "on_premise" for d in model["deployments"])
        if external:
            assert model.get("sovereign_alternative") in names, model["name"]


# --- observability -----------------------------------------------------------------------------


def dashboard_metrics(dashboard: Mapping) -> set[str]:
    """Metric names used by the dashboard's queries and variables, histogram suffixes removed."""
    text = json.dumps([dashboard["panels"], dashboard["templating"]])
    names = set(re.findall(r"\b(hygie_[a-z_]+)", text))
    for name in list(names):
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in METRICS:
                names.discard(name)
                names.add(name.removesuffix(suffix))
    return names


def test_dashboard_reads_exactly_the_hygie_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard_metrics(dashboard) == METRICS
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs and all("hygie_" in e for e in exprs)
    # Histograms are queried through their buckets, counters through rate/increase.
    for expr in exprs:
        for histogram in (
            "hygie_request_duration_seconds",
            "hygie_time_to_first_token_seconds",
            "hygie_policy_step_seconds",
        ):
            if histogram in expr:
                assert f"{histogram}_bucket" in expr and "histogram_quantile" in expr
        for counter in re.findall(r"hygie_[a-z_]+_total", expr):
            assert re.search(rf"(rate|increase)\({counter}\b", expr), expr


def test_dashboard_panels_are_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "model"}


def test_grafana_provisioning_matches_compose(compose: Mapping) -> None:
    datasources = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")
    (prometheus,) = datasources["datasources"]
    assert prometheus["type"] == "prometheus"
    assert urlsplit(prometheus["url"]).hostname in compose["services"]
    providers = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "hygie.yaml")
    (provider,) = providers["providers"]
    mounts = [v.split(":")[1] for v in compose["services"]["grafana"]["volumes"]]
    assert any(m.startswith(provider["options"]["path"]) for m in mounts)
    assert (
        "../helm/hygie/dashboards:/etc/dashboards/hygie:ro"
        in (compose["services"]["grafana"]["volumes"])
    )


def test_prometheus_scrapes_the_gateway_and_vllm(compose: Mapping) -> None:
    prometheus = load_yaml(DEPLOY / "prometheus.yml")
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in prometheus["scrape_configs"]
    }
    assert targets["hygie"] == ["gateway:8080"]
    assert targets["vllm"] == ["vllm:8000"]
    for job_targets in targets.values():
        for target in job_targets:
            assert target.split(":")[0] in compose["services"]


def test_otel_collector_pipeline_uses_defined_components(compose: Mapping) -> None:
    collector = load_yaml(DEPLOY / "otel-collector.yaml")
    for pipeline in collector["service"]["pipelines"].values():
        for section in ("receivers", "processors", "exporters"):
            assert set(pipeline[section]) <= set(collector[section])
        # memory_limiter first, so it can refuse data before anything else buffers it.
        assert pipeline["processors"][0] == "memory_limiter"
    assert set(collector["service"]["extensions"]) <= set(collector["extensions"])
    endpoint = compose["services"]["gateway"]["environment"]["HYGIE_OTLP_ENDPOINT"]
    http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http.rsplit(":", 1)[1] == str(urlsplit(endpoint).port)


# --- image ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_image_is_multi_stage_on_python_311_slim() -> None:
    instructions = dockerfile_instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2
    base = next(args for op, args in instructions if op == "ARG" and "PYTHON_IMAGE" in args)
    assert re.search(r"python:3\.11-slim", base)
    assert any("--from=build" in args for op, args in final_stage() if op == "COPY")


def test_image_runs_as_uid_10001() -> None:
    users = [args for op, args in final_stage() if op == "USER"]
    assert users == ["10001:10001"]
    # USER comes after every RUN of the final stage: nothing runs as root at start-up.
    ops = [op for op, _ in final_stage()]
    assert ops.index("USER") > max(i for i, op in enumerate(ops) if op == "RUN")


def test_image_starts_the_gateway_and_checks_healthz() -> None:
    stage = dict(final_stage())
    assert json.loads(stage["ENTRYPOINT"]) == ["hygie"]
    assert json.loads(stage["CMD"]) == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert "http://127.0.0.1:8080/healthz" in stage["HEALTHCHECK"]
    assert stage["EXPOSE"] == "8080"


def test_image_bakes_in_no_secret() -> None:
    for op, args in dockerfile_instructions():
        if op in {"ENV", "ARG"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split("=")[0]]
            for name in names:
                assert not SECRET_NAME.search(name.upper()), f"{op} {name}"
        if op in {"COPY", "ADD"}:
            assert ".env" not in args


def test_docker_build_context_ignores_everything_but_the_sources() -> None:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {r.removeprefix("!").rstrip("/") for r in rules if r.startswith("!")}
    copied = {
        args.split()[0]
        for op, args in dockerfile_instructions()
        if op == "COPY" and not args.startswith("--from")
    }
    assert copied <= allowed | {"pyproject.toml"}


# --- vLLM examples ----------------------------------------------------------------------------


def test_vllm_kubernetes_manifest_is_valid_and_requests_a_gpu() -> None:
    manifests = [
        m for m in yaml.safe_load_all((DEPLOY / "vllm" / "vllm-statefulset.yaml").read_text()) if m
    ]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.29.0", strict=True)
    by_kind = {m["kind"]: m for m in manifests}
    statefulset, service = by_kind["StatefulSet"], by_kind["Service"]
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["image"].startswith("vllm/vllm-openai:v")
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    # The replica URLs of the chart's example config are this StatefulSet's pod DNS names.
    assert service["spec"]["clusterIP"] == "None"
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    expected = {
        f"http://{statefulset['metadata']['name']}-{i}.{service['metadata']['name']}:8000/v1"
        for i in range(statefulset["spec"]["replicas"])
    }
    config = load_yaml(FULL_VALUES)["config"]
    replicas = {
        r for m in config["models"] for d in m["deployments"] for r in d.get("replicas", [])
    }
    assert replicas == expected


@pytest.mark.parametrize(
    "script", [DEPLOY / "vllm" / "serve.sh", ROOT / "scripts" / "install-helm.sh"]
)
def test_shell_scripts_parse(script: Path) -> None:
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, timeout=10, check=False
    )
    assert result.returncode == 0, result.stderr
