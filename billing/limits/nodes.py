"""Naming nodes of the hierarchy: from what an admin types to a stable node id and a label."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.limits import repo
from billing.quotas import Level


class UnknownNode(ValueError):
    """The department, user, key or use case named does not exist."""


@dataclass(frozen=True, slots=True)
class Node:
    node_id: str
    level: Level
    label: str
    department: str | None  # the department the node belongs to (None: organisation)


async def resolve_node(
    engine: AsyncEngine,
    level: Level,
    *,
    department: str | None = None,
    use_case: str | None = None,
    username: str | None = None,
    key_id: str | None = None,
) -> Node:
    """The node an admin designates; raises :class:`UnknownNode` or ``ValueError``."""
    if level is Level.ORGANISATION:
        return Node(repo.ORG_NODE, level, "organisation", None)
    if level in (Level.DEPARTMENT, Level.USE_CASE, Level.TEAM):
        if not department:
            raise ValueError(f"a {level.value} quota needs a department")
        dept = await directory.find_department(engine, department)
        if dept is None:
            raise UnknownNode(f"department {department!r} does not exist")
        if level is Level.DEPARTMENT:
            return Node(repo.department_node(dept.id), level, f"department {dept.name}", dept.name)
        if not use_case:
            raise ValueError(f"a {level.value} quota needs a use_case tag")
        return Node(
            repo.use_case_node(dept.id, use_case),
            Level.USE_CASE,
            f"use case {dept.name}/{use_case}",
            dept.name,
        )
    if level is Level.USER:
        if not username:
            raise ValueError("a user quota needs a username")
        user = await directory.find_user(engine, username)
        if user is None:
            raise UnknownNode(f"user {username!r} does not exist")
        names = {d.id: d.name for d in await directory.list_departments(engine)}
        return Node(
            repo.user_node(user.id), level, f"user {user.username}", names[user.department_id]
        )
    if not key_id:
        raise ValueError("a key quota needs a key_id")
    keys = {k.id: k for k in await directory.list_keys(engine)}
    if key_id not in keys:
        raise UnknownNode(f"key {key_id!r} does not exist")
    return Node(repo.key_node(key_id), Level.KEY, f"key {key_id}", keys[key_id].department)


async def department_of_node(engine: AsyncEngine, node_id: str) -> str | None:
    """The department name a stored node belongs to (None for the organisation)."""
    kind, _, rest = node_id.partition(":")
    departments = {d.id: d.name for d in await directory.list_departments(engine)}
    if kind in ("department", "use_case"):
        return departments.get(int(rest.split(":")[0]))
    if kind == "user":
        users = {u.id: u.department_id for u in await directory.list_users(engine)}
        return departments.get(users.get(int(rest), -1))
    if kind == "key":
        keys = {k.id: k.department for k in await directory.list_keys(engine)}
        return keys.get(rest)
    return None
