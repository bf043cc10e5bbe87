"""The directory refuses roles it does not know and finds keys with their owner's role."""

from __future__ import annotations

import asyncio

import pytest

from billing import directory
from billing.db.database import make_engine


def test_an_unknown_role_is_refused_and_a_key_tells_its_owners_role(database_url: str) -> None:
    async def run() -> None:
        engine = make_engine(database_url)
        try:
            dept = await directory.create_department(engine, "neurologie")
            with pytest.raises(directory.DirectoryError, match="superuser"):
                await directory.create_user(engine, "x", department="neurologie", role="superuser")
            assert await directory.find_user(engine, "x") is None
            with pytest.raises(directory.NoSuchDepartment):
                await directory.create_user(engine, "y", department="nowhere")
            await directory.create_user(engine, "boss", department="neurologie", role="admin")
            await directory.store_key(
                engine, key_id="key_1", key_hash="h" * 64, display_prefix="hyg_sk_abc",
                username="boss",
            )  # fmt: skip
            key = await directory.find_key(engine, "key_1")
            assert key is not None and (key.role, key.department) == ("admin", "neurologie")
            assert await directory.find_key(engine, "key_2") is None
            assert await directory.department_name(engine, dept.id) == "neurologie"
            assert await directory.department_name(engine, dept.id + 1000) is None
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.mark.parametrize("display_name", ["=HYPERLINK(1)", "+33", "-cardio", "@SUM(A1)", "\tx"])
def test_a_display_name_a_spreadsheet_would_run_is_refused(
    sqlite_url: str, display_name: str
) -> None:
    async def run() -> None:
        engine = make_engine(sqlite_url)
        try:
            with pytest.raises(directory.DirectoryError, match="display name"):
                await directory.create_department(engine, "pharmacie", display_name=display_name)
            assert await directory.find_department(engine, "pharmacie") is None
            kept = await directory.create_department(engine, "pharmacie", display_name="Pharmacie")
            assert kept.display_name == "Pharmacie"
        finally:
            await engine.dispose()

    asyncio.run(run())
