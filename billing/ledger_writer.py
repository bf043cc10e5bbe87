"""Ledger writes that never lose a record the gateway accepted, batched off the request path.

:meth:`LedgerWriter.submit` is called on the request path before the client gets its last
byte: it writes the record to the local :class:`Journal` (one system call) and queues it. A
background task inserts the queued records in batches every ``flush_interval_s`` (or when
``batch_size`` are waiting) and then deletes their journal segment. If the database fails, the
segment stays on disk and is replayed after the next successful write, and at the next start.

Loss window: none when the gateway process is killed (SIGKILL, OOM): the journal is in the
kernel's hands; a machine crash (power loss) can lose the last ``flush_interval_s`` of records.
Inserts are idempotent by request id, so a replay never duplicates a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from billing.journal import Journal, read_segment
from billing.ledger_record import LedgerRecord

log = logging.getLogger("hygie.ledger")

InsertFn = Callable[[Sequence[LedgerRecord]], Awaitable[None]]


class LedgerWriter:
    """Journals records at once and stores them in the database in batches."""

    def __init__(
        self,
        insert: InsertFn,
        journal: Journal,
        *,
        flush_interval_s: float = 0.2,
        batch_size: int = 500,
    ) -> None:
        self._insert = insert
        self._journal = journal
        self._interval = flush_interval_s
        self._batch_size = batch_size
        self._pending: list[LedgerRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._backlog_on_disk = False
        self.spooled_total = 0
        self.written_total = 0

    @property
    def backlog(self) -> int:
        """Records accepted but not yet in the database and still in memory."""
        return len(self._pending)

    def submit(self, record: LedgerRecord) -> None:
        """Accept one record: journaled now, in the database within about ``flush_interval_s``."""
        self._journal.write(record)
        self._pending.append(record)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    async def start(self) -> None:
        """Replay what earlier runs left in the journal, then start flushing."""
        await self.replay()
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    async def flush(self) -> None:
        """Store everything accepted so far (used at shutdown and by reconciliation)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        segment = self._journal.rotate()
        try:
            for start in range(0, len(batch), self._batch_size):
                await self._insert(batch[start : start + self._batch_size])
        except (SQLAlchemyError, OSError) as exc:
            self._backlog_on_disk = True
            self.spooled_total += len(batch)
            log.error(
                "ledger database unavailable (%s): %d records kept in %s for replay",
                type(exc).__name__,
                len(batch),
                self._journal.directory,
            )
            return
        self.written_total += len(batch)
        if segment is not None:
            await asyncio.to_thread(segment.unlink, missing_ok=True)
        if self._backlog_on_disk:
            await self.replay()

    async def replay(self) -> int:
        """Store the records of every closed journal segment; returns how many were stored."""
        stored = 0
        for segment in self._journal.closed_segments():
            if not await self._replay_segment(segment):
                self._backlog_on_disk = True
                return stored
            stored += 1
        self._backlog_on_disk = False
        return stored

    async def close(self) -> None:
        """Stop the background task and store what is left (it stays journaled if that fails)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()
        self._journal.close()

    async def _replay_segment(self, segment: Path) -> bool:
        records = await asyncio.to_thread(read_segment, segment)
        try:
            for start in range(0, len(records), self._batch_size):
                await self._insert(records[start : start + self._batch_size])
        except (SQLAlchemyError, OSError) as exc:
            log.warning("journal replay postponed: %s", type(exc).__name__)
            return False
        await asyncio.to_thread(segment.unlink, missing_ok=True)
        if records:
            log.info("replayed %d journaled ledger records from %s", len(records), segment.name)
        return True

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await self.flush()
