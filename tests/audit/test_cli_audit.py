"""Every change made with the ``hygie`` command leaves an entry as ``cli:<os user>``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gateway.cli.app import app as hygie
from tests.audit.trail import entries, verify


def test_cli_changes_are_audited_without_secrets(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "root")
    monkeypatch.delenv("HYGIE_DATABASE_URL", raising=False)
    db = ["--database-url", database_url]
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(hygie, [*args, *db])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("departments", "create", "urgences", "--reason", "ouverture SAU")
    run("users", "create", "dr.urg", "--department", "urgences", "--role", "department_admin")
    created = run(
        "keys", "create", "--user", "ide.1", "--department", "urgences", "--name", "poste"
    )
    key_id, secret = created.split()[1], created.splitlines()[-1]
    run("keys", "revoke", key_id, "--reason", "poste volé")
    run("quotas", "set", "--level", "department", "--department", "urgences",
        "--budget-eur", "300.00", "--period", "month")  # fmt: skip
    node = entries(database_url)[-1].target
    run("quotas", "delete", node)

    trail = entries(database_url)
    assert [(e.action, e.target) for e in trail] == [
        ("department.create", "urgences"),
        ("user.create", "dr.urg"),
        ("key.create", key_id),
        ("key.revoke", key_id),
        ("quota.set", node),
        ("quota.delete", node),
    ]
    assert {(e.actor, e.actor_role) for e in trail} == {("cli:root", "operator")}
    assert {e.department for e in trail} == {"urgences"}
    assert [e.reason for e in trail if e.reason] == ["ouverture SAU", "poste volé"]
    assert trail[2].after["created_user"] is True
    assert trail[3].before["revoked_at"] is None and trail[3].after["revoked_at"]
    assert trail[4].after["budget_micro_eur"] == 300_000_000
    assert trail[5].before["budget_micro_eur"] == 300_000_000 and trail[5].after is None
    text = json.dumps([e.as_dict() for e in trail], ensure_ascii=False)
    assert secret not in text and "key_hash" not in text
    assert verify(database_url).ok


def test_a_refused_cli_change_leaves_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HYGIE_DATABASE_URL", raising=False)
    runner = CliRunner()
    db = ["--database-url", sqlite_url]
    long_reason = runner.invoke(hygie, ["departments", "create", "x", "--reason", "y" * 501, *db])
    assert long_reason.exit_code == 2 and "--reason" in long_reason.output
    assert runner.invoke(hygie, ["keys", "revoke", "key_none", *db]).exit_code == 1
    assert (
        runner.invoke(hygie, ["users", "create", "u", "--department", "none", *db]).exit_code == 1
    )
    assert entries(sqlite_url) == []
