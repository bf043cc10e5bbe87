"""The organisation tree's records: departments, users and API keys as the code sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
class OwnKey:
    """A key as its owner sees it in their own list."""

    id: str
    display_prefix: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    personal: bool


def now() -> datetime:
    """The time stamped on new rows (aware, UTC)."""
    return datetime.now(UTC)


def inserted_id(primary_key: Any) -> int:
    """The id of the row an INSERT just created."""
    if not primary_key or primary_key[0] is None:
        raise DirectoryError("the database did not return the new row's id")
    return int(primary_key[0])
