"""Issuing an API key to a user, creating the user and department on the way if asked."""

from __future__ import annotations

from billing import directory
from billing.db.transactions import Database
from billing.directory.use_cases import UnknownUseCase, find_use_case
from gateway.steps.api_keys import NewKey, generate_key


async def issue_key(
    db: Database,
    username: str,
    *,
    department: str | None = None,
    use_case: str | None = None,
    name: str = "",
) -> NewKey:
    """A new key for ``username``; with ``department``, a missing user (and department) is
    created first. Raises :class:`billing.directory.DirectoryError` for an unknown user, or
    a use case that is not in the register (checked before anything is created)."""
    if use_case is not None and await find_use_case(db, use_case) is None:
        raise UnknownUseCase(f"use case {use_case!r} is not in the register of AI uses")
    if department is not None and await directory.find_user(db, username) is None:
        if await directory.find_department(db, department) is None:
            await directory.create_department(db, department)
        await directory.create_user(db, username, department=department)
    key = generate_key()
    await directory.store_key(
        db,
        key_id=key.key_id,
        key_hash=key.key_hash,
        display_prefix=key.display_prefix,
        username=username,
        name=name,
        use_case=use_case,
    )
    return key
