"""Repository of the organisation tree: departments, users and API keys (hashes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import api_keys, departments, users
from billing.reports.spreadsheet import could_be_formula

# The roles a user may have; gateway.api.admin_auth says what each may do.
ROLES = ("member", "department_admin", "finance", "admin")


class DirectoryError(Exception):
    """A directory change was refused (duplicate name, unknown parent...)."""


class NoSuchDepartment(DirectoryError):
    """The department named does not exist."""


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    name: str
    display_name: str
    default_data_class: str | None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    department_id: int


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An API key as listed to admins: never the secret, only its public prefix."""

    id: str
    display_prefix: str
    name: str
    use_case: str | None
    username: str
    department: str
    created_at: datetime
    revoked_at: datetime | None
    role: str  # the owner's role: who may manage this key depends on it


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """Who a valid key belongs to: what authentication needs on every request."""

    key_id: str
    user_id: int
    username: str
    role: str
    department_id: int
    department: str
    default_data_class: str | None
    use_case: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _inserted_id(primary_key: Any) -> int:
    if not primary_key or primary_key[0] is None:
        raise DirectoryError("the database did not return the new row's id")
    return int(primary_key[0])


async def create_department(
    engine: AsyncEngine,
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
        async with engine.begin() as connection:
            result = await connection.execute(
                insert(departments).values(
                    name=name,
                    display_name=display_name or name,
                    default_data_class=default_data_class,
                    created_at=_now(),
                )
            )
    except IntegrityError:
        raise DirectoryError(f"department {name!r} already exists") from None
    new_id = _inserted_id(result.inserted_primary_key)
    return Department(new_id, name, display_name or name, default_data_class)


async def find_department(engine: AsyncEngine, name: str) -> Department | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(select(departments).where(departments.c.name == name))
        ).first()
    if row is None:
        return None
    return Department(row.id, row.name, row.display_name, row.default_data_class)


async def department_name(engine: AsyncEngine, department_id: int) -> str | None:
    """The name of the department with this id, or None."""
    query = select(departments.c.name).where(departments.c.id == department_id)
    async with engine.connect() as connection:
        name = (await connection.execute(query)).scalar_one_or_none()
    return None if name is None else str(name)


async def list_departments(engine: AsyncEngine) -> list[Department]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(departments).order_by(departments.c.name))).all()
    return [Department(r.id, r.name, r.display_name, r.default_data_class) for r in rows]


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
                    created_at=_now(),
                )
            )
    except IntegrityError:
        raise DirectoryError(f"user {username!r} already exists") from None
    new_id = _inserted_id(result.inserted_primary_key)
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


async def store_key(
    engine: AsyncEngine,
    *,
    key_id: str,
    key_hash: str,
    display_prefix: str,
    username: str,
    name: str = "",
    use_case: str | None = None,
) -> None:
    """Record a new key by its hash; the plaintext is never given to this function."""
    user = await find_user(engine, username)
    if user is None:
        raise DirectoryError(f"user {username!r} does not exist")
    async with engine.begin() as connection:
        await connection.execute(
            insert(api_keys).values(
                id=key_id,
                key_hash=key_hash,
                display_prefix=display_prefix,
                user_id=user.id,
                use_case=use_case,
                name=name,
                created_at=_now(),
            )
        )


def _key_query() -> Select[Any]:
    return (
        select(
            api_keys,
            users.c.username,
            users.c.role,
            users.c.department_id,
            departments.c.name.label("department"),
            departments.c.default_data_class,
        )
        .join(users, api_keys.c.user_id == users.c.id)
        .join(departments, users.c.department_id == departments.c.id)
    )


async def owner_of_key_hash(engine: AsyncEngine, key_hash: str) -> KeyOwner | None:
    """The owner of the active (not revoked) key with this hash, or None."""
    query = _key_query().where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    if row is None:
        return None
    return KeyOwner(
        key_id=row.id,
        user_id=row.user_id,
        username=row.username,
        role=row.role,
        department_id=row.department_id,
        department=row.department,
        default_data_class=row.default_data_class,
        use_case=row.use_case,
    )


async def list_keys(engine: AsyncEngine, *, department: str | None = None) -> list[KeyInfo]:
    """Keys, newest first, optionally only those of one department."""
    query = _key_query().order_by(api_keys.c.created_at.desc())
    if department is not None:
        query = query.where(departments.c.name == department)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_key_info(r) for r in rows]


async def find_key(engine: AsyncEngine, key_id: str) -> KeyInfo | None:
    """One key (active or revoked) by its id, or None."""
    async with engine.connect() as connection:
        row = (await connection.execute(_key_query().where(api_keys.c.id == key_id))).first()
    return None if row is None else _key_info(row)


def _key_info(row: Any) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        display_prefix=row.display_prefix,
        name=row.name,
        use_case=row.use_case,
        username=row.username,
        department=row.department,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        role=row.role,
    )


async def revoke_key(engine: AsyncEngine, key_id: str) -> bool:
    """Revoke a key; True if an active key was revoked, False if unknown or already revoked."""
    async with engine.begin() as connection:
        result = await connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
    return bool(result.rowcount)
