"""A new sovereignty policy taken by a running gateway is an entry of the trail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from billing.audit.policy_reloads import record_reload
from billing.db.database import make_engine
from policies.policy_file import DEFAULT_POLICY_PATH
from policies.reload import PolicyHolder
from tests.audit.trail import entries, verify


def test_each_reload_is_audited_and_an_unchanged_or_broken_file_is_not(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    original = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    holder = PolicyHolder(path)
    first = holder.engine.version

    async def run() -> list[bool]:
        engine = make_engine(database_url)
        try:
            outcomes = [await record_reload(holder, engine)]  # unchanged
            path.write_text(original + "\n# reviewed by the DPO\n", encoding="utf-8")
            outcomes.append(await record_reload(holder, engine))
            path.write_text("rules: [oops", encoding="utf-8")
            outcomes.append(await record_reload(holder, engine))  # rejected, old one kept
            return outcomes
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == [False, True, False]
    [entry] = entries(database_url)
    assert (entry.actor, entry.action) == ("system:policy-watch", "policy.reload")
    assert entry.before["version"] == first
    assert entry.after["version"] == holder.engine.version != first
    assert verify(database_url).ok
