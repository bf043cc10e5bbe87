"""Migration 0008 adds the trail to an existing database without touching what is there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from billing import audit
from billing.audit import Actor
from billing.db.migrate import alembic_config
from tests.audit.trail import entries, on_engine, verify


def test_upgrading_a_database_of_the_previous_release_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    url = f"sqlite+aiosqlite:///{path}"
    config = alembic_config(url)
    previous = ScriptDirectory.from_config(config).get_revision("0008").down_revision
    assert isinstance(previous, str)
    command.upgrade(config, previous)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO departments (name, display_name, created_at) "
            "VALUES ('cardiologie', 'Cardiologie', '2026-01-01 00:00:00')"
        )
    command.upgrade(config, "head")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM departments").fetchall() == [("cardiologie",)]
        assert db.execute("SELECT seq, hash FROM audit_chain_head").fetchall() == [
            (0, audit.GENESIS_HASH)
        ]
    on_engine(url, lambda e: audit.append(e, Actor("cli:root", "operator"), "x.y", "z"))
    assert [e.seq for e in entries(url)] == [1]
    assert verify(url).ok
