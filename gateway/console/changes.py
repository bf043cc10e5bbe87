"""Every change made in the console goes to the audit trail, as the admin API's changes do.

The actor is the signed-in person (a member revoking their own key included); the console's
forms carry no reason, so entries made here have none.
"""

from __future__ import annotations

from typing import Any

from billing import audit
from billing.audit import Actor
from gateway.console.context import Visit


async def record_console_change(
    current: Visit,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    department: str | None = None,
) -> None:
    identity = current.session.identity
    await audit.append(
        current.services.engine,
        Actor(identity.username, identity.role),
        action,
        target,
        before=before,
        after=after,
        department=department,
    )
