"""The trail's head is kept with each closed month, so a later rewrite shows against a copy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing import audit
from billing.db.database import make_engine
from gateway.cli.app import app as hygie
from gateway.cli.report import load_costing
from tests.audit.trail import entries, remove, rewrite_from, verify
from tests.reports.factories import PARIS, seed_january
from tests.reports.test_cli_report import write_config
from tests.reports.test_routes_reports import close_and_read


def test_closing_through_the_api_anchors_the_head_on_the_statement(sqlite_url: str) -> None:
    r = asyncio.run(close_and_read(sqlite_url))
    head = r["close"].json()["audit_chain_head"]
    assert r["statement"].headers["x-hygie-audit-head"] == head
    close = [e for e in entries(sqlite_url) if e.action == "month.close"]
    assert len(close) == 1 and close[0].target == "2026-01"
    assert close[0].after["departments"]["urgences"] == "3850.20"
    assert head == f"{close[0].seq}:{close[0].hash}"  # the close itself is under the anchor
    copy = audit.parse_head(head)
    assert verify(sqlite_url, copy).ok
    rewrite_from(sqlite_url, 1, actor="mallory")
    assert verify(sqlite_url).ok  # a consistent rewrite: only the copy shows it
    broken = verify(sqlite_url, copy).broken
    assert broken is not None and (broken.seq, broken.kind) == (copy.seq, "head mismatch")


@pytest.fixture
def month(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A configuration and a ledger with January's traffic; the CLI options that name them."""
    monkeypatch.delenv("HYGIE_CONFIG", raising=False)
    monkeypatch.delenv("HYGIE_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOGNAME", "ops.nuit")
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
    return ["--config", str(config), "--database-url", sqlite_url]


def test_the_cli_closes_with_the_head_and_verify_checks_a_copy(month: list[str]) -> None:
    url = month[-1]
    runner = CliRunner()
    made = runner.invoke(
        hygie, ["departments", "create", "dsi", "--reason", "new unit", "--database-url", url]
    )
    assert made.exit_code == 0, made.output
    closed = runner.invoke(hygie, ["report", "close", "--month", "2026-01", "--by", "dfc", *month])
    assert closed.exit_code == 0, closed.output
    head = json.loads(closed.stdout)["audit_chain_head"]
    statement = runner.invoke(
        hygie,
        ["report", "chargeback", "--department", "urgences", "--month", "2026-01",
         "--format", "json", *month],
    )  # fmt: skip
    assert statement.exit_code == 0, statement.output
    assert json.loads(statement.stdout)["audit_chain_head"] == head
    trail = entries(url)
    assert [(e.actor, e.action) for e in trail] == [
        ("cli:ops.nuit", "department.create"),
        ("cli:ops.nuit", "month.close"),
    ]
    assert trail[0].reason == "new unit" and trail[1].after["closed_by"] == "dfc"

    ok = runner.invoke(hygie, ["audit", "verify", "--head", head, "--database-url", url])
    assert ok.exit_code == 0 and "ok: 2 entries" in ok.stdout
    rewrite_from(url, 1, target="it")
    assert runner.invoke(hygie, ["audit", "verify", "--database-url", url]).exit_code == 0
    caught = runner.invoke(hygie, ["audit", "verify", "--head", head, "--database-url", url])
    assert caught.exit_code == 1
    assert "BROKEN at entry 2: head mismatch" in caught.stderr
    bad = runner.invoke(hygie, ["audit", "verify", "--head", "2:xyz", "--database-url", url])
    assert bad.exit_code == 2


def test_verify_names_the_first_broken_link_and_list_filters(month: list[str]) -> None:
    url = month[-1]
    runner = CliRunner()
    for name in ("a", "b", "c"):
        assert (
            runner.invoke(hygie, ["departments", "create", name, "--database-url", url]).exit_code
            == 0
        )
    listed = runner.invoke(hygie, ["audit", "list", "--json", "--database-url", url])
    assert [json.loads(line)["target"] for line in listed.stdout.splitlines()] == ["c", "b", "a"]
    none = runner.invoke(hygie, ["audit", "list", "--actor", "alice", "--database-url", url])
    assert none.exit_code == 0 and none.stdout == ""
    since = runner.invoke(hygie, ["audit", "list", "--since", "2026-01-01", "--database-url", url])
    assert since.exit_code == 2  # a date without a zone is ambiguous
    remove(url, 2)
    broken = runner.invoke(hygie, ["audit", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert "entry 2: gap: entries 2 to 2 are missing (1 entries hold before it)" in broken.stderr
