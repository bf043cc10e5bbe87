"""The ledger writer journals first, batches, never duplicates, and survives an outage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from billing import ledger
from billing.database import make_engine
from billing.journal import Journal, read_segment
from billing.ledger_record import LedgerRecord
from billing.ledger_writer import LedgerWriter
from billing.migrate import upgrade_to_head


def make_record(request_id: str, **overrides: object) -> LedgerRecord:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "request_id": request_id,
        "started_at": now,
        "finished_at": now,
        "endpoint": "chat",
        "status_code": 200,
        "latency_ms": 1.5,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "entity_counts": {"NIR": 1},
        **overrides,
    }
    return LedgerRecord(**values)  # type: ignore[arg-type]


def test_records_are_written_once_even_if_submitted_twice(
    database_url: str, tmp_path: Path
) -> None:
    async def run() -> list[LedgerRecord]:
        engine = make_engine(database_url)
        writer = LedgerWriter(
            lambda rs: ledger.insert_records(engine, rs), Journal(tmp_path), flush_interval_s=0.01
        )
        await writer.start()
        for i in range(25):
            writer.submit(make_record(f"req_{i}"))
        writer.submit(make_record("req_3"))  # a replay of an already accepted record
        await writer.close()
        stored = await ledger.recent_records(engine, limit=100)
        await engine.dispose()
        return stored

    stored = asyncio.run(run())
    assert sorted(r.request_id for r in stored) == sorted(f"req_{i}" for i in range(25))
    assert stored[0].started_at.tzinfo is not None
    assert stored[0].entity_counts == {"NIR": 1}
    assert list(tmp_path.glob("ledger-*")) == []  # stored segments are deleted


def test_unreachable_database_keeps_records_in_the_journal_then_replays(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    journal_dir = tmp_path / "journal"

    async def write_while_down() -> None:
        # A database without the ledger table: every insert fails, as if it were unreachable.
        broken = make_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
        writer = LedgerWriter(lambda rs: ledger.insert_records(broken, rs), Journal(journal_dir))
        await writer.start()
        for i in range(10):
            writer.submit(make_record(f"down_{i}", completion_tokens=i))
        await writer.close()
        await broken.dispose()

    asyncio.run(write_while_down())
    assert len(list(journal_dir.glob("ledger-*"))) == 1

    upgrade_to_head(url)

    async def restart() -> list[LedgerRecord]:
        engine = make_engine(url)
        writer = LedgerWriter(lambda rs: ledger.insert_records(engine, rs), Journal(journal_dir))
        await writer.start()  # replays the journal first
        await writer.close()
        stored = await ledger.recent_records(engine, limit=100)
        await engine.dispose()
        return stored

    stored = asyncio.run(restart())
    assert sorted(r.request_id for r in stored) == sorted(f"down_{i}" for i in range(10))
    assert {r.completion_tokens for r in stored} == set(range(10))
    assert list(journal_dir.glob("ledger-*")) == []


def test_a_killed_process_leaves_its_records_in_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for name in ("a", "b"):
        journal.write(make_record(name))
    # No close, no flush: the process "dies" here. The bytes are already in the file.
    [segment] = tmp_path.glob("ledger-*")
    assert [r.request_id for r in read_segment(segment)] == ["a", "b"]
    journal.close()
    with segment.open("ab") as handle:
        handle.write(b'{"request_id": "torn')  # a machine crash mid-write
    assert [r.request_id for r in read_segment(segment)] == ["a", "b"]
