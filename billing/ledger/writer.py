"""Ledger writes that never lose a record the gateway accepted, batched off the request path.

:meth:`LedgerWriter.submit` is called on the request path before the client gets its last
byte: it writes the record to the local :class:`Journal` (one system call) and queues it. A
background task inserts the queued records in batches every ``flush_interval_s`` (or when
``batch_size`` are waiting) and then deletes their journal segment. If the database fails, the
segment stays on disk and is replayed after the next successful write, and at the next start.

Loss window: none when the gateway process is killed (SIGKILL, OOM): the journal is in the
kernel's hands; a machine crash (power loss) can lose the last ``flush_interval_s`` of records.
Inserts are idempotent by request id, so a replay never duplicates a record.

One bad record never holds back the others: a batch the database refuses while it is reachable
is split in halves until the refused records are alone; those are moved to the journal's
quarantine file (logged and counted), every other record lands. Only an unreachable database
keeps records waiting, and replay goes on past anything it cannot store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from billing.ledger.journal import Journal, quarantine_entry, scan_segment
from billing.ledger.record import LedgerRecord

log = logging.getLogger("hygie.ledger")

InsertFn = Callable[[Sequence[LedgerRecord]], Awaitable[None]]
ProbeFn = Callable[[], Awaitable[None]]
"""Raises when the ledger table cannot be reached; tells an outage from a refused record."""


class _DatabaseUnavailable(Exception):
    """The database could not be reached: the records stay journaled for a later replay."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class LedgerWriter:
    """Journals records at once and stores them in the database in batches."""

    def __init__(
        self,
        insert: InsertFn,
        journal: Journal,
        *,
        flush_interval_s: float = 0.2,
        batch_size: int = 500,
        probe: ProbeFn | None = None,
    ) -> None:
        self._insert = insert
        self._probe = probe
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
        self.quarantined_total = 0
        """Records and undecodable journal lines moved to the quarantine file."""
        self._quarantined_ids: set[str] = set()

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
        quarantined_before = self.quarantined_total
        try:
            await self._store_all(batch, segment.name if segment else None)
        except _DatabaseUnavailable as exc:
            self._backlog_on_disk = True
            self.spooled_total += len(batch)
            log.error(
                "ledger database unavailable (%s): %d records kept in %s for replay",
                exc,
                len(batch),
                self._journal.directory,
            )
            return
        self.written_total += len(batch) - (self.quarantined_total - quarantined_before)
        if segment is not None:
            await asyncio.to_thread(segment.unlink, missing_ok=True)
        if self._backlog_on_disk:
            await self.replay()

    async def replay(self) -> int:
        """Store the records of every closed journal segment; returns how many segments were
        stored. Stops early only when the database is unreachable: a segment that cannot be
        read or quarantined from is reported and left in place, refused records are
        quarantined."""
        stored = 0
        for segment in self._journal.closed_segments():
            try:
                if await self._replay_segment(segment):
                    stored += 1
            except _DatabaseUnavailable as exc:
                log.warning("journal replay postponed: %s", exc)
                self._backlog_on_disk = True
                return stored
            except OSError as exc:
                # The quarantine file cannot be written (disk full?): the segment stays, for
                # the next replay (next start, next recovery, ``hygie ledger replay``).
                log.error("journal segment %s left for a later replay: %s", segment.name, exc)
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
        """Store one segment's records and delete it; False when it cannot be read."""
        try:
            contents = await asyncio.to_thread(scan_segment, segment)
        except OSError as exc:
            log.error("journal segment %s cannot be read (%s): skipped", segment, exc)
            return False
        await self._store_all(contents.records, segment.name)
        if contents.undecodable:
            # A torn last line after a machine crash, or a damaged file: kept, never dropped.
            # (Only now: a segment whose records wait for the database is read again later.)
            error = "line does not decode as a ledger record"
            entries = [
                quarantine_entry("undecodable", segment.name, error=error, line=line)
                for line in contents.undecodable
            ]
            self._quarantine(entries, f"{len(entries)} undecodable lines of {segment.name}")
        await asyncio.to_thread(segment.unlink, missing_ok=True)
        if contents.records:
            log.info(
                "replayed %d journaled ledger records from %s", len(contents.records), segment.name
            )
        return True

    async def _store_all(self, records: Sequence[LedgerRecord], segment: str | None) -> None:
        for start in range(0, len(records), self._batch_size):
            await self._store(records[start : start + self._batch_size], segment)

    async def _store(self, records: Sequence[LedgerRecord], segment: str | None) -> None:
        """Insert ``records``; when the database refuses them while reachable, bisect until the
        refused ones are alone and quarantine them. Raises :class:`_DatabaseUnavailable`."""
        if not records:
            return
        try:
            await self._insert(records)
            return
        # Whatever the driver raises: the probe below tells whether it is the records' fault.
        except Exception as exc:  # noqa: BLE001
            failure = exc
        await self._check_reachable(failure)
        if len(records) == 1:
            [record] = records
            if record.request_id in self._quarantined_ids:
                return  # refused again on replay (its batch was cut short by an outage)
            self._quarantined_ids.add(record.request_id)
            # The driver's own message: SQLAlchemy's adds the statement and all its parameters.
            cause = getattr(failure, "orig", None) or failure
            error = f"{type(cause).__name__}: {cause}"[:500]
            entry = quarantine_entry("rejected", segment, error=error, record=record)
            self._quarantine([entry], f"record {record.request_id} refused by the database")
            return
        middle = len(records) // 2
        await self._store(records[:middle], segment)
        await self._store(records[middle:], segment)

    async def _check_reachable(self, failure: Exception) -> None:
        """Raise :class:`_DatabaseUnavailable` unless the failure is the records' own."""
        if isinstance(failure, OSError) or self._probe is None:
            # A refused connection or a timeout; without a probe, no failure can be told to be
            # the records' own, so none is quarantined.
            raise _DatabaseUnavailable(failure) from failure
        try:
            await self._probe()
        # Whatever stops the probe, the database is not usable now.
        except Exception as exc:  # noqa: BLE001
            raise _DatabaseUnavailable(exc) from failure

    def _quarantine(self, entries: list[bytes], what: str) -> None:
        path = self._journal.quarantine(entries)
        self.quarantined_total += len(entries)
        log.error("ledger quarantine: %s, kept in %s", what, path)

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                # Never seen, but this loop must not end: records would pile up in memory,
                # unwritten. Whatever was taken stays in its journal segment for replay.
                self._backlog_on_disk = True
                log.exception("ledger flush failed; its records stay journaled for replay")
