"""``hygie register`` and ``hygie report inventory`` from a shell, on the demo's catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from gateway.cli.app import app


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def hygie(*args: str, env: dict[str, str], check: bool = True) -> Result:
    """The command in this process (a subprocess per call costs seconds of imports)."""
    outcome = CliRunner().invoke(app, list(args), env=env)
    result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
    if check:
        assert outcome.exit_code == 0, (outcome.stdout, outcome.stderr, outcome.exception)
    return result


def test_register_approvals_page_and_inventory_from_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "models.yaml"
    hosting = {"class": "on_premise", "cleared_for": ["health"], "region": "fr"}
    card = {"provenance": "Meta", "approved_by": "Comité IA", "approved_on": "2026-01-20"}
    models = [
        {
            "name": name,
            "card": card,
            "deployments": [
                {"name": f"d-{name}", "replicas": ["http://127.0.0.1:9/v1"], "hosting": hosting}
            ],
        }
        for name in ("llama-3.1-8b-instruct", "bge-m3")
    ]
    config.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
    env = {
        "HYGIE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        "HYGIE_CONFIG": str(config),
    }
    hygie(
        "register",
        "add",
        "courriers",
        "--purpose",
        "Courriers <b>de sortie</b>",
        "--status",
        "production",
        "--data-class",
        "health",
        "--model",
        "llama-3.1-8b-instruct",
        "--legal-basis",
        "Mission d'intérêt public",
        env=env,
    )
    bad = hygie(
        "register", "add", "x", "--purpose", "p", "--data-class", "secret", env=env, check=False
    )
    assert bad.returncode == 2 and "unknown data class" in bad.stderr
    twice = hygie("register", "add", "courriers", "--purpose", "p", env=env, check=False)
    assert twice.returncode == 1 and "already registered" in twice.stderr
    listed = json.loads(hygie("register", "list", env=env).stdout)
    assert listed[0]["allowed_models"] == ["llama-3.1-8b-instruct"]
    assert "retired" in hygie("register", "status", "courriers", "retired", env=env).stdout
    hygie("register", "status", "courriers", "production", env=env)

    no_reason = hygie("register", "reject", "bge-m3", "--reason", " ", env=env, check=False)
    assert no_reason.returncode == 1
    hygie("register", "reject", "bge-m3", "--reason", "non évalué", "--by", "dpo", env=env)
    cards = {c["name"]: c for c in json.loads(hygie("register", "models", env=env).stdout)}
    assert cards["bge-m3"]["approval"] == "rejected"
    assert cards["bge-m3"]["approval_step"]["actor"] == "dpo"
    assert cards["llama-3.1-8b-instruct"]["card"]["approved_by"] == "Comité IA"

    draft = hygie("register", "page", env=env).stdout
    assert "Courriers &lt;b&gt;de sortie&lt;/b&gt;" in draft
    hygie("register", "page", "--publish", env=env)

    inventory = hygie("report", "inventory", "--format", "csv", env=env).stdout
    assert inventory.splitlines()[1].startswith("courriers,production,")
