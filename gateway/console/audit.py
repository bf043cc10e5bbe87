"""What the console's Audit page lists: who changed what, and when.

Until the audit trail of the governance work lands, the page shows what the directory and the
quota tables already record: keys issued and revoked (with their owner), and budget threshold
alerts. The audit work replaces :func:`recent_events` with a read of its trail; the page and
its template only know :class:`AuditEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from billing import directory
from billing.limits import repo
from gateway.api.admin_auth import AdminPrincipal
from gateway.services import Services

MAX_EVENTS = 200


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: datetime
    action: str  # a message key: audit.key_issued, audit.key_revoked, audit.alert
    subject: str
    department: str | None
    detail: str = ""


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def recent_events(services: Services, principal: AdminPrincipal) -> list[AuditEvent]:
    """The newest recorded changes the principal may see, newest first."""
    events: list[AuditEvent] = []
    for key in await directory.list_keys(services.engine):
        if not principal.can_read(key.department):
            continue
        subject = f"{key.display_prefix}… ({key.username})"
        events.append(
            AuditEvent(_aware(key.created_at), "audit.key_issued", subject, key.department)
        )
        if key.revoked_at is not None:
            events.append(
                AuditEvent(_aware(key.revoked_at), "audit.key_revoked", subject, key.department)
            )
    for alert in await repo.list_alerts(services.engine, limit=MAX_EVENTS):
        events.append(
            AuditEvent(
                _aware(alert.created_at),
                "audit.alert",
                alert.label,
                None,
                f"{alert.threshold_pct} % · {alert.period_key}",
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:MAX_EVENTS]
