"""Checking the audit trail: every link of the chain, and a head copied out of the database.

:func:`verify_chain` walks the entries in sequence order and stops at the first broken link,
naming it: an entry whose content no longer matches its hash (edited), a missing sequence
number (deleted), an entry that does not follow the one before it (inserted, moved or
reordered), or entries missing at the end (the recorded head is further than the last entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.audit.entry import GENESIS_HASH, hash_of
from billing.audit.log import ChainHead, all_entries, chain_head


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first entry at which the chain does not hold, and why."""

    seq: int
    kind: str  # "hash mismatch" | "gap" | "reorder" | "truncated" | "head mismatch"
    detail: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of a check: ``broken`` is None when the whole chain holds."""

    checked: int
    head: ChainHead
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def parse_head(text: str) -> ChainHead:
    """``<seq>:<hash>`` as printed on a statement; raises ValueError otherwise."""
    seq_text, _, digest = text.strip().partition(":")
    if (
        not seq_text.isdigit()
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise ValueError("a chain head is written <sequence>:<64 hex digits>")
    return ChainHead(int(seq_text), digest)


async def verify_chain(engine: AsyncEngine, *, copy: ChainHead | None = None) -> Verification:
    """Check every entry; with ``copy`` (a head printed on a report), check it is in the chain."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    copy_found = copy is None or copy.seq == 0
    async for entry in all_entries(engine):
        broken = _link(entry.seq, entry.prev_hash, expected_seq, prev_hash)
        if broken is None and hash_of(entry) != entry.hash:
            broken = BrokenLink(
                entry.seq, "hash mismatch", "its content was changed after it was written"
            )
        if broken is None and copy is not None and entry.seq == copy.seq:
            if entry.hash != copy.hash:
                broken = BrokenLink(
                    entry.seq, "head mismatch", "the copy's hash differs: the trail was rewritten"
                )
            copy_found = True
        if broken is not None:
            return Verification(checked, await chain_head(engine), broken)
        expected_seq, prev_hash, checked = entry.seq + 1, entry.hash, checked + 1
    head = await chain_head(engine)
    if head.seq != expected_seq - 1 or head.hash != prev_hash:
        detail = f"the recorded head is {head.seq}, the last entry {expected_seq - 1}"
        return Verification(checked, head, BrokenLink(expected_seq, "truncated", detail))
    if not copy_found:
        assert copy is not None
        detail = f"the copy names entry {copy.seq}, which the trail does not hold"
        return Verification(checked, head, BrokenLink(copy.seq, "head mismatch", detail))
    return Verification(checked, head, None)


def _link(seq: int, stored_prev: str, expected_seq: int, prev_hash: str) -> BrokenLink | None:
    if seq < expected_seq:
        return BrokenLink(seq, "reorder", f"it comes before entry {expected_seq}, out of sequence")
    if seq > expected_seq:
        return BrokenLink(expected_seq, "gap", f"entries {expected_seq} to {seq - 1} are missing")
    if stored_prev != prev_hash:
        return BrokenLink(
            seq, "reorder", f"it does not follow entry {seq - 1} (inserted, moved or reordered)"
        )
    return None
