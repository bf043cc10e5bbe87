"""The register of AI uses: every use case as a record, and its lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from billing.db.schema import use_cases
from billing.db.transactions import Database, reading, writing
from billing.directory.departments import find_department
from billing.directory.records import DirectoryError, NoSuchDepartment, now
from policies.governance.register import (
    AiActCategory,
    DpiaStatus,
    Lifecycle,
    UseCaseRule,
)


class UnknownUseCase(DirectoryError):
    """No use case of that name is registered."""


@dataclass(frozen=True, slots=True)
class UseCase:
    """One registered use of AI. ``status_dates`` maps each status reached to its date."""

    name: str
    purpose: str = ""
    department: str | None = None
    responsible: str = ""
    population: str = ""
    legal_basis: str = ""
    data_classes: tuple[str, ...] = ()
    dpia_status: DpiaStatus = DpiaStatus.NOT_STARTED
    dpia_date: date | None = None
    ai_act_category: AiActCategory = AiActCategory.UNASSESSED
    ai_act_reason: str = ""
    status: Lifecycle = Lifecycle.PROPOSED
    status_dates: dict[str, str] | None = None
    allowed_models: tuple[str, ...] | None = None
    documentation_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def rule(self) -> UseCaseRule:
        return UseCaseRule(self.name, self.status, self.allowed_models)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as the admin API and the reports show it."""
        return {
            "name": self.name,
            "purpose": self.purpose,
            "department": self.department,
            "responsible": self.responsible,
            "population": self.population,
            "legal_basis": self.legal_basis,
            "data_classes": list(self.data_classes),
            "dpia_status": self.dpia_status.value,
            "dpia_date": self.dpia_date.isoformat() if self.dpia_date else None,
            "ai_act_category": self.ai_act_category.value,
            "ai_act_reason": self.ai_act_reason,
            "status": self.status.value,
            "status_dates": dict(self.status_dates or {}),
            "allowed_models": None if self.allowed_models is None else list(self.allowed_models),
            "documentation_url": self.documentation_url,
        }


def _values(use_case: UseCase) -> dict[str, Any]:
    row = use_case.as_dict()
    row["dpia_date"] = use_case.dpia_date.isoformat() if use_case.dpia_date else None
    return row


def _from_row(row: Any) -> UseCase:
    return UseCase(
        name=row.name,
        purpose=row.purpose,
        department=row.department,
        responsible=row.responsible,
        population=row.population,
        legal_basis=row.legal_basis,
        data_classes=tuple(row.data_classes or ()),
        dpia_status=DpiaStatus(row.dpia_status),
        dpia_date=date.fromisoformat(row.dpia_date) if row.dpia_date else None,
        ai_act_category=AiActCategory(row.ai_act_category),
        ai_act_reason=row.ai_act_reason,
        status=Lifecycle(row.status),
        status_dates=dict(row.status_dates or {}),
        allowed_models=None if row.allowed_models is None else tuple(row.allowed_models),
        documentation_url=row.documentation_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _check_department(db: Database, use_case: UseCase) -> None:
    if use_case.department is not None and await find_department(db, use_case.department) is None:
        raise NoSuchDepartment(f"department {use_case.department!r} does not exist")


async def register_use_case(db: Database, use_case: UseCase) -> UseCase:
    """Add ``use_case`` to the register; its status date is today. Refuses a duplicate name
    and an owning department that does not exist."""
    await _check_department(db, use_case)
    stamp = now()
    dates = {use_case.status.value: stamp.date().isoformat(), **(use_case.status_dates or {})}
    stored = replace(use_case, status_dates=dates, created_at=stamp, updated_at=stamp)
    try:
        async with writing(db) as connection:
            await connection.execute(
                insert(use_cases).values(**_values(stored), created_at=stamp, updated_at=stamp)
            )
    except IntegrityError:
        raise DirectoryError(f"use case {use_case.name!r} is already registered") from None
    return stored


async def update_use_case(db: Database, use_case: UseCase) -> UseCase:
    """Replace a registered use case's record; a change of status is dated today."""
    current = await find_use_case(db, use_case.name)
    if current is None:
        raise UnknownUseCase(f"use case {use_case.name!r} is not registered")
    await _check_department(db, use_case)
    dates = dict(current.status_dates or {})
    if use_case.status is not current.status:
        dates[use_case.status.value] = now().date().isoformat()
    stored = replace(use_case, status_dates=dates, created_at=current.created_at, updated_at=now())
    async with writing(db) as connection:
        await connection.execute(
            update(use_cases)
            .where(use_cases.c.name == use_case.name)
            .values(**_values(stored), updated_at=stored.updated_at)
        )
    return stored


async def set_status(db: Database, name: str, status: Lifecycle) -> UseCase:
    """Move a use case to ``status`` (dated today)."""
    current = await find_use_case(db, name)
    if current is None:
        raise UnknownUseCase(f"use case {name!r} is not registered")
    return await update_use_case(db, replace(current, status=status))


async def find_use_case(db: Database, name: str) -> UseCase | None:
    """The registered use case called ``name``, or None."""
    async with reading(db) as connection:
        row = (await connection.execute(select(use_cases).where(use_cases.c.name == name))).first()
    return None if row is None else _from_row(row)


async def list_use_cases(db: Database) -> list[UseCase]:
    """The whole register, by name."""
    async with reading(db) as connection:
        rows = (await connection.execute(select(use_cases).order_by(use_cases.c.name))).all()
    return [_from_row(r) for r in rows]
