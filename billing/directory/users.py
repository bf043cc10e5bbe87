"""Users: people (or applications) in a department, with one role each."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from billing.db.schema import departments, users
from billing.db.transactions import Database, reading, writing
from billing.directory.departments import create_department, find_department
from billing.directory.records import (
    ROLES,
    Department,
    DirectoryError,
    NoSuchDepartment,
    User,
    inserted_id,
    now,
)


async def create_user(
    db: Database,
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
    dept = await find_department(db, department)
    if dept is None:
        raise NoSuchDepartment(f"department {department!r} does not exist")
    try:
        async with writing(db) as connection:
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


async def find_user(db: Database, username: str) -> User | None:
    async with reading(db) as connection:
        row = (await connection.execute(select(users).where(users.c.username == username))).first()
    if row is None:
        return None
    return User(row.id, row.username, row.display_name, row.role, row.department_id)


async def list_users(db: Database) -> list[User]:
    async with reading(db) as connection:
        rows = (await connection.execute(select(users).order_by(users.c.username))).all()
    return [User(r.id, r.username, r.display_name, r.role, r.department_id) for r in rows]


async def sync_user(
    db: Database,
    username: str,
    *,
    department: str,
    role: str,
    display_name: str = "",
) -> tuple[User, Department]:
    """The user as the identity provider describes them: created on first sight (with their
    department), and their department, role and display name brought in step otherwise.

    Safe under concurrent first requests of one user: a lost insert race reads the winner's row.
    """
    if role not in ROLES:
        raise DirectoryError(f"role {role!r} is not one of {', '.join(ROLES)}")
    dept = await _ensure_department(db, department)
    user = await find_user(db, username)
    if user is None:
        try:
            return await create_user(
                db, username, department=department, display_name=display_name, role=role
            ), dept
        except DirectoryError:
            user = await find_user(db, username)  # created meanwhile by another request
            if user is None:
                raise
    synced = User(user.id, username, display_name or username, role, dept.id)
    if synced != user:
        async with writing(db) as connection:
            await connection.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(department_id=dept.id, role=role, display_name=synced.display_name)
            )
    return synced, dept


async def _ensure_department(db: Database, name: str) -> Department:
    found = await find_department(db, name)
    if found is not None:
        return found
    try:
        return await create_department(db, name)
    except DirectoryError:
        found = await find_department(db, name)  # created meanwhile by another request
        if found is None:
            raise
        return found


async def user_in_department(
    db: Database, username: str, *, default_department: str
) -> tuple[User, Department]:
    """The user and their department; a user seen for the first time is created, as a plain
    member, in ``default_department`` (which must exist)."""
    user = await find_user(db, username)
    if user is None:
        try:
            user = await create_user(db, username, department=default_department)
        except DirectoryError:
            user = await find_user(db, username)  # created meanwhile by another request
            if user is None:
                raise
    async with reading(db) as connection:
        row = (
            await connection.execute(
                select(departments).where(departments.c.id == user.department_id)
            )
        ).one()
    return user, Department(row.id, row.name, row.display_name, row.default_data_class)
