"""Who may set or remove which limits: the privilege checks of ``/admin/quotas``.

An organisation admin may set anything. A department admin acts only inside their department,
only on plain users' limits, and never above the ceiling the organisation set for the
department (see :mod:`billing.limits.ceiling`). Nodes of other departments answer exactly as
nodes that do not exist.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.limits import repo
from billing.limits.ceiling import over_department, raised
from billing.limits.nodes import Node, department_of_node
from billing.quotas import NodeLimits
from gateway.api.admin_auth import AdminPrincipal, AdminRole
from gateway.errors import Forbidden, NotFound


def no_limits(node_id: str) -> NotFound:
    """The answer for a node without limits, or one the caller may not see."""
    return NotFound(f"No limits on {node_id!r}.")


async def _owner_role(engine: AsyncEngine, node_id: str) -> str | None:
    """The role of the user a user or key node belongs to (None for other nodes)."""
    kind, _, rest = node_id.partition(":")
    if kind == "key":
        key = await directory.find_key(engine, rest)
        return None if key is None else key.role
    if kind == "user":
        roles = {u.id: u.role for u in await directory.list_users(engine)}
        return roles.get(int(rest))
    return None


async def _ceiling(engine: AsyncEngine, department: str) -> tuple[str, NodeLimits | None]:
    """The department node's id and its limits (None when it has none)."""
    dept = await directory.find_department(engine, department)
    if dept is None:  # the department of an existing node: only a concurrent deletion
        raise NotFound(f"department {department!r} does not exist")
    node_id = repo.department_node(dept.id)
    stored = await repo.get_limits(engine, node_id)
    return node_id, None if stored is None else stored.limits


async def check_setting(
    engine: AsyncEngine, principal: AdminPrincipal, node: Node, limits: NodeLimits
) -> None:
    """Raise :class:`Forbidden` unless ``principal`` may give ``node`` these ``limits``.

    The caller has already answered 404 for a node outside the principal's department.
    """
    principal.require_write(node.department)
    if principal.role is not AdminRole.DEPARTMENT_ADMIN or node.department is None:
        return
    role = await _owner_role(engine, node.node_id)
    if role is not None:
        principal.require_may_manage(role)
    ceiling_id, ceiling = await _ceiling(engine, node.department)
    if node.node_id == ceiling_id:
        over = raised(limits, ceiling)
    else:
        over = over_department(limits, ceiling)
    if over:
        raise Forbidden(
            f"The limits of department {node.department} are the organisation's ceiling: a "
            f"department admin may lower them, not raise or remove them ({', '.join(over)}). "
            "Ask an administrator."
        )


async def check_removal(engine: AsyncEngine, principal: AdminPrincipal, node_id: str) -> None:
    """Raise unless ``principal`` may remove the limits of ``node_id`` (a well-formed id):
    for a department admin, 404 for any node outside their department (as for a node that
    does not exist), 403 for the department's own ceiling."""
    department = await department_of_node(engine, node_id)
    principal.require_in_scope(department, no_limits(node_id))
    principal.require_write(department)
    if principal.role is not AdminRole.DEPARTMENT_ADMIN or department is None:
        return
    role = await _owner_role(engine, node_id)
    if role is not None:
        principal.require_may_manage(role)
    if node_id.startswith("department:"):
        raise Forbidden(
            "Removing the department's limits would raise them: only an administrator can."
        )


def in_scope(principal: AdminPrincipal, node: Node, unknown: NotFound) -> None:
    """Answer ``unknown`` (the 404 of a missing node) for a node of another department."""
    if node.department is not None:
        principal.require_in_scope(node.department, unknown)
