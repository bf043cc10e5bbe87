"""Departments, users and API keys: the tree, creation, revocation, a new key shown once.

Every change goes through the admin API's own checks (:class:`AdminPrincipal`) and input
models, so the console can do nothing the API would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing import directory
from billing.directory import Department, DirectoryError, KeyInfo, User, changes
from gateway.api.admin import NewDepartment, NewKey, NewUser
from gateway.api.admin_auth import PLAIN_ROLE, AdminPrincipal, AdminRole
from gateway.console.changes import console_actor
from gateway.console.context import Visit, change, visit
from gateway.console.forms import Form
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.services import Services
from gateway.steps.api_keys import generate_key

router = APIRouter()
M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class UserNode:
    user: User
    keys: list[KeyInfo] = field(default_factory=list)


@dataclass(slots=True)
class DepartmentNode:
    department: Department
    users: list[UserNode] = field(default_factory=list)


async def tree(services: Services, principal: AdminPrincipal) -> list[DepartmentNode]:
    """The departments the principal may see, each with its users and their keys."""
    nodes = {
        d.id: DepartmentNode(d)
        for d in await directory.list_departments(services.engine)
        if principal.can_read(d.name)
    }
    by_user: dict[str, UserNode] = {}
    for user in await directory.list_users(services.engine):
        if user.department_id in nodes:
            by_user[user.username] = UserNode(user)
            nodes[user.department_id].users.append(by_user[user.username])
    for key in await directory.list_keys(services.engine):
        if key.revoked_at is None and key.username in by_user:
            by_user[key.username].keys.append(key)
    return sorted(nodes.values(), key=lambda n: n.department.name)


async def _page(request: Request, current: Visit, *, status: int = 200, **context: Any) -> Response:
    principal = current.staff
    context.setdefault("error", "")
    context.setdefault("new_key", None)
    return render(
        request,
        "organisation.html",
        session=current.session,
        page="organisation",
        status=status,
        tree=await tree(current.services, principal),
        may_create_department=principal.can_write(None),
        may_change=principal.role is not AdminRole.FINANCE,
        may_grant_roles=principal.role is AdminRole.ADMIN,
        roles=directory.ROLES if principal.role is AdminRole.ADMIN else (PLAIN_ROLE,),
        done=_known_done(request.query_params.get("done")),
        **context,
    )


def _parse(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in values.items() if v not in ("", None)})
    except ValidationError:
        raise ConsoleProblem(400, "error.invalid_input") from None


def _known_done(value: str | None) -> str:
    return value if value in ("department", "user", "revoked") else ""


def _done(request: Request, what: str) -> Response:
    return with_security_headers(
        RedirectResponse(f"{console_base(request)}/organisation?done={what}", 303)
    )


@router.get("/organisation")
async def organisation(request: Request) -> Response:
    current = visit(request, "organisation")
    return await _page(request, current)


@router.post("/organisation/departments")
async def create_department(request: Request) -> Response:
    current, form = await change(request, "organisation")
    if not current.staff.can_write(None):
        raise ConsoleProblem(403, "error.forbidden")
    body = _parse(
        NewDepartment,
        {
            "name": form.text("name", 64),
            "display_name": form.text("display_name"),
            "default_data_class": form.optional("default_data_class", 16),
        },
    )
    try:
        await changes.add_department(
            current.services.engine,
            console_actor(current),
            body.name,
            display_name=body.display_name,
            default_data_class=body.default_data_class,
        )
    except DirectoryError:
        raise ConsoleProblem(409, "error.exists") from None
    return _done(request, "department")


@router.post("/organisation/users")
async def create_user(request: Request) -> Response:
    current, form = await change(request, "organisation")
    principal = current.staff
    body = _parse(
        NewUser,
        {
            "username": form.text("username", 128),
            "department": form.text("department", 64),
            "display_name": form.text("display_name"),
            "role": form.text("role", 32) or PLAIN_ROLE,
        },
    )
    if not principal.can_read(body.department):
        raise ConsoleProblem(404, "error.not_found")
    if not principal.can_write(body.department):
        raise ConsoleProblem(403, "error.forbidden")
    if body.role != PLAIN_ROLE and principal.role is not AdminRole.ADMIN:
        raise ConsoleProblem(403, "error.roles_admin_only")
    try:
        await changes.add_user(
            current.services.engine,
            console_actor(current),
            body.username,
            department=body.department,
            display_name=body.display_name,
            role=body.role,
        )
    except directory.NoSuchDepartment:
        raise ConsoleProblem(404, "error.not_found") from None
    except DirectoryError:
        raise ConsoleProblem(409, "error.exists") from None
    return _done(request, "user")


async def manageable_user(services: Services, principal: AdminPrincipal, username: str) -> User:
    """A user the principal may mint or revoke keys for (404 outside their scope, as the API)."""
    user = await directory.find_user(services.engine, username)
    if user is None:
        raise ConsoleProblem(404, "error.not_found")
    department = await directory.department_name(services.engine, user.department_id)
    if not principal.can_read(department):
        raise ConsoleProblem(404, "error.not_found")
    if not principal.can_write(department):
        raise ConsoleProblem(403, "error.forbidden")
    if principal.role is AdminRole.DEPARTMENT_ADMIN and user.role != PLAIN_ROLE:
        raise ConsoleProblem(403, "error.plain_users_only")
    return user


async def mint_key(current: Visit, form: Form, user: User) -> str:
    """Store a new key for ``username``; the secret is returned once and stored nowhere."""
    body = _parse(
        NewKey,
        {
            "username": user.username,
            "name": form.text("name"),
            "use_case": form.optional("use_case", 128),
        },
    )
    key = generate_key()
    stored = changes.KeyToStore(
        key.key_id, key.key_hash, key.display_prefix, body.username, body.name, body.use_case
    )
    engine = current.services.engine
    try:
        await changes.add_key(
            engine,
            console_actor(current),
            stored,
            department=await directory.department_name(engine, user.department_id),
        )
    except DirectoryError:
        raise ConsoleProblem(404, "error.not_found") from None
    return key.secret


@router.post("/organisation/keys")
async def create_key(request: Request) -> Response:
    current, form = await change(request, "organisation")
    user = await manageable_user(current.services, current.staff, form.text("username", 128))
    secret = await mint_key(current, form, user)
    return await _page(request, current, status=201, new_key=secret)


async def revoke(current: Visit, key: KeyInfo) -> None:
    """Revoke ``key`` (already checked to be the visitor's to revoke) and audit it."""
    if not await changes.withdraw_key(current.services.engine, console_actor(current), key):
        raise ConsoleProblem(404, "error.not_found")  # revoked meanwhile: no entry either
    current.services.authenticator.forget(key.id)


@router.post("/organisation/keys/revoke")
async def revoke_key(request: Request) -> Response:
    current, form = await change(request, "organisation")
    key = await directory.find_key(current.services.engine, form.text("key_id", 32))
    if key is None or not current.staff.can_read(key.department):
        raise ConsoleProblem(404, "error.not_found")
    await manageable_user(current.services, current.staff, key.username)
    await revoke(current, key)
    return _done(request, "revoked")
