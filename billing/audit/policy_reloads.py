"""The sovereignty policy's hot reloads, each appended to the audit trail.

The policy file is changed on disk, not through the API: the gateway that takes a new version
records it as ``system:policy-watch`` (one entry per gateway process that reloads it).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.audit.entry import Actor
from billing.audit.log import append
from policies.reload import PolicyHolder, ReloadOutcome

logger = logging.getLogger(__name__)

POLICY_WATCH = Actor("system:policy-watch", "system")


async def record_reload(holder: PolicyHolder, engine: AsyncEngine, *, force: bool = True) -> bool:
    """Refresh the policy; when a new version is taken, append ``policy.reload``. True then."""
    before = {"version": holder.engine.version, "sha256": holder.engine.policy.sha256}
    if holder.refresh(force=force) is not ReloadOutcome.RELOADED:
        return False
    after = {"version": holder.engine.version, "sha256": holder.engine.policy.sha256}
    try:
        await append(
            engine, POLICY_WATCH, "policy.reload", "sovereignty-policy", before=before, after=after
        )
    except SQLAlchemyError as exc:  # the new policy is in force either way: say it loudly
        logger.error(
            "policy reload %s -> %s not written to the audit trail: %s",
            before["version"],
            after["version"],
            exc,
        )
    return True


async def watch_policy(holder: PolicyHolder, engine: AsyncEngine, interval_s: float = 5.0) -> None:
    """Check the policy file forever, every ``interval_s``, auditing each reload."""
    while True:
        await asyncio.sleep(interval_s)
        await record_reload(holder, engine)
