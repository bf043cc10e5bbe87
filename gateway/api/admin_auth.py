"""Who may use the admin and finance APIs, and on which departments.

Two kinds of credential are accepted: the operator's admin token (``HYGIE_ADMIN_TOKEN``: full
rights, break-glass only: every use is logged and counted), and the principal (API key or single
sign-on token) of a user whose role is ``admin``, ``finance`` (reads everything, changes nothing)
or ``department_admin`` (reads and changes their own department only).

A department admin manages the plain users (role ``member``) of their department: they cannot
grant a role, nor mint, revoke or limit the keys of anyone with a role. What lies outside their
department does not exist for them: they get the same 404 as for a name nobody has.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import AdminAuthRequired, Forbidden, InvalidApiKey, NotFound
from gateway.steps.auth import Authenticator, bearer_token

PLAIN_ROLE = "member"


class AdminRole(StrEnum):
    ADMIN = "admin"
    FINANCE = "finance"
    DEPARTMENT_ADMIN = "department_admin"


@dataclass(frozen=True, slots=True)
class AdminPrincipal:
    """An authenticated administrator; ``department`` is set for department admins only."""

    role: AdminRole
    department: str | None = None
    username: str | None = None

    @property
    def scope(self) -> str | None:
        """The only department this principal sees (None: the whole organisation)."""
        return self.department if self.role is AdminRole.DEPARTMENT_ADMIN else None

    def can_read(self, department: str | None) -> bool:
        """May this principal see figures of ``department`` (None: the whole organisation)?"""
        if self.role is not AdminRole.DEPARTMENT_ADMIN:
            return True
        return department is not None and department == self.department

    def can_write(self, department: str | None) -> bool:
        """May this principal change ``department`` (None: organisation-wide settings)?"""
        if self.role is AdminRole.ADMIN:
            return True
        if self.role is AdminRole.DEPARTMENT_ADMIN:
            return department is not None and department == self.department
        return False

    def require_in_scope(self, department: str | None, not_found: NotFound) -> None:
        """Raise ``not_found`` (the very answer for a missing thing) when a department admin
        names something of another department, so that answers reveal nothing beyond it."""
        if self.role is AdminRole.DEPARTMENT_ADMIN and department != self.department:
            raise not_found

    def require_may_manage(self, role: str) -> None:
        """A department admin may act on plain users only, never on a role above theirs."""
        if self.role is AdminRole.DEPARTMENT_ADMIN and role != PLAIN_ROLE:
            raise Forbidden("A department admin manages plain users only; ask an administrator.")

    def require_read(self, department: str | None) -> None:
        if not self.can_read(department):
            raise Forbidden("You may only see your own department.")

    def require_write(self, department: str | None) -> None:
        if not self.can_write(department):
            if self.role is AdminRole.FINANCE:
                raise Forbidden("The finance role can read reports but change nothing.")
            raise Forbidden("You may only change your own department.")


def is_admin_token(authorization: str | None, admin_token: str | None) -> bool:
    """True when ``authorization`` presents the operator's admin token (constant time)."""
    token = bearer_token(authorization)
    if token is None or admin_token is None:
        return False
    return hmac.compare_digest(token.encode(), admin_token.encode())


async def authenticate_admin(
    authorization: str | None,
    admin_token: str | None,
    authenticator: Authenticator,
    on_break_glass: Callable[[], None] | None = None,
) -> AdminPrincipal:
    """The administrator behind ``authorization``; raises 401 or 403 errors otherwise.
    ``on_break_glass`` is called on each use of the admin token (to log and count it)."""
    if bearer_token(authorization) is None:
        raise AdminAuthRequired("A valid admin credential is required.")
    if is_admin_token(authorization, admin_token):
        if on_break_glass is not None:
            on_break_glass()
        return AdminPrincipal(AdminRole.ADMIN)
    try:
        principal = await authenticator.authenticate(authorization)
    except InvalidApiKey:
        raise AdminAuthRequired("A valid admin credential is required.") from None
    try:
        role = AdminRole(principal.role)
    except ValueError:
        raise Forbidden("Your account has no administrative role.") from None
    department = principal.department if role is AdminRole.DEPARTMENT_ADMIN else None
    return AdminPrincipal(role, department, principal.username)
