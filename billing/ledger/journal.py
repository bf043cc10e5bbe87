"""The ledger's local journal: every accepted record is written here before anything else.

Each record is appended to the current segment file with one ``write`` system call (no fsync):
once ``write`` returns, the data belongs to the kernel, so it survives the gateway being killed
(SIGKILL, OOM kill) — only a crash of the machine itself can lose it. When a batch reaches the
database, its segment is deleted; a segment whose batch could not be stored stays on disk and
is replayed later, by this process or by the next one started on the same directory.

Records that cannot be stored (a line that no longer decodes, a record the database refuses)
are moved to ``quarantine.jsonl`` in the same directory, one JSON object a line, so that one bad
record never holds back the others; an operator can read, fix and re-import them.

One directory belongs to one gateway process at a time.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from billing.ledger.record import LedgerRecord

_DATETIME_FIELDS = frozenset({"started_at", "finished_at"})
_FIELD_NAMES = frozenset(f.name for f in fields(LedgerRecord))
_SUFFIX = ".jsonl"
QUARANTINE_FILE = "quarantine.jsonl"


def encode(record: LedgerRecord) -> bytes:
    return orjson.dumps(record.as_row()) + b"\n"


def decode(line: bytes) -> LedgerRecord:
    values = {k: v for k, v in orjson.loads(line).items() if k in _FIELD_NAMES}
    for name in _DATETIME_FIELDS:
        values[name] = datetime.fromisoformat(values[name])
    return LedgerRecord(**values)


@dataclass(frozen=True, slots=True)
class SegmentContents:
    """What a segment holds: the records it decodes to, and the lines that do not decode."""

    records: list[LedgerRecord]
    undecodable: list[bytes]


def scan_segment(path: Path) -> SegmentContents:
    """Decode a segment; lines that do not decode (a torn last line after a machine crash, a
    damaged file) are returned apart, for the caller to report and quarantine."""
    records, undecodable = [], []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            records.append(decode(line))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            undecodable.append(line)
    return SegmentContents(records, undecodable)


def read_segment(path: Path) -> list[LedgerRecord]:
    """The records of a segment, without the lines that do not decode."""
    return scan_segment(path).records


def quarantine_entry(
    reason: str,
    segment: str | None,
    *,
    error: str,
    record: LedgerRecord | None = None,
    line: bytes | None = None,
) -> bytes:
    """One line of the quarantine file. Plain ``json`` with ASCII escapes: whatever the bytes
    or characters, the entry can be written and read back."""
    entry: dict[str, object] = {
        "quarantined_at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "segment": segment,
        "error": error,
    }
    if record is not None:
        entry["record"] = record.as_row()
    if line is not None:
        entry["line"] = line.decode("utf-8", errors="backslashreplace")
    return json.dumps(entry, ensure_ascii=True, default=str).encode() + b"\n"


class Journal:
    """Append-only segment files in ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._sequence = itertools.count(1)
        self._prefix = f"ledger-{os.getpid()}-{int(datetime.now(UTC).timestamp() * 1000)}"
        self._current: Path | None = None
        self._handle: BinaryIO | None = None

    @property
    def directory(self) -> Path:
        return self._dir

    def write(self, record: LedgerRecord) -> None:
        """Append one record (one unbuffered write; blocking but short)."""
        if self._handle is None:
            self._open()
        assert self._handle is not None
        self._handle.write(encode(record))

    def rotate(self) -> Path | None:
        """Close the current segment (returned) so that new records go to a fresh one."""
        if self._handle is None:
            return None
        self._handle.close()
        closed, self._current, self._handle = self._current, None, None
        return closed

    def closed_segments(self) -> list[Path]:
        """Segments on disk that no longer receive records (this run's and earlier runs')."""
        if not self._dir.exists():
            return []
        return sorted(p for p in self._dir.glob(f"ledger-*{_SUFFIX}") if p != self._current)

    def quarantine(self, entries: list[bytes]) -> Path:
        """Append entries made by :func:`quarantine_entry` to the quarantine file (returned)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / QUARANTINE_FILE
        with path.open("ab", buffering=0) as handle:
            handle.write(b"".join(entries))
        return path

    def close(self) -> None:
        self.rotate()

    def _open(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        self._current = self._dir / f"{self._prefix}-{next(self._sequence):06d}{_SUFFIX}"
        self._handle = self._current.open("ab", buffering=0)
