"""Users: people (or applications) in a department, with one role each."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import users
from billing.directory.departments import find_department
from billing.directory.records import (
    ROLES,
    DirectoryError,
    NoSuchDepartment,
    User,
    inserted_id,
    now,
)


async def create_user(
    engine: AsyncEngine,
    username: str,
    *,
    department: str,
    display_name: str = "",
    role: str = "member",
) -> User:
    """Create a user in ``department`` (by name); raises :class:`DirectoryError` for a role
    that is not one of :data:`ROLES` (a misspelt role would silently grant nothing)."""
    if role not in ROLES:
        raise DirectoryError(f"role {role!r} is not one of {', '.join(ROLES)}")
    dept = await find_department(engine, department)
    if dept is None:
        raise NoSuchDepartment(f"department {department!r} does not exist")
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                insert(users).values(
                    username=username,
                    department_id=dept.id,
                    display_name=display_name or username,
                    role=role,
                    created_at=now(),
                )
            )
    except IntegrityError:
        raise DirectoryError(f"user {username!r} already exists") from None
    new_id = inserted_id(result.inserted_primary_key)
    return User(new_id, username, display_name or username, role, dept.id)


async def find_user(engine: AsyncEngine, username: str) -> User | None:
    async with engine.connect() as connection:
        row = (await connection.execute(select(users).where(users.c.username == username))).first()
    if row is None:
        return None
    return User(row.id, row.username, row.display_name, row.role, row.department_id)


async def list_users(engine: AsyncEngine) -> list[User]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(users).order_by(users.c.username))).all()
    return [User(r.id, r.username, r.display_name, r.role, r.department_id) for r in rows]
