"""The chain itself: appends link up, and any change to a stored row is found and named."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from billing import audit
from billing.audit import Actor
from billing.db.schema import audit_chain_head, audit_log
from tests.audit.trail import (
    ALICE,
    append_many,
    edit,
    entries,
    execute,
    on_engine,
    remove,
    rewrite_from,
    verify,
)


def test_an_empty_trail_holds_and_appends_link_each_entry_to_the_one_before(
    database_url: str,
) -> None:
    assert verify(database_url).ok and verify(database_url).checked == 0
    append_many(database_url, 3)
    trail = entries(database_url)
    assert [e.seq for e in trail] == [1, 2, 3]
    assert trail[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in trail[1:]] == [e.hash for e in trail[:-1]]
    assert all(e.at.tzinfo is UTC for e in trail)
    result = verify(database_url)
    assert result.ok and result.checked == 3
    assert result.head == audit.ChainHead(3, trail[-1].hash)


def test_secrets_never_reach_the_trail_at_any_depth(database_url: str) -> None:
    after = {
        "id": "key_1",
        "key": "hy-secret",
        "key_hash": "abc",
        "nested": [{"client_secret": "s", "Token": "t", "kept": "ok"}],
    }
    on_engine(database_url, lambda e: audit.append(e, ALICE, "key.create", "key_1", after=after))
    stored = entries(database_url)[0].after
    assert stored == {"id": "key_1", "nested": [{"kept": "ok"}]}
    assert verify(database_url).ok


def test_odd_unicode_and_exact_values_survive_the_round_trip(database_url: str) -> None:
    after = {"name": "Réa\u00a0pédiatrique 🏥", "budget": "1500.10", "n": 2**40, "ok": True}
    on_engine(
        database_url,
        lambda e: audit.append(
            e, Actor("chef.réa", "department_admin"), "quota.set", "dept:1", after=after,
            reason="Décision du directoire n°12",
        ),
    )  # fmt: skip
    assert entries(database_url)[0].after == after
    assert verify(database_url).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "mallory"),
        ("action", "department.delete"),
        ("after", {"name": "dept-x"}),
        ("before", {"name": "dept-1"}),
        ("reason", "nothing to see"),
        ("at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("hash", "f" * 64),
    ],
)
def test_editing_any_column_of_any_row_is_named(
    database_url: str, column: str, value: object
) -> None:
    append_many(database_url, 4)
    edit(database_url, 2, **{column: value})
    broken = verify(database_url).broken
    assert broken is not None and (broken.seq, broken.kind) == (2, "hash mismatch")


def test_deleting_a_row_is_a_gap_and_deleting_the_last_one_a_truncation(database_url: str) -> None:
    append_many(database_url, 5)
    remove(database_url, 3)
    broken = verify(database_url).broken
    assert broken is not None and (broken.seq, broken.kind) == (3, "gap")
    assert "3 to 3" in broken.detail
    remove(database_url, 5)
    execute(database_url, update(audit_log).where(audit_log.c.seq == 4).values(seq=3))
    broken = verify(database_url).broken  # renumbered to hide the gap: 3 no longer follows 2
    assert broken is not None and broken.seq == 3 and broken.kind == "reorder"


def test_removing_the_newest_entries_is_caught_by_the_head(database_url: str) -> None:
    append_many(database_url, 3)
    remove(database_url, 3)
    broken = verify(database_url).broken
    assert broken is not None and (broken.seq, broken.kind) == (3, "truncated")


def test_reordering_two_rows_is_named(database_url: str) -> None:
    append_many(database_url, 4)
    execute(
        database_url,
        update(audit_log).where(audit_log.c.seq == 2).values(seq=-2),
        update(audit_log).where(audit_log.c.seq == 3).values(seq=2),
        update(audit_log).where(audit_log.c.seq == -2).values(seq=3),
    )
    broken = verify(database_url).broken
    assert broken is not None and broken.seq == 2 and broken.kind == "reorder"


def test_an_inserted_row_is_named_wherever_it_goes(database_url: str) -> None:
    append_many(database_url, 3)
    forged = {
        "at": datetime.now(UTC), "actor": "mallory", "actor_role": "admin",
        "action": "key.create", "target": "key_x", "prev_hash": "0" * 64, "hash": "1" * 64,
    }  # fmt: skip
    execute(database_url, insert(audit_log).values(seq=0, **forged))
    broken = verify(database_url).broken
    assert broken is not None and (broken.seq, broken.kind) == (0, "reorder")
    execute(database_url, update(audit_log).where(audit_log.c.seq == 0).values(seq=4))
    execute(database_url, update(audit_chain_head).values(seq=4, hash="1" * 64))
    broken = verify(database_url).broken  # appended after the head and the head moved too
    assert broken is not None and broken.seq == 4 and broken.kind == "reorder"


def test_a_consistent_rewrite_passes_alone_but_not_against_a_copied_head(
    database_url: str,
) -> None:
    append_many(database_url, 5)
    copy = verify(database_url).head
    rewrite_from(database_url, 2, actor="mallory")
    assert verify(database_url).ok  # every hash recomputed: only a copy kept elsewhere shows it
    broken = verify(database_url, copy=copy).broken
    assert broken is not None and broken.seq == 5 and broken.kind == "head mismatch"
    assert not verify(database_url, copy=audit.ChainHead(99, "a" * 64)).ok


def test_reasons_are_checked_before_they_are_stored() -> None:
    assert audit.clean_reason("  ") is None
    assert audit.clean_reason(" ticket 42 ") == "ticket 42"
    for bad in (
        "x" * 501,
        "line\nbreak",
        "bell\x07",
        "nel\x85here",
        "rtl\u2028sep",
        "bidi\u202eflip",
        "x\udc80",
    ):
        with pytest.raises(audit.InvalidReason):
            audit.clean_reason(bad)


def test_a_head_copy_is_parsed_strictly() -> None:
    assert audit.parse_head(f"12:{'ab' * 32}") == audit.ChainHead(12, "ab" * 32)
    for bad in ("12", f"-1:{'a' * 64}", f"1:{'A' * 64}", f"1:{'a' * 63}", f"x:{'a' * 64}"):
        with pytest.raises(ValueError):
            audit.parse_head(bad)


APPENDER = """
import asyncio, sys
from billing import audit
from billing.audit import Actor
from billing.db.database import make_engine

async def main(url, name, count):
    engine = make_engine(url)
    try:
        for n in range(count):
            await audit.append(engine, Actor(name, "admin"), "quota.set", f"{name}-{n}")
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_concurrent_appends_from_two_processes_keep_one_chain(database_url: str) -> None:
    count = 40
    workers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, database_url, name, str(count)])
        for name in ("proc-a", "proc-b")
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    result = verify(database_url)
    assert result.ok, str(result.broken)
    assert result.checked == 2 * count
    trail = entries(database_url)
    assert [e.seq for e in trail] == list(range(1, 2 * count + 1))
    assert {e.actor for e in trail} == {"proc-a", "proc-b"}


def test_concurrent_appends_from_two_engines_in_one_process(database_url: str) -> None:
    import asyncio

    from billing.db.database import make_engine

    async def run() -> None:
        engines = [make_engine(database_url) for _ in range(2)]
        try:
            await asyncio.gather(
                *(audit.append(engines[n % 2], ALICE, "key.revoke", f"key_{n}") for n in range(30))
            )
        finally:
            for engine in engines:
                await engine.dispose()

    asyncio.run(run())
    result = verify(database_url)
    assert result.ok and result.checked == 30
    assert json.dumps([e.target for e in entries(database_url)]).count("key_") == 30


def test_hostile_text_is_stored_escaped_and_still_verifies(database_url: str) -> None:
    on_engine(
        database_url,
        lambda e: audit.append(
            e, Actor("x\ny", "admin"), "admin_token.use", "DELETE /admin/keys/\x00\n\u202e",
            after={"name\x00": "a\ud800b", "ok": "é\n"},
        ),
    )  # fmt: skip
    [entry] = entries(database_url)
    assert entry.target == "DELETE /admin/keys/\\u0000\\u000a\\u202e"
    assert entry.actor == "x\\u000ay"
    assert entry.after == {"name\\u0000": "a\\ud800b", "ok": "é\n"}
    assert verify(database_url).ok


def test_a_database_without_its_head_row_starts_one_and_never_forks(database_url: str) -> None:
    from sqlalchemy import delete

    execute(database_url, delete(audit_chain_head))
    append_many(database_url, 2)
    assert [e.seq for e in entries(database_url)] == [1, 2] and verify(database_url).ok
    execute(database_url, delete(audit_chain_head))  # an intruder removes the head
    broken = verify(database_url).broken
    assert broken is not None and broken.kind == "truncated"
    with pytest.raises(IntegrityError):  # a new chain cannot start over the old one
        append_many(database_url, 1)
