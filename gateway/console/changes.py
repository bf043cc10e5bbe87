"""Every change made in the console goes to the audit trail, as the admin API's changes do, in
the same transaction as the change: both land or neither does.

    async with console_change(current, "department.create", name) as made:
        dept = await directory.create_department(made.connection, name)
        made.after = asdict(dept)

The actor is the signed-in person (a member revoking their own key included); the console's
forms carry no reason, so entries made here have none.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from billing import audit
from billing.audit import Actor
from gateway.console.context import Visit


def console_actor(current: Visit) -> Actor:
    """The signed-in person, as the audit trail names them."""
    identity = current.session.identity
    return Actor(identity.username, identity.role)


def console_change(
    current: Visit, action: str, target: str, **details: Any
) -> AbstractAsyncContextManager[audit.Change]:
    """One change and its audit entry (``details``: ``before``, ``after``, ``department``)."""
    return audit.audited_change(
        current.services.engine, console_actor(current), action, target, **details
    )
