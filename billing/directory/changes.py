"""Audited changes of the organisation tree: each change and its audit entry in one transaction.

The admin API, the console and the command line check who may do what, each in its own terms,
then call these functions; so what is written, and what the trail says of it, is the same
whichever door the change came through. Directory errors (:class:`DirectoryError` and its
kinds) pass through unchanged, and a change that raises leaves neither row nor entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.audit import Actor, audited_change
from billing.directory.departments import create_department
from billing.directory.keys import revoke_key, store_key
from billing.directory.records import Department, KeyInfo, User
from billing.directory.users import create_user


@dataclass(frozen=True, slots=True)
class KeyToStore:
    """A new key as the directory keeps it: never the secret, only its hash and prefix."""

    key_id: str
    key_hash: str
    display_prefix: str
    username: str
    name: str = ""
    use_case: str | None = None


async def add_department(
    engine: AsyncEngine,
    actor: Actor,
    name: str,
    *,
    display_name: str = "",
    default_data_class: str | None = None,
    reason: str | None = None,
) -> Department:
    async with audited_change(
        engine, actor, "department.create", name, department=name, reason=reason
    ) as made:
        department = await create_department(
            made.connection, name, display_name=display_name, default_data_class=default_data_class
        )
        made.after = asdict(department)
    return department


async def add_user(
    engine: AsyncEngine,
    actor: Actor,
    username: str,
    *,
    department: str,
    display_name: str = "",
    role: str = "member",
    reason: str | None = None,
) -> User:
    async with audited_change(
        engine, actor, "user.create", username, department=department, reason=reason
    ) as made:
        user = await create_user(
            made.connection,
            username,
            department=department,
            display_name=display_name,
            role=role,
        )
        made.after = asdict(user) | {"department": department}
    return user


async def add_key(
    engine: AsyncEngine,
    actor: Actor,
    key: KeyToStore,
    *,
    department: str | None,
    reason: str | None = None,
) -> None:
    """Store ``key`` for its user, of ``department`` (which the trail names)."""
    after = {
        "id": key.key_id,
        "display_prefix": key.display_prefix,
        "username": key.username,
        "name": key.name,
        "use_case": key.use_case,
    }
    async with audited_change(
        engine, actor, "key.create", key.key_id, after=after, department=department, reason=reason
    ) as made:
        await store_key(
            made.connection,
            key_id=key.key_id,
            key_hash=key.key_hash,
            display_prefix=key.display_prefix,
            username=key.username,
            name=key.name,
            use_case=key.use_case,
        )


async def withdraw_key(
    engine: AsyncEngine, actor: Actor, key: KeyInfo, *, reason: str | None = None
) -> bool:
    """Revoke ``key``; False, with no entry, when it was revoked meanwhile."""
    before = asdict(key)
    after = before | {"revoked_at": datetime.now(UTC)}
    try:
        async with audited_change(
            engine,
            actor,
            "key.revoke",
            key.id,
            before=before,
            after=after,
            department=key.department,
            reason=reason,
        ) as made:
            if not await revoke_key(made.connection, key.id):
                raise _AlreadyRevoked  # rolls the entry back: nothing changed
    except _AlreadyRevoked:
        return False
    return True


class _AlreadyRevoked(Exception):
    """Raised inside a change to abandon it."""
