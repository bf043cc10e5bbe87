"""Batched, off-the-hot-path ledger writes that never lose a record the gateway accepted.

The request path calls :meth:`LedgerWriter.submit` (synchronous, no I/O). A background task
flushes batches every ``flush_interval_s`` or when ``batch_size`` records are waiting. When the
database fails, the batch goes to the :class:`Spool` and is replayed after the next successful
write. On shutdown :meth:`close` flushes everything that is still in memory.

Loss window on SIGKILL: the records submitted since the last flush (at most
``flush_interval_s`` plus the duration of one flush); everything spooled survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from billing.ledger_record import LedgerRecord
from billing.spool import Spool

log = logging.getLogger("hygie.ledger")

InsertFn = Callable[[Sequence[LedgerRecord]], Awaitable[None]]


class LedgerWriter:
    """Collects records and writes them in batches with ``insert``; spools on failure."""

    def __init__(
        self,
        insert: InsertFn,
        spool: Spool,
        *,
        flush_interval_s: float = 0.2,
        batch_size: int = 500,
    ) -> None:
        self._insert = insert
        self._spool = spool
        self._interval = flush_interval_s
        self._batch_size = batch_size
        self._pending: list[LedgerRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.spooled_total = 0
        self.written_total = 0

    @property
    def backlog(self) -> int:
        """Records accepted but not yet in the database (in memory; spooled ones excluded)."""
        return len(self._pending)

    def submit(self, record: LedgerRecord) -> None:
        """Accept one record; it is written within about ``flush_interval_s``."""
        self._pending.append(record)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    async def start(self) -> None:
        """Replay anything left in the spool by an earlier run, then start flushing."""
        await self._replay_spool()
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    async def flush(self) -> None:
        """Write everything pending now (used by tests and at shutdown)."""
        while self._pending:
            batch, self._pending = (
                self._pending[: self._batch_size],
                self._pending[self._batch_size :],
            )
            await self._write(batch)

    async def close(self) -> None:
        """Stop the background task and flush what is left (spooling it if the DB is down)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await self.flush()

    async def _write(self, batch: list[LedgerRecord]) -> None:
        try:
            await self._insert(batch)
        except (SQLAlchemyError, OSError) as exc:
            log.error(
                "ledger database unavailable (%s); spooling %d records to %s",
                type(exc).__name__,
                len(batch),
                self._spool.path,
            )
            await asyncio.to_thread(self._spool.append, batch)
            self.spooled_total += len(batch)
            return
        self.written_total += len(batch)
        if self._spool.has_records():
            await self._replay_spool()

    async def _replay_spool(self) -> None:
        records = await asyncio.to_thread(self._spool.take)
        if not records:
            return
        try:
            for start in range(0, len(records), self._batch_size):
                await self._insert(records[start : start + self._batch_size])
        except (SQLAlchemyError, OSError) as exc:
            log.warning("spool replay postponed: %s", type(exc).__name__)
            return
        self._spool.done()
        log.info("replayed %d spooled ledger records", len(records))
