"""Model approvals: each step (requested, approved, rejected) with who, when and why.

The latest step of a model is its approval; a model with no step keeps the approval its
catalogue card declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from billing.db.schema import model_approvals
from billing.db.transactions import Database, reading, writing
from billing.directory.records import DirectoryError, now
from policies.governance.register import ApprovalStatus


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    model: str
    status: ApprovalStatus
    reason: str
    actor: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "status": self.status.value,
            "reason": self.reason,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


async def record_step(
    db: Database, model: str, status: ApprovalStatus, *, actor: str, reason: str = ""
) -> ApprovalStep:
    """Append a step. A rejection needs a reason; a decision needs a pending request."""
    if status is ApprovalStatus.REJECTED and not reason.strip():
        raise DirectoryError("a rejection needs a reason")
    step = ApprovalStep(model, status, reason, actor, now())
    async with writing(db) as connection:
        await connection.execute(
            insert(model_approvals).values(
                model=model, status=status.value, reason=reason, actor=actor, at=step.at
            )
        )
    return step


async def history(db: Database, model: str) -> list[ApprovalStep]:
    """Every step of ``model``'s approval, oldest first."""
    query = (
        select(model_approvals)
        .where(model_approvals.c.model == model)
        .order_by(model_approvals.c.id)
    )
    async with reading(db) as connection:
        rows = (await connection.execute(query)).all()
    return [_step(r) for r in rows]


async def latest_steps(db: Database) -> dict[str, ApprovalStep]:
    """The latest step of every model that has one."""
    newest = select(func.max(model_approvals.c.id)).group_by(model_approvals.c.model)
    query = select(model_approvals).where(model_approvals.c.id.in_(newest))
    async with reading(db) as connection:
        rows = (await connection.execute(query)).all()
    return {r.model: _step(r) for r in rows}


def _step(row: Any) -> ApprovalStep:
    return ApprovalStep(row.model, ApprovalStatus(row.status), row.reason, row.actor, row.at)
