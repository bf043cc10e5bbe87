"""The ledger writer journals first, batches, never duplicates, and survives an outage."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head
from billing.ledger import repository as ledger
from billing.ledger.journal import QUARANTINE_FILE, Journal, read_segment, scan_segment
from billing.ledger.record import LedgerRecord
from billing.ledger.writer import LedgerWriter
from gateway.observability.metrics import GatewayMetrics


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
        writer = LedgerWriter(
            lambda rs: ledger.insert_records(broken, rs),
            Journal(journal_dir),
            probe=lambda: ledger.check_reachable(broken),  # an outage: nothing is quarantined
        )
        await writer.start()
        for i in range(10):
            writer.submit(make_record(f"down_{i}", completion_tokens=i))
        await writer.close()
        await broken.dispose()

    asyncio.run(write_while_down())
    assert len(list(journal_dir.glob("ledger-*"))) == 1
    assert not (journal_dir / QUARANTINE_FILE).exists()

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


def make_writer(engine: AsyncEngine, directory: Path, **options: Any) -> LedgerWriter:
    return LedgerWriter(
        lambda rs: ledger.insert_records(engine, rs),
        Journal(directory),
        probe=lambda: ledger.check_reachable(engine),
        **options,
    )


def quarantined(directory: Path) -> list[dict[str, Any]]:
    path = directory / QUARANTINE_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_hostile_model_names_are_bounded_so_the_whole_batch_lands(
    database_url: str, tmp_path: Path
) -> None:
    # Once, on PostgreSQL, one of these made the insert of everyone's records of its batch fail.
    hostile = {"long": "m" * 300, "nul": "llama\x00-3", "control": "a\x1b[31m\u2028b\ud800"}

    async def run() -> list[LedgerRecord]:
        engine = make_engine(database_url)
        writer = make_writer(engine, tmp_path, flush_interval_s=60)
        await writer.start()
        for i in range(6):
            writer.submit(make_record(f"good_{i}", model="llama-3-8b"))
        for name, model in hostile.items():
            writer.submit(make_record(f"bad_{name}", model=model, error_class=model))
        await writer.close()
        stored = await ledger.recent_records(engine, limit=100)
        await engine.dispose()
        return stored

    stored = {r.request_id: r for r in asyncio.run(run())}
    assert set(stored) == {f"good_{i}" for i in range(6)} | {f"bad_{n}" for n in hostile}
    assert quarantined(tmp_path) == []
    long_model = stored["bad_long"].model
    assert long_model is not None and len(long_model) == 200 and long_model.endswith("\u2026")
    assert stored["bad_nul"].model == "llama\ufffd-3"
    assert stored["bad_control"].model == "a\ufffd[31m\ufffdb\ufffd"
    assert stored["bad_long"].error_class == "m" * 63 + "\u2026"  # error_class is 64 wide


def test_a_record_the_database_refuses_is_quarantined_and_the_others_land(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = GatewayMetrics(models=("llama-3-8b",))

    async def run() -> tuple[list[LedgerRecord], LedgerWriter]:
        engine = make_engine(database_url)
        writer = make_writer(engine, tmp_path, flush_interval_s=60)
        metrics.watch_ledger(writer)
        await writer.start()
        for i in range(9):
            record = make_record(f"req_{i}")
            if i == 6:
                record.endpoint = None  # type: ignore[assignment]  # breaks NOT NULL in the database
            writer.submit(record)
        await writer.close()
        stored = await ledger.recent_records(engine, limit=100)
        await engine.dispose()
        return stored, writer

    with caplog.at_level(logging.ERROR, logger="hygie.ledger"):
        stored, writer = asyncio.run(run())
    assert sorted(r.request_id for r in stored) == sorted(f"req_{i}" for i in range(9) if i != 6)
    [entry] = quarantined(tmp_path)
    assert entry["reason"] == "rejected"
    assert entry["record"]["request_id"] == "req_6"
    assert "IntegrityError" in entry["error"] or "NotNull" in entry["error"]
    assert writer.quarantined_total == 1
    assert metrics.registry.get_sample_value("hygie_ledger_quarantined_total") == 1
    assert writer.written_total == 8 and writer.spooled_total == 0
    assert any("req_6" in message for message in caplog.messages)
    assert list(tmp_path.glob("ledger-*")) == []  # nothing left to replay forever


def test_replay_goes_on_past_a_segment_with_bad_lines(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Three segments left by an earlier run: the first holds a refused record and a damaged
    # line; the later ones (a real outage's records) must be replayed all the same.
    journal = Journal(tmp_path)
    refused = make_record("first_refused")
    refused.status_code = None  # type: ignore[assignment]
    for record in (make_record("first_ok"), refused):
        journal.write(record)
    first = journal.rotate()
    assert first is not None
    with first.open("ab") as handle:
        handle.write(b'{"request_id": "damaged", \xff\n')
    for name in ("second", "third"):
        journal.write(make_record(f"{name}_ok"))
        journal.rotate()

    async def replay() -> tuple[int, list[LedgerRecord], int]:
        engine = make_engine(database_url)
        writer = make_writer(engine, tmp_path)
        segments = await writer.replay()
        stored = await ledger.recent_records(engine, limit=100)
        await engine.dispose()
        return segments, stored, writer.quarantined_total

    with caplog.at_level(logging.WARNING, logger="hygie.ledger"):
        segments, stored, count = asyncio.run(replay())
    assert segments == 3
    assert sorted(r.request_id for r in stored) == ["first_ok", "second_ok", "third_ok"]
    entries = quarantined(tmp_path)
    assert {e["reason"] for e in entries} == {"rejected", "undecodable"}
    assert [e["line"] for e in entries if e["reason"] == "undecodable"] == [
        '{"request_id": "damaged", \\xff'
    ]
    assert count == 2
    assert any("undecodable" in message for message in caplog.messages)
    assert list(tmp_path.glob("ledger-*")) == []


def test_an_undecodable_journal_line_is_reported_not_dropped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.write(make_record("a"))
    segment = journal.rotate()
    assert segment is not None
    with segment.open("ab") as handle:
        handle.write(b'{"request_id": "torn')  # a machine crash mid-write
    contents = scan_segment(segment)
    assert [r.request_id for r in contents.records] == ["a"]
    assert contents.undecodable == [b'{"request_id": "torn']


def test_records_stay_journaled_when_the_database_is_down_mid_bisection(tmp_path: Path) -> None:
    # The first failure looked like a bad record (the probe answered), then the database went
    # away: nothing may be quarantined, everything stays for replay.
    calls: list[int] = []
    probes_answered = 0

    async def insert(records: Sequence[LedgerRecord]) -> None:
        calls.append(len(records))
        raise RuntimeError("refused")

    async def probe() -> None:
        nonlocal probes_answered
        if probes_answered == 1:
            raise OSError("gone")
        probes_answered += 1

    writer = LedgerWriter(insert, Journal(tmp_path), probe=probe)
    for i in range(4):
        writer.submit(make_record(f"r{i}"))
    asyncio.run(writer.flush())
    assert calls == [4, 2]  # the whole batch, then its first half: the probe then fails
    assert writer.spooled_total == 4 and writer.quarantined_total == 0
    assert quarantined(tmp_path) == []
    assert len(list(tmp_path.glob("ledger-*"))) == 1


def test_a_refused_record_is_quarantined_once_when_an_outage_interrupts_its_batch(
    tmp_path: Path,
) -> None:
    stored: set[str] = set()
    state = {"up": True, "outage_pending": True}

    async def insert(records: Sequence[LedgerRecord]) -> None:
        ids = {r.request_id for r in records}
        if not state["up"]:
            raise ConnectionRefusedError("database gone")
        if "refused" in ids:
            raise ValueError("value refused by the database")
        if "late" in ids and state["outage_pending"]:
            # The database goes away after "refused" was quarantined, before "late" landed.
            state["up"] = state["outage_pending"] = False
            raise ConnectionRefusedError("database gone")
        stored.update(ids)

    async def probe() -> None:
        if not state["up"]:
            raise ConnectionRefusedError("database gone")

    writer = LedgerWriter(insert, Journal(tmp_path), probe=probe)
    for name in ("early", "refused", "late", "last"):
        writer.submit(make_record(name))
    asyncio.run(writer.flush())
    assert writer.spooled_total == 4 and len(list(tmp_path.glob("ledger-*"))) == 1
    assert stored == {"early"}

    state["up"] = True
    assert asyncio.run(writer.replay()) == 1  # the segment again, "refused" included
    assert stored == {"early", "late", "last"}
    assert [e["record"]["request_id"] for e in quarantined(tmp_path)] == ["refused"]
    assert writer.quarantined_total == 1
    assert list(tmp_path.glob("ledger-*")) == []


def test_replay_goes_on_past_a_segment_it_cannot_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored: list[str] = []

    async def insert(records: Sequence[LedgerRecord]) -> None:
        stored.extend(r.request_id for r in records)

    (tmp_path / "ledger-0-0-000001.jsonl").mkdir()  # reading it fails with an OSError
    journal = Journal(tmp_path)
    journal.write(make_record("after"))
    journal.rotate()
    writer = LedgerWriter(insert, Journal(tmp_path), probe=_reachable)
    with caplog.at_level(logging.ERROR, logger="hygie.ledger"):
        assert asyncio.run(writer.replay()) == 1
    assert stored == ["after"]
    assert any("ledger-0-0-000001.jsonl" in m for m in caplog.messages)


async def _reachable() -> None:
    return None
