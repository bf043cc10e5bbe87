"""One audit entry, its canonical form and its hash.

Guarantee: :func:`entry_hash` depends on every field of the entry and on the previous entry's
hash, through a canonical JSON (sorted keys, no spaces, UTF-8, instants in UTC with
microseconds), so that any change to a stored entry, or to its place in the chain, changes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry: the chain starts from nothing."""

# Field names whose values are credentials: never written to the trail, at any depth.
SECRET_FIELDS = frozenset(
    {
        "key",
        "key_hash",
        "secret",
        "token",
        "admin_token",
        "api_key",
        "client_secret",
        "password",
        "authorization",
    }
)

REASON_MAX = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: ``name`` is a username, ``break-glass`` or ``cli:<os user>``."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored entry of the trail (``before``/``after`` are JSON values, secrets removed)."""

    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    target: str
    department: str | None
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "actor_role": self.actor_role,
            "action": self.action,
            "target": self.target,
            "department": self.department,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def without_secrets(value: Any) -> Any:
    """``value`` as plain JSON data with every secret field dropped (at any depth)."""
    plain = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return _drop_secrets(plain)


def _drop_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            storable(k): _drop_secrets(v)
            for k, v in value.items()
            if str(k).lower() not in SECRET_FIELDS
        }
    if isinstance(value, list):
        return [_drop_secrets(v) for v in value]
    if isinstance(value, str):
        return storable(value)
    return value


def _unstorable(c: str) -> bool:
    # NUL and lone surrogates: PostgreSQL refuses them in text and JSON alike.
    return c == "\x00" or "\ud800" <= c <= "\udfff"


def storable(text: str) -> str:
    """``text`` with the characters no database can store written as ``\\uXXXX``."""
    if not any(_unstorable(c) for c in text):
        return text
    return "".join(f"\\u{ord(c):04x}" if _unstorable(c) else c for c in text)


def one_line(text: str, limit: int) -> str:
    """A column of one short line (actor, action, target): control characters escaped, so a
    hostile path cannot forge lines in a listing, then cut to ``limit``."""
    escaped = "".join(
        f"\\u{ord(c):04x}" if _unstorable(c) or not c.isprintable() else c for c in text
    )
    return escaped[:limit]


def utc(at: datetime) -> datetime:
    """``at`` as an aware UTC instant (SQLite gives back naive instants written in UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def canonical(fields: dict[str, Any]) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    actor_role: str,
    action: str,
    target: str,
    department: str | None,
    before: Any,
    after: Any,
    reason: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical JSON, previous hash included."""
    fields = {
        "seq": seq,
        "at": utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "actor_role": actor_role,
        "action": action,
        "target": target,
        "department": department,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(fields)).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    """What ``entry.hash`` must be, recomputed from its stored fields."""
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        actor_role=entry.actor_role,
        action=entry.action,
        target=entry.target,
        department=entry.department,
        before=entry.before,
        after=entry.after,
        reason=entry.reason,
        prev_hash=entry.prev_hash,
    )
