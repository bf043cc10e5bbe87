"""``hygie report ...``: the same reports from a shell, on a configuration file and a ledger."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from billing.db.database import make_engine
from gateway.cli.report import load_costing, report_app
from tests.billing.test_focus import assert_focus_conformant
from tests.reports.factories import PARIS, make_cost_config, seed_january

ONPREM = {"class": "on_premise", "cleared_for": ["public", "health"]}
REPLICAS = ["http://127.0.0.1:9/v1"]


def write_config(path: Path) -> Path:
    models = [
        {"name": "mistral-small", "deployments": [
            {"name": "ms-onprem", "replicas": REPLICAS, "hosting": ONPREM,
             "gpus": {"pool": "h100-a", "count": 2}}]},
        {"name": "radio-llm", "deployments": [
            {"name": "radio-onprem", "replicas": REPLICAS, "hosting": ONPREM,
             "gpus": {"pool": "h100-a", "count": 2}}]},
        {"name": "mistral-medium", "deployments": [
            {"name": "mm-cloud", "kind": "litellm", "litellm_model": "mistral/mistral-medium",
             "hosting": {"class": "eu_cloud"}}]},
    ]  # fmt: skip
    cost = make_cost_config().model_dump(mode="json", exclude_defaults=True)
    path.write_text(yaml.safe_dump({"models": models, "cost": cost}), encoding="utf-8")
    return path


@pytest.fixture
def setup(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.delenv("HYGIE_CONFIG", raising=False)
    monkeypatch.delenv("HYGIE_DATABASE_URL", raising=False)
    config = write_config(tmp_path / "hygie.yaml")
    _, costing = load_costing(config, PARIS)
    assert costing is not None

    async def fill() -> None:
        engine = make_engine(sqlite_url)
        try:
            await seed_january(engine, costing)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    return str(config), sqlite_url


def test_usage_focus_chargeback_and_top_from_the_shell(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    config, url = setup
    runner = CliRunner()
    common = ["--config", config, "--database-url", url]

    usage = runner.invoke(
        report_app,
        ["usage", "--group-by", "hosting_class", "--from", "2026-01-01", "--to", "2026-01-31",
         "--format", "csv", *common],
    )  # fmt: skip
    assert usage.exit_code == 0, usage.output
    *rows, note = list(csv.DictReader(io.StringIO(usage.stdout, newline="")))
    assert note["row_type"] == "note" and "true-up" in note["requests"]
    assert [(r["hosting_class"], r["cost_eur"]) for r in rows] == [
        ("eu_cloud", "0.600000"),
        ("on_premise", "4600.000000"),
        ("unknown", "0.000000"),
        ("", "4600.600000"),
    ]

    french = runner.invoke(
        report_app,
        ["usage", "--group-by", "hosting_class", "--from", "2026-01-01", "--to", "2026-01-31",
         "--format", "csv", "--lang", "fr", *common],
    )  # fmt: skip
    assert french.exit_code == 0, french.output
    assert french.stdout.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(french.stdout[1:], newline=""), delimiter=";")
    assert [r["cost_eur"] for r in reader][:2] == ["0,600000", "4600,000000"]

    target = tmp_path / "focus.csv"
    focus = runner.invoke(report_app, ["focus", "--month", "2026-01", "-o", str(target), *common])
    assert focus.exit_code == 0, focus.output
    assert_focus_conformant(target.read_text(encoding="utf-8"))

    statement = runner.invoke(
        report_app, ["chargeback", "--department", "urgences", "--month", "2026-01", *common]
    )
    assert statement.exit_code == 0, statement.output
    assert "3850,20" in statement.stdout  # French CSV by default
    assert "PROVISIONAL: 2026-01 is not closed" in statement.stderr

    top = runner.invoke(
        report_app, ["top", "--from", "2026-01-01", "--to", "2026-01-31", "--database-url", url]
    )
    assert top.exit_code == 0, top.output
    assert json.loads(top.stdout)[0]["user"] == "alice"


def test_errors_are_reported_with_an_exit_code(setup: tuple[str, str]) -> None:
    config, url = setup
    runner = CliRunner()
    missing = runner.invoke(report_app, ["focus", "--month", "2026-01", "--database-url", url])
    assert missing.exit_code == 2 and "needs the configuration" in missing.stderr
    bad_month = runner.invoke(
        report_app, ["focus", "--month", "2026-13", "--config", config, "--database-url", url]
    )
    assert bad_month.exit_code == 2 and "no month 13" in bad_month.stderr
    unknown = runner.invoke(
        report_app, ["usage", "--department", "pharmacie", "--database-url", url]
    )
    assert unknown.exit_code == 1 and "pharmacie" in unknown.stderr


def test_an_unknown_department_or_a_future_month_is_an_error_not_an_empty_statement(
    setup: tuple[str, str],
) -> None:
    config, url = setup
    runner = CliRunner()
    common = ["--config", config, "--database-url", url]
    typo = runner.invoke(
        report_app, ["chargeback", "--department", "cardiolgie", "--month", "2026-01", *common]
    )
    assert typo.exit_code == 1 and "no department 'cardiolgie'" in typo.stderr
    focus = runner.invoke(
        report_app, ["focus", "--department", "cardiolgie", "--month", "2026-01", *common]
    )
    assert focus.exit_code == 1
    future = runner.invoke(
        report_app, ["chargeback", "--department", "urgences", "--month", "2999-01", *common]
    )
    assert future.exit_code == 1 and "has not started" in future.stderr


def test_close_freezes_a_month_and_refuses_to_close_it_twice(setup: tuple[str, str]) -> None:
    config, url = setup
    runner = CliRunner()
    common = ["--config", config, "--database-url", url]
    closed = runner.invoke(report_app, ["close", "--month", "2026-01", "--by", "dfc", *common])
    assert closed.exit_code == 0, closed.output
    summary = json.loads(closed.stdout)
    assert summary["status"] == "closed"
    assert summary["departments"] == {
        "cardiologie": "6417.60",
        "radiologie": "3422.40",
        "urgences": "3850.20",
    }
    again = runner.invoke(report_app, ["close", "--month", "2026-01", *common])
    assert again.exit_code == 1 and "already closed" in again.stderr
    statement = runner.invoke(
        report_app,
        ["chargeback", "--department", "urgences", "--month", "2026-01", "--format", "html",
         *common],
    )  # fmt: skip
    assert statement.exit_code == 0 and "PROVISIONAL" not in statement.stderr
    assert "DÉFINITIF" in statement.stdout
    current = runner.invoke(report_app, ["close", "--month", "2999-01", *common])
    assert current.exit_code == 1 and "not over" in current.stderr
