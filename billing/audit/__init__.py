"""The tamper-evident audit trail of admin changes (who, when, what, why), hash-chained.

Make a change with :func:`audited_change` (the change and its entry in one transaction),
append a standalone event with :func:`append`; check with
:func:`verify_chain`. Callers import from here.
"""

from billing.audit.changes import Change, audited_change
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
    "Change",
    "InvalidReason",
    "Verification",
    "anchor_month",
    "append",
    "audited_change",
    "chain_head",
    "clean_reason",
    "list_entries",
    "month_anchor",
    "parse_head",
    "verify_chain",
    "without_secrets",
]
