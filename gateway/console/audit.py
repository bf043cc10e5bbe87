"""What the console's Audit page reads: the hash-chained trail of :mod:`billing.audit`.

The scoping is ``GET /admin/audit``'s: administrators and finance see every entry, a
department admin the entries of their department. Pages go back by sequence number (a keyset:
the oldest entry shown is where the next page starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from billing import audit
from billing.audit import AuditEntry, ChainHead, Verification
from gateway.api.admin_auth import AdminPrincipal
from gateway.services import Services

PAGE_ENTRIES = 50


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The page's filters: entries from a local day on, by an actor, of an action (family)."""

    since: date | None = None
    actor: str | None = None
    action: str | None = None
    before_seq: int | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    head: ChainHead
    older_than: int | None  # the ``before`` of the next (older) page; None on the last one


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


async def audit_page(
    services: Services, principal: AdminPrincipal, wanted: AuditQuery
) -> AuditPage:
    """One page of entries newest first, within what ``principal`` may see, and the head."""
    since = None if wanted.since is None else _start_of(wanted.since, services.timezone)
    entries = await audit.list_entries(
        services.engine,
        since=since,
        actor=wanted.actor,
        action=wanted.action,
        department=principal.scope,
        limit=PAGE_ENTRIES + 1,
        before_seq=wanted.before_seq,
    )
    shown = entries[:PAGE_ENTRIES]
    older = shown[-1].seq if len(entries) > PAGE_ENTRIES else None
    return AuditPage(shown, await audit.chain_head(services.engine), older)


async def verify(services: Services) -> Verification:
    """Check every link of the chain (administrators only: it reads the whole trail)."""
    return await audit.verify_chain(services.engine)
