"""The tamper-evident audit trail of admin changes (who, when, what, why), hash-chained.

Append with :func:`append` (in the change's own transaction when you have one); check with
:func:`verify_chain`. Callers import from here.
"""

from billing.audit.entry import GENESIS_HASH, Actor, AuditEntry, without_secrets
from billing.audit.log import (
    ChainHead,
    InvalidReason,
    anchor_month,
    append,
    chain_head,
    clean_reason,
    list_entries,
    month_anchor,
)
from billing.audit.verify import BrokenLink, Verification, parse_head, verify_chain

__all__ = [
    "GENESIS_HASH",
    "Actor",
    "AuditEntry",
    "BrokenLink",
    "ChainHead",
    "InvalidReason",
    "Verification",
    "anchor_month",
    "append",
    "chain_head",
    "clean_reason",
    "list_entries",
    "month_anchor",
    "parse_head",
    "verify_chain",
    "without_secrets",
]
