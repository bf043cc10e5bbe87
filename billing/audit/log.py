"""Appending to the audit trail and reading it back.

Guarantees:

* Appends are serialised by the database: each one first updates the single row of
  ``audit_chain_head`` (a row lock on PostgreSQL, the write lock on SQLite), so that concurrent
  appends from several processes form one chain with no gap and no fork.
* Given a connection, :func:`append` writes in the caller's transaction, so a change and its
  entry are committed (or rolled back) together; given an engine, it commits its own.
* ``before``/``after`` are stored without secrets (:func:`without_secrets`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing.audit.entry import (
    GENESIS_HASH,
    REASON_MAX,
    Actor,
    AuditEntry,
    entry_hash,
    one_line,
    utc,
    without_secrets,
)
from billing.db.schema import audit_anchors, audit_chain_head, audit_log

_HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last entry of the trail: ``seq`` 0 and the genesis hash when it is empty."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


class InvalidReason(ValueError):
    """A reason that cannot be stored as given (too long, or control characters)."""


def _hidden(c: str) -> bool:
    # Line breaks, control and invisible format characters (bidi overrides can make a reason
    # read differently from what is stored); the zero-width joiner of emoji sequences is kept.
    return unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp", "Cf"} and c != "\u200d"


def clean_reason(reason: str | None) -> str | None:
    """The reason as stored: trimmed, None when empty; raises :class:`InvalidReason`."""
    if reason is None or not reason.strip():
        return None
    text = reason.strip()
    if len(text) > REASON_MAX:
        raise InvalidReason(f"a reason is at most {REASON_MAX} characters")
    if any(_hidden(c) for c in text):
        raise InvalidReason("a reason is one line of printable text")
    return text


async def append(
    db: AsyncEngine | AsyncConnection,
    actor: Actor,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    department: str | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry; in the caller's transaction when ``db`` is a connection."""
    if isinstance(db, AsyncConnection):
        return await _append(db, actor, action, target, before, after, department, reason)
    async with db.begin() as connection:
        return await _append(connection, actor, action, target, before, after, department, reason)


async def _append(
    connection: AsyncConnection,
    actor: Actor,
    action: str,
    target: str,
    before: Any,
    after: Any,
    department: str | None,
    reason: str | None,
) -> AuditEntry:
    head = await take_head(connection)
    return await write_entry(
        connection, head, actor, action, target, before, after, department, reason
    )


async def take_head(connection: AsyncConnection) -> ChainHead:
    """Lock the chain's head in ``connection``'s transaction; the next entry is ``seq`` + 1.

    Concurrent writers queue here until this transaction ends, so entries follow commit order.
    """
    # Taking the head's lock first (an UPDATE, not a read) makes concurrent appends queue here
    # instead of reading the same head; on SQLite it takes the write lock before any read.
    bumped = await connection.execute(
        update(audit_chain_head)
        .where(audit_chain_head.c.id == _HEAD_ID)
        .values(seq=audit_chain_head.c.seq + 1)
    )
    if not bumped.rowcount:
        await _create_head(connection)
    row = (
        await connection.execute(select(audit_chain_head).where(audit_chain_head.c.id == _HEAD_ID))
    ).one()
    return ChainHead(int(row.seq) - 1, row.hash)


async def write_entry(
    connection: AsyncConnection,
    head: ChainHead,
    actor: Actor,
    action: str,
    target: str,
    before: Any,
    after: Any,
    department: str | None,
    reason: str | None,
) -> AuditEntry:
    """Write the entry that follows ``head`` (locked by :func:`take_head`) and move the head."""
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": datetime.now(UTC),
        "actor": one_line(actor.name, 200),
        "actor_role": one_line(actor.role, 32),
        "action": one_line(action, 64),
        "target": one_line(target, 300),
        "department": None if department is None else one_line(department, 64),
        "before": without_secrets(before),
        "after": without_secrets(after),
        "reason": clean_reason(reason),
        "prev_hash": head.hash,
    }
    digest = entry_hash(**fields)
    await connection.execute(insert(audit_log).values(**fields, hash=digest))
    await connection.execute(
        update(audit_chain_head).where(audit_chain_head.c.id == _HEAD_ID).values(hash=digest)
    )
    return AuditEntry(**fields, hash=digest)


async def _create_head(connection: AsyncConnection) -> None:
    """The head row of a database whose migration did not seed it (first entry: seq 1)."""
    try:
        async with connection.begin_nested():
            await connection.execute(
                insert(audit_chain_head).values(id=_HEAD_ID, seq=1, hash=GENESIS_HASH)
            )
    except IntegrityError:  # created meanwhile by another writer: take our turn on it
        await connection.execute(
            update(audit_chain_head)
            .where(audit_chain_head.c.id == _HEAD_ID)
            .values(seq=audit_chain_head.c.seq + 1)
        )


async def chain_head(db: AsyncEngine | AsyncConnection) -> ChainHead:
    """The recorded head of the trail."""
    query = select(audit_chain_head).where(audit_chain_head.c.id == _HEAD_ID)
    if isinstance(db, AsyncConnection):
        row = (await db.execute(query)).first()
    else:
        async with db.connect() as connection:
            row = (await connection.execute(query)).first()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row.seq), row.hash)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        at=utc(row.at),
        actor=row.actor,
        actor_role=row.actor_role,
        action=row.action,
        target=row.target,
        department=row.department,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


async def list_entries(
    engine: AsyncEngine,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    department: str | None = None,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[AuditEntry]:
    """Entries, newest first; ``action`` may end with ``.`` or ``*`` to match a family;
    ``before_seq`` pages back (entries older than that sequence number)."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(audit_log.c.seq < before_seq)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if action is not None:
        family = action.rstrip("*")
        if family.endswith("."):
            query = query.where(audit_log.c.action.startswith(family, autoescape=True))
        else:
            query = query.where(audit_log.c.action == action)
    if department is not None:
        query = query.where(audit_log.c.department == department)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_entry(r) for r in rows]


async def all_entries(engine: AsyncEngine, *, batch: int = 5000) -> AsyncIterator[AuditEntry]:
    """Every entry in sequence order, read in batches of ``batch``."""
    last: int | None = None  # no lower bound at first: a forged seq 0 or below is read too
    while True:
        query = select(audit_log).order_by(audit_log.c.seq).limit(batch)
        if last is not None:
            query = query.where(audit_log.c.seq > last)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        for row in rows:
            yield _entry(row)
        if len(rows) < batch:
            return
        last = int(rows[-1].seq)


async def anchor_month(connection: AsyncConnection, month: str) -> ChainHead:
    """Record the trail's head as ``month``'s anchor (in the caller's transaction)."""
    head = await chain_head(connection)
    await connection.execute(
        insert(audit_anchors).values(
            month=month, seq=head.seq, hash=head.hash, anchored_at=datetime.now(UTC)
        )
    )
    return head


async def month_anchor(engine: AsyncEngine, month: str) -> ChainHead | None:
    """The trail's head recorded when ``month`` was closed, or None."""
    query = select(audit_anchors).where(audit_anchors.c.month == month)
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    return None if row is None else ChainHead(int(row.seq), row.hash)
