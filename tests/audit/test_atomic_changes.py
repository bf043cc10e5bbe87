"""A change and its audit entry land together or not at all, on SQLite and PostgreSQL, and
concurrent changes keep one valid chain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from typer.testing import CliRunner

from billing import audit, directory
from billing.audit import changes
from billing.db.schema import audit_log
from billing.directory import models as approvals
from billing.directory.public_pages import publish_page, published_page
from billing.directory.use_cases import (
    UseCase,
    find_use_case,
    register_use_case,
    update_use_case,
)
from billing.limits import repo
from billing.quotas import Level, NodeLimits
from gateway.cli.app import app
from policies.governance.register import ApprovalStatus, Lifecycle
from tests.audit.trail import ALICE, entries, execute, on_engine, verify
from tests.conftest import RunningGateway

ADMIN = {"Authorization": "Bearer admin-test-token"}


class AuditDown(RuntimeError):
    """The audit entry could not be written."""


async def _seeded(engine: AsyncEngine) -> None:
    await directory.create_department(engine, "cardiologie")
    await directory.create_user(engine, "dr.martin", department="cardiologie")
    await register_use_case(engine, UseCase("courriers", department="cardiologie"))
    await directory.store_key(
        engine, key_id="k1", key_hash="h1", display_prefix="hyg_sk_k1", username="dr.martin"
    )
    await repo.save_limits(
        engine, NodeLimits(node_id="dept:1", level=Level.DEPARTMENT, rpm=10), label="cardiologie"
    )


Write = Callable[[AsyncConnection], Awaitable[Any]]
Landed = Callable[[AsyncEngine], Awaitable[bool]]


async def _key_revoked(engine: AsyncEngine) -> bool:
    key = await directory.find_key(engine, "k1")
    return key is None or key.revoked_at is not None


CHANGES: dict[str, tuple[Write, Landed]] = {
    "department.create": (
        lambda db: directory.create_department(db, "oncologie"),
        lambda e: _is_not_none(directory.find_department(e, "oncologie")),
    ),
    "user.create": (
        lambda db: directory.create_user(db, "dr.onco", department="cardiologie"),
        lambda e: _is_not_none(directory.find_user(e, "dr.onco")),
    ),
    "key.create": (
        lambda db: directory.store_key(
            db, key_id="k2", key_hash="h2", display_prefix="hyg_sk_k2", username="dr.martin"
        ),
        lambda e: _is_not_none(directory.find_key(e, "k2")),
    ),
    "key.revoke": (lambda db: directory.revoke_key(db, "k1"), _key_revoked),
    "quota.set": (
        lambda db: repo.save_limits(
            db, NodeLimits(node_id="dept:1", level=Level.DEPARTMENT, rpm=99), label="cardiologie"
        ),
        lambda e: _rpm_is(e, 99),
    ),
    "quota.delete": (
        lambda db: repo.delete_limits(db, "dept:1"),
        lambda e: _is_none(repo.get_limits(e, "dept:1")),
    ),
    "use_case.create": (
        lambda db: register_use_case(db, UseCase("triage", department="cardiologie")),
        lambda e: _is_not_none(find_use_case(e, "triage")),
    ),
    "use_case.status": (
        lambda db: _retire(db, "courriers"),
        lambda e: _status_is(e, "courriers", "retired"),
    ),
    "model.requested": (
        lambda db: approvals.record_step(db, "llama", ApprovalStatus.REQUESTED, actor="alice"),
        lambda e: _has_history(e, "llama"),
    ),
    "patient_page.publish": (
        lambda db: publish_page(db, "<p>IA</p>", by="alice"),
        lambda e: _is_not_none(published_page(e)),
    ),
}


async def _is_not_none(found: Awaitable[Any]) -> bool:
    return await found is not None


async def _is_none(found: Awaitable[Any]) -> bool:
    return await found is None


async def _rpm_is(engine: AsyncEngine, rpm: int) -> bool:
    stored = await repo.get_limits(engine, "dept:1")
    return stored is not None and stored.limits.rpm == rpm


async def _retire(db: AsyncConnection, name: str) -> UseCase:
    current = await find_use_case(db, name)
    assert current is not None
    return await update_use_case(db, replace(current, status=Lifecycle.RETIRED))


async def _status_is(engine: AsyncEngine, name: str, status: str) -> bool:
    found = await find_use_case(engine, name)
    return found is not None and str(found.status) == status


async def _has_history(engine: AsyncEngine, model: str) -> bool:
    return bool(await approvals.history(engine, model))


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_a_change_whose_entry_fails_is_rolled_back(
    action: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write, landed = CHANGES[action]

    async def fail(*_: Any, **__: Any) -> None:
        raise AuditDown("the trail is unavailable")

    async def attempt(engine: AsyncEngine) -> tuple[bool, int]:
        await _seeded(engine)
        before = len(await audit.list_entries(engine, limit=1000))
        with pytest.raises(AuditDown):
            async with audit.audited_change(engine, ALICE, action, "target") as change:
                await write(change.connection)
        return await landed(engine), len(await audit.list_entries(engine, limit=1000)) - before

    monkeypatch.setattr(changes, "write_entry", fail)
    assert on_engine(database_url, attempt) == (False, 0)
    monkeypatch.undo()

    async def succeed(engine: AsyncEngine) -> bool:
        async with audit.audited_change(engine, ALICE, action, "target") as change:
            await write(change.connection)
        return await landed(engine)

    assert on_engine(database_url, succeed)
    trail = entries(database_url)
    assert [e.action for e in trail] == [action] and verify(database_url).ok


def test_a_failed_change_leaves_no_entry_and_frees_the_head(database_url: str) -> None:
    async def attempt(engine: AsyncEngine) -> None:
        await directory.create_department(engine, "cardiologie")
        with pytest.raises(directory.DirectoryError):
            async with audit.audited_change(engine, ALICE, "department.create", "x") as change:
                await directory.create_department(change.connection, "cardiologie")  # taken
        async with audit.audited_change(engine, ALICE, "department.create", "y") as change:
            await directory.create_department(change.connection, "pneumologie")

    on_engine(database_url, attempt)
    assert [(e.seq, e.target) for e in entries(database_url)] == [(1, "y")]
    assert verify(database_url).ok


def test_through_the_api_a_change_whose_entry_fails_does_not_land(
    gateway: RunningGateway,
) -> None:
    """The entry's row is taken by an intruder's row: the write fails, the change is undone."""
    head = on_engine(gateway.database_url, audit.chain_head)
    # The admin token's own use is entry seq+1; the department's entry would be seq+2.
    squatter = {
        "seq": head.seq + 2,
        "at": datetime.now(UTC),
        "actor": "intruder",
        "actor_role": "admin",
        "action": "x",
        "target": "x",
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
    execute(gateway.database_url, insert(audit_log).values(**squatter))
    body = {"name": "oncologie"}
    failed = httpx.post(f"{gateway.url}/admin/departments", headers=ADMIN, json=body)
    assert failed.status_code == 500 and "error" in failed.json()
    assert (
        on_engine(gateway.database_url, lambda e: directory.find_department(e, "oncologie")) is None
    )

    execute(gateway.database_url, delete(audit_log).where(audit_log.c.actor == "intruder"))
    made = httpx.post(f"{gateway.url}/admin/departments", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    assert [e.target for e in entries(gateway.database_url, action="department.create")] == [
        "oncologie"
    ]
    assert verify(gateway.database_url).ok


def test_concurrent_api_changes_form_one_valid_chain(gateway: RunningGateway) -> None:
    count = 16

    async def create_all() -> list[int]:
        async with httpx.AsyncClient(base_url=gateway.url, headers=ADMIN, timeout=60) as client:
            replies = await asyncio.gather(
                *(
                    client.post("/admin/departments", json={"name": f"service-{n}"})
                    for n in range(count)
                )
            )
        return [r.status_code for r in replies]

    assert asyncio.run(create_all()) == [201] * count
    trail = entries(gateway.database_url)
    created = [e.target for e in trail if e.action == "department.create"]
    assert sorted(created) == sorted(f"service-{n}" for n in range(count))
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert verify(gateway.database_url).ok
    departments = on_engine(gateway.database_url, directory.list_departments)
    assert {d.name for d in departments} >= set(created)


def test_from_the_cli_a_change_whose_entry_fails_does_not_land(sqlite_url: str) -> None:
    head = on_engine(sqlite_url, audit.chain_head)
    squatter = {
        "seq": head.seq + 1,
        "at": datetime.now(UTC),
        "actor": "intruder",
        "actor_role": "admin",
        "action": "x",
        "target": "x",
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
    execute(sqlite_url, insert(audit_log).values(**squatter))
    args = ["departments", "create", "oncologie", "--database-url", sqlite_url]
    assert CliRunner().invoke(app, args).exit_code != 0
    assert on_engine(sqlite_url, lambda e: directory.find_department(e, "oncologie")) is None
    execute(sqlite_url, delete(audit_log).where(audit_log.c.actor == "intruder"))
    assert CliRunner().invoke(app, args).exit_code == 0
    assert [e.target for e in entries(sqlite_url)] == ["oncologie"] and verify(sqlite_url).ok
