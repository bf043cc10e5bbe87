"""Departments: the units that budgets, reports and default data classes attach to."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from billing.db.schema import departments
from billing.db.transactions import Database, reading, writing
from billing.directory.records import Department, DirectoryError, inserted_id, now
from billing.reports.spreadsheet import could_be_formula


async def create_department(
    db: Database,
    name: str,
    *,
    display_name: str = "",
    default_data_class: str | None = None,
) -> Department:
    """Create a department; raises :class:`DirectoryError` if the name is taken, or if its
    display name would be a formula in the spreadsheets finance opens (every export neutralises
    such cells too; refusing them here keeps the name as people will read it)."""
    if could_be_formula(display_name):
        raise DirectoryError(
            "a display name may not start with =, +, -, @ or a tab (spreadsheets run it)"
        )
    try:
        async with writing(db) as connection:
            result = await connection.execute(
                insert(departments).values(
                    name=name,
                    display_name=display_name or name,
                    default_data_class=default_data_class,
                    created_at=now(),
                )
            )
    except IntegrityError:
        raise DirectoryError(f"department {name!r} already exists") from None
    new_id = inserted_id(result.inserted_primary_key)
    return Department(new_id, name, display_name or name, default_data_class)


async def find_department(db: Database, name: str) -> Department | None:
    async with reading(db) as connection:
        row = (
            await connection.execute(select(departments).where(departments.c.name == name))
        ).first()
    if row is None:
        return None
    return Department(row.id, row.name, row.display_name, row.default_data_class)


async def department_name(db: Database, department_id: int) -> str | None:
    """The name of the department with this id, or None."""
    query = select(departments.c.name).where(departments.c.id == department_id)
    async with reading(db) as connection:
        name = (await connection.execute(query)).scalar_one_or_none()
    return None if name is None else str(name)


async def list_departments(db: Database) -> list[Department]:
    async with reading(db) as connection:
        rows = (await connection.execute(select(departments).order_by(departments.c.name))).all()
    return [Department(r.id, r.name, r.display_name, r.default_data_class) for r in rows]
