"""The ``hygie`` command: keys, ledger, check-config, policy, quotas, scan (in-process, with
typer's runner), and the entry point itself in real processes: demo, serve with SIGTERM, and
the start-up imports that keep ``hygie --help`` fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from typer.testing import CliRunner, Result

from gateway.cli.app import app
from gateway.http.local_server import BackgroundServer, free_port
from hygie_simulator import create_simulator_app
from tests.conftest import CHAT_MODEL, simulator_config
from tests.polling import wait_until

HYGIE = [sys.executable, "-m", "gateway.cli"]


def hygie(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, code: int = 0
) -> Result:
    """Run ``hygie ARGS`` in this process; the exit code must be ``code``."""
    result = CliRunner().invoke(app, list(args), env=env, input=input, prog_name="hygie")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def wait_for(url: str, timeout_s: float = 30) -> None:
    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(answers, timeout_s=timeout_s, message=url)


@pytest.fixture
def closing() -> Iterator[list[openai.OpenAI]]:
    """SDK clients to close at the end of the test (their sockets would warn otherwise)."""
    clients: list[openai.OpenAI] = []
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def cli_env(sqlite_url: str) -> dict[str, str]:
    """A migrated SQLite ledger (a copy of the session's template)."""
    return {"HYGIE_DATABASE_URL": sqlite_url}


def test_keys_lifecycle_and_ledger_listing(cli_env: dict[str, str]) -> None:
    hygie("register", "add", "triage", "--purpose", "Tri", "--status", "production", env=cli_env)
    created = hygie(
        "keys",
        "create",
        "--user",
        "dr.house",
        "--department",
        "diagnostic",
        "--use-case",
        "triage",
        env=cli_env,
    )
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("hyg_sk_") and len(secret) >= 7 + 43
    listed = hygie("keys", "list", env=cli_env).stdout
    key_id = listed.split("\t")[0]
    assert "dr.house" in listed and "triage" in listed and "active" in listed
    assert secret not in listed and secret[10:] not in listed  # the secret is never shown again
    assert "revoked" in hygie("keys", "revoke", key_id, env=cli_env).stdout
    assert "revoked" in hygie("keys", "list", env=cli_env).stdout
    hygie("keys", "create", "--user", "dr.house", "--use-case", "triage", env=cli_env)
    assert "diagnostic\ttriage\t1 active key(s)" in hygie("teams", "list", env=cli_env).stdout
    hygie("keys", "revoke", key_id, env=cli_env, code=1)
    assert hygie("ledger", "list", "--json", env=cli_env).stdout == ""


def test_check_config_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "models:\n  - name: m\n    deployments:\n      - name: d\n        replicas: [nope]\n"
    )
    result = hygie("check-config", "--config", str(bad), code=2)
    assert "models[0].deployments[0].replicas[0]" in result.stderr


def test_example_configuration_is_valid() -> None:
    result = hygie("check-config", "--config", "deploy/config/config.yaml")
    assert result.stdout.strip().endswith("models")


@pytest.fixture
def upstream() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_simulator_app(simulator_config(inter_token_ms=10))) as server:
        yield server


@pytest.mark.slow
def test_serve_finishes_streams_on_sigterm_and_flushes_the_ledger(
    tmp_path: Path,
    upstream: BackgroundServer,
    cli_env: dict[str, str],
    closing: list[openai.OpenAI],
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"models:\n  - name: {CHAT_MODEL}\n    deployments:\n      - name: sim\n"
        f"        replicas: ['{upstream.url}/v1']\n"
    )
    hygie("register", "add", "uc", "--purpose", "Tests", "--status", "production", env=cli_env)
    secret = hygie(
        "keys", "create", "--user", "u", "--department", "d", "--use-case", "uc", env=cli_env
    ).stdout.split()[-1]
    port = free_port()
    env = {
        **os.environ,
        **cli_env,
        "HYGIE_CONFIG": str(config),
        "HYGIE_PORT": str(port),
        "HYGIE_SPOOL_DIR": str(tmp_path / "spool"),
        "HYGIE_LEDGER_FLUSH_INTERVAL_S": "30",
    }
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*HYGIE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        client = openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key=secret, max_retries=0
        )
        closing.append(client)
        client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "a"}], max_tokens=2
        )
        stream = client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "b"}],
            max_tokens=60,
            stream=True,
        )
        first = next(iter(stream))
        server.send_signal(signal.SIGTERM)  # mid-stream; the flush interval is 30 s
        rest = list(stream)
        assert first.choices and len(rest) >= 59  # the stream ran to its end
        # uvicorn exits through the signal it received, once shutdown is complete
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    rows = [
        json.loads(line)
        for line in hygie("ledger", "list", "--json", env=cli_env).stdout.splitlines()
    ]
    assert len(rows) == 2 and {r["completion_tokens"] for r in rows} == {2, 60}
    assert all(not r["tokens_estimated"] for r in rows)


@pytest.mark.slow
def test_demo_prints_ready_to_paste_lines_and_serves(closing: list[openai.OpenAI]) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [*HYGIE, "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: dict[str, str] = {}
        curl = ""
        assert demo.stdout is not None
        while "OPENAI_API_KEY" not in lines or not curl:
            line = demo.stdout.readline()
            assert line, "demo exited early"
            if line.startswith(("OPENAI_BASE_URL=", "OPENAI_API_KEY=")):
                name, value = line.strip().split("=", 1)
                lines[name] = value
            if line.startswith("curl "):
                curl = line
        assert lines["OPENAI_BASE_URL"] == f"http://127.0.0.1:{port}/v1"
        wait_for(f"http://127.0.0.1:{port}/healthz")
        client = openai.OpenAI(base_url=lines["OPENAI_BASE_URL"], api_key=lines["OPENAI_API_KEY"])
        closing.append(client)
        models = [m.id for m in client.models.list().data]
        reply = client.chat.completions.create(
            model=models[0], messages=[{"role": "user", "content": "Bonjour"}]
        )
        assert reply.choices[0].message.content
        output = subprocess.run(
            ["bash", "-c", curl], capture_output=True, text=True, timeout=30
        ).stdout
        assert json.loads(output)["object"] == "chat.completion"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        assert demo.stdout is not None
        demo.stdout.close()


def test_scan_reads_jsonl_and_writes_spans() -> None:
    text = "Patiente Mme Jeanne DUPONT, NIR 2 56 03 75 112 004 60, tél 06 12 34 56 78."
    lines = (
        json.dumps({"id": 1, "text": text})
        + "\n"
        + json.dumps({"id": "b", "text": "HbA1c 7,2 %"})
        + "\n"
    )
    result = hygie("scan", input=lines)
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == 1 and second == {"id": "b", "spans": []}
    found = {(text[s["start"] : s["end"]], s["type"]) for s in first["spans"]}
    assert ("2 56 03 75 112 004 60", "NIR") in found
    assert ("06 12 34 56 78", "PHONE") in found
    assert any(kind == "PERSON" and "DUPONT" in value for value, kind in found)


def test_policy_check_and_explain(tmp_path: Path) -> None:
    assert (
        "ok: policy chu-default" in hygie("policy", "check", "policies/default_policy.yaml").stdout
    )
    config = tmp_path / "config.yaml"
    hosting_eu = "{class: eu_cloud, cleared_for: [public, internal]}"
    hosting_local = "{class: on_premise, cleared_for: [public, internal, personal, health]}"
    replica = "['http://127.0.0.1:9/v1']"
    config.write_text(
        "models:\n  - name: cloud\n    sovereign_alternative: local\n    deployments:\n"
        f"      - {{name: eu, replicas: {replica}, hosting: {hosting_eu}}}\n"
        "  - name: local\n    deployments:\n"
        f"      - {{name: onprem, replicas: {replica}, hosting: {hosting_local}}}\n"
    )
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "model": "cloud",
                "messages": [{"role": "user", "content": "Compte rendu de M. Paul MARTIN"}],
            }
        )
    )
    result = hygie(
        "policy", "explain", str(request), "--department", "urgences", "--config", str(config)
    )
    explained = json.loads(result.stdout)
    assert explained["decision"] == "reroute" and explained["reroute_to"] == "local"
    assert "MARTIN" not in result.stdout


def test_quotas_set_and_list(cli_env: dict[str, str]) -> None:
    hygie("keys", "create", "--user", "u1", "--department", "radiologie", env=cli_env)
    saved = hygie(
        "quotas",
        "set",
        "--level",
        "department",
        "--department",
        "radiologie",
        "--budget-eur",
        "2500",
        "--period",
        "month",
        "--rpm",
        "120",
        env=cli_env,
    )
    assert "department radiologie" in saved.stdout
    listed = hygie("quotas", "list", env=cli_env).stdout
    assert "department radiologie" in listed and "2500" in listed and "rpm 120" in listed
    missing = hygie(
        "quotas",
        "set",
        "--level",
        "department",
        "--department",
        "nope",
        "--rpm",
        "1",
        env=cli_env,
        code=1,
    )
    assert "does not exist" in missing.stderr


def test_quotas_set_refuses_an_amount_out_of_bounds(cli_env: dict[str, str]) -> None:
    hygie("keys", "create", "--user", "u1", "--department", "radiologie", env=cli_env)
    for amount in ("1e999999999", "-5", "NaN", "0.0000001"):
        refused = hygie(
            "quotas",
            "set",
            "--level",
            "department",
            "--department",
            "radiologie",
            "--budget-eur",
            amount,
            "--period",
            "month",
            env=cli_env,
            code=2,
        )
        assert "--budget-eur" in refused.stderr, amount


# What ``hygie --help`` must not load: each costs a fraction of a second to a second at start-up.
HEAVY_MODULES = ("sqlalchemy", "alembic", "fastapi", "litellm", "aiohttp", "hygie_simulator")


def test_help_starts_without_the_heavy_modules() -> None:
    """The entry point in a real interpreter: commands import what they need when they run."""
    probe = (
        "import sys\n"
        "from gateway.cli import main\n"
        "sys.argv = ['hygie', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "[]"
    assert "demo" in result.stdout and "report" in result.stdout and "keys" in result.stdout


@pytest.mark.parametrize("command", [["demo", "--port", "9"], ["simulate-vllm", "--port", "9"]])
def test_without_the_simulator_the_demo_says_how_to_install_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hygie_simulator", None)  # as if it were not installed
    result = hygie(*command, code=1)
    assert "hygie-simulator" in result.stderr and "make demo" in result.stderr
    assert "pip install 'hygie[demo]'" in result.stderr


def test_report_help_lists_every_grouping() -> None:
    from billing.reports.report import Dimension
    from gateway.cli.report import GROUP_BY_CHOICES

    assert GROUP_BY_CHOICES.split(",") == [d.value for d in Dimension]
