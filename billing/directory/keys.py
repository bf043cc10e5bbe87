"""API keys, stored by hash only: issuing, lookup on each request, listing, revocation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update

from billing.db.schema import api_keys, departments, users
from billing.db.transactions import Database, reading, writing
from billing.directory.principal import FRONT_END_MODES, FrontEndTrust, Principal
from billing.directory.records import DirectoryError, KeyInfo, OwnKey, now
from billing.directory.use_cases import UnknownUseCase, find_use_case
from billing.directory.users import find_user


async def store_key(
    db: Database,
    *,
    key_id: str,
    key_hash: str,
    display_prefix: str,
    username: str,
    name: str = "",
    use_case: str | None = None,
    expires_at: datetime | None = None,
    personal: bool = False,
) -> None:
    """Record a new key by its hash; the plaintext is never given to this function.
    ``personal`` keys are those their owner minted (``hygie login``); they expire.

    A key's use case must be in the register (:class:`UnknownUseCase` otherwise). A key without
    one can reach the admin API but no model (the use-case step refuses it).
    """
    user = await find_user(db, username)
    if user is None:
        raise DirectoryError(f"user {username!r} does not exist")
    if use_case is not None and await find_use_case(db, use_case) is None:
        raise UnknownUseCase(f"use case {use_case!r} is not in the register of AI uses")
    async with writing(db) as connection:
        await connection.execute(
            insert(api_keys).values(
                id=key_id,
                key_hash=key_hash,
                display_prefix=display_prefix,
                user_id=user.id,
                use_case=use_case,
                name=name,
                created_at=now(),
                expires_at=expires_at,
                personal=personal,
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


async def owner_of_key_hash(db: Database, key_hash: str) -> Principal | None:
    """The owner of the active (not revoked) key with this hash, or None."""
    query = _key_query().where(
        api_keys.c.key_hash == key_hash,
        api_keys.c.revoked_at.is_(None),
        or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now()),
    )
    async with reading(db) as connection:
        row = (await connection.execute(query)).first()
    if row is None:
        return None
    trust = None
    if row.front_end in FRONT_END_MODES:
        trust = FrontEndTrust(row.front_end, row.front_end_secret, bool(row.front_end_required))
    return Principal(
        front_end=trust,
        key_id=row.id,
        credential=f"key:{row.id}",
        roles=(row.role,),
        user_id=row.user_id,
        username=row.username,
        role=row.role,
        department_id=row.department_id,
        department=row.department,
        default_data_class=row.default_data_class,
        use_case=row.use_case,
    )


async def list_keys(db: Database, *, department: str | None = None) -> list[KeyInfo]:
    """Keys, newest first, optionally only those of one department."""
    query = _key_query().order_by(api_keys.c.created_at.desc())
    if department is not None:
        query = query.where(departments.c.name == department)
    async with reading(db) as connection:
        rows = (await connection.execute(query)).all()
    return [_key_info(r) for r in rows]


async def find_key(db: Database, key_id: str) -> KeyInfo | None:
    """One key (active or revoked) by its id, or None."""
    async with reading(db) as connection:
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


async def revoke_key(db: Database, key_id: str) -> bool:
    """Revoke a key; True if an active key was revoked, False if unknown or already revoked."""
    async with writing(db) as connection:
        result = await connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    return bool(result.rowcount)


async def set_front_end(
    db: Database,
    key_id: str,
    *,
    mode: str | None,
    encrypted_secret: str | None = None,
    required: bool = False,
) -> bool:
    """Mark an active key as a trusted chat front-end (``mode`` in :data:`FRONT_END_MODES`), or
    as a plain key again (``mode`` None). True if an active key was changed."""
    if mode is not None and mode not in FRONT_END_MODES:
        raise DirectoryError(f"front-end mode {mode!r} is not one of {', '.join(FRONT_END_MODES)}")
    values = {
        "front_end": mode,
        "front_end_secret": encrypted_secret if mode is not None else None,
        "front_end_required": required and mode is not None,
    }
    async with writing(db) as connection:
        result = await connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(**values)
        )
    return bool(result.rowcount)


async def list_user_keys(db: Database, user_id: int) -> list[OwnKey]:
    """The keys of one user, newest first (revoked ones included, for the record)."""
    query = (
        select(api_keys)
        .where(api_keys.c.user_id == user_id)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
    )
    async with reading(db) as connection:
        rows = (await connection.execute(query)).all()
    return [
        OwnKey(
            id=r.id,
            display_prefix=r.display_prefix,
            name=r.name,
            created_at=r.created_at,
            expires_at=r.expires_at,
            revoked_at=r.revoked_at,
            personal=bool(r.personal),
        )
        for r in rows
    ]


async def count_active_personal_keys(db: Database, user_id: int) -> int:
    """How many personal keys of this user are neither revoked nor expired."""
    query = select(func.count()).where(
        api_keys.c.user_id == user_id,
        api_keys.c.personal.is_(True),
        api_keys.c.revoked_at.is_(None),
        or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now()),
    )
    async with reading(db) as connection:
        return int((await connection.execute(query)).scalar_one())


async def revoke_user_key(db: Database, key_id: str, user_id: int) -> bool:
    """Revoke a key of this user only; False if it is not theirs or already revoked."""
    async with writing(db) as connection:
        result = await connection.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                api_keys.c.user_id == user_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now())
        )
    return bool(result.rowcount)
