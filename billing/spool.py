"""A local append-only file where ledger records wait while the database is unreachable.

Each line is one JSON record. Appends are flushed and fsync'ed before returning, so a record
that reached the spool survives a crash of the gateway and is replayed on the next start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import orjson

from billing.ledger_record import LedgerRecord

_DATETIME_FIELDS = frozenset({"started_at", "finished_at"})
_FIELD_NAMES = frozenset(f.name for f in fields(LedgerRecord))


class Spool:
    """Append-only JSONL spool in ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / "ledger-spool.jsonl"
        self._replaying = directory / "ledger-spool.replaying.jsonl"

    @property
    def path(self) -> Path:
        return self._path

    def append(self, records: Sequence[LedgerRecord]) -> None:
        """Durably append ``records`` (blocking; called off the request path)."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        payload = b"".join(orjson.dumps(record.as_row()) + b"\n" for record in records)
        with self._path.open("ab") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())

    def has_records(self) -> bool:
        return self._path.exists() or self._replaying.exists()

    def take(self) -> list[LedgerRecord]:
        """Move the spooled records aside and return them; call :meth:`done` once stored.

        If the gateway crashes between ``take`` and ``done``, the next ``take`` returns the same
        records again; the ledger's idempotent insert makes that harmless.
        """
        if self._path.exists() and not self._replaying.exists():
            self._path.rename(self._replaying)
        if not self._replaying.exists():
            return []
        records = []
        for line in self._replaying.read_bytes().splitlines():
            if line.strip():
                records.append(_record_from_json(line))
        return records

    def done(self) -> None:
        """Forget the records returned by the last :meth:`take`."""
        self._replaying.unlink(missing_ok=True)


def _record_from_json(line: bytes) -> LedgerRecord:
    values = {k: v for k, v in orjson.loads(line).items() if k in _FIELD_NAMES}
    for name in _DATETIME_FIELDS:
        values[name] = datetime.fromisoformat(values[name])
    return LedgerRecord(**values)
