"""Minimal admin API (behind the admin credential): departments, users, keys, ledger."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from typing import Any, Literal, overload

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from billing import audit, directory
from billing.directory import DirectoryError, NoSuchDepartment, User, changes
from billing.directory.use_cases import UnknownUseCase
from billing.ledger import repository as ledger
from gateway.api.admin_auth import PLAIN_ROLE, AdminPrincipal, AdminRole, authenticate_admin
from gateway.api.admin_input import (
    DEPARTMENT_NAME_MAX,
    KEY_ID_MAX,
    DepartmentName,
    DisplayName,
    KeyName,
    UseCase,
    Username,
    valid_text,
)
from gateway.api.audit import actor_of, audited, reason_of, record_break_glass
from gateway.errors import Forbidden, InvalidRequest, NotFound
from gateway.services import Services
from gateway.steps.api_keys import generate_key

router = APIRouter(prefix="/admin")
openapi_router = APIRouter()


async def admin_context(request: Request) -> tuple[Services, AdminPrincipal]:
    """The running services and the authenticated administrator of this request."""
    services: Services = request.app.state.services
    token = services.settings.admin_token
    principal = await authenticate_admin(
        request.headers.get("authorization"),
        token.get_secret_value() if token else None,
        services.authenticator,
        lambda: _break_glass(services, request),
    )
    reason_of(request)  # a reason that cannot be stored is refused before any change
    if principal.username is None:
        await record_break_glass(services.engine, request)
    return services, principal


def _break_glass(services: Services, request: Request) -> None:
    # Services built by hand (tests, tools) may not carry the counter.
    break_glass = getattr(services, "break_glass", None)
    if break_glass is not None:
        route = request.scope.get("route")
        break_glass.used(request.method, getattr(route, "path", "?"))


def _no_user(username: str) -> NotFound:
    return NotFound(f"No user {username!r}.")


def _no_key(key_id: str) -> NotFound:
    return NotFound(f"No active key {key_id!r}.")


def _no_department(name: str) -> NotFound:
    return NotFound(f"No department {name!r}.")


@overload
def department_param(department: str) -> str: ...
@overload
def department_param(department: None) -> None: ...
@overload
def department_param(department: str | None) -> str | None: ...
def department_param(department: str | None) -> str | None:
    """A department name from a query string, refused with a 400 when it cannot be one."""
    if department is not None and not valid_text(department, DEPARTMENT_NAME_MAX):
        raise InvalidRequest("not a department name", param="department")
    return department


async def _user_in_scope(services: Services, principal: AdminPrincipal, username: str) -> User:
    """The user, with their department's name checked against the caller's scope."""
    user = await directory.find_user(services.engine, username)
    if user is None:
        raise _no_user(username)
    department = await directory.department_name(services.engine, user.department_id)
    principal.require_in_scope(department, _no_user(username))
    principal.require_write(department)
    return user


def change(
    services: Services,
    request: Request,
    principal: AdminPrincipal,
    action: str,
    target: str,
    **details: Any,
) -> AbstractAsyncContextManager[audit.Change]:
    """One admin change and its audit entry, in one transaction: both land or neither does
    (``details``: ``before``, ``after``, ``department``, see :func:`audit.audited_change`)."""
    return audit.audited_change(
        services.engine,
        actor_of(principal),
        action,
        target,
        reason=reason_of(request),
        **details,
    )


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json")


class NewDepartment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    display_name: DisplayName = ""
    # A misspelt class would be read as "health" (the safe side): refused here instead.
    default_data_class: Literal["public", "internal", "personal", "health"] | None = None


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    username: Username
    department: DepartmentName
    display_name: DisplayName = ""
    role: str = Field(default=PLAIN_ROLE, pattern=r"^(member|department_admin|finance|admin)$")


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    username: Username
    name: KeyName = ""
    use_case: UseCase | None = None


@router.post("/departments", openapi_extra=audited("department.create"))
async def create_department(body: NewDepartment, request: Request) -> Response:
    services, principal = await admin_context(request)
    principal.require_write(None)
    try:
        dept = await changes.add_department(
            services.engine,
            actor_of(principal),
            body.name,
            display_name=body.display_name,
            default_data_class=body.default_data_class,
            reason=reason_of(request),
        )
    except DirectoryError as exc:
        raise InvalidRequest(str(exc), param="name") from None
    return _json(asdict(dept), 201)


@router.get("/departments")
async def list_departments(request: Request) -> Response:
    services, principal = await admin_context(request)
    departments = await directory.list_departments(services.engine)
    return _json({"data": [asdict(d) for d in departments if principal.can_read(d.name)]})


@router.post("/users", openapi_extra=audited("user.create"))
async def create_user(body: NewUser, request: Request) -> Response:
    services, principal = await admin_context(request)
    principal.require_in_scope(body.department, _no_department(body.department))
    principal.require_write(body.department)
    if body.role != PLAIN_ROLE and principal.role is not AdminRole.ADMIN:
        raise Forbidden("Only an administrator can grant administrative roles.")
    try:
        user = await changes.add_user(
            services.engine,
            actor_of(principal),
            body.username,
            department=body.department,
            display_name=body.display_name,
            role=body.role,
            reason=reason_of(request),
        )
    except NoSuchDepartment:
        raise _no_department(body.department) from None
    except DirectoryError as exc:
        raise InvalidRequest(str(exc), param="username") from None
    return _json(asdict(user), 201)


@router.get("/users")
async def list_users(request: Request) -> Response:
    services, principal = await admin_context(request)
    names = {d.id: d.name for d in await directory.list_departments(services.engine)}
    users = await directory.list_users(services.engine)
    visible = [u for u in users if principal.can_read(names.get(u.department_id))]
    return _json({"data": [asdict(u) for u in visible]})


@router.post("/keys", openapi_extra=audited("key.create"))
async def create_key(body: NewKey, request: Request) -> Response:
    """Create a key; the secret is in this answer and nowhere else, ever."""
    services, principal = await admin_context(request)
    user = await _user_in_scope(services, principal, body.username)
    principal.require_may_manage(user.role)
    key = generate_key()
    stored = changes.KeyToStore(
        key.key_id, key.key_hash, key.display_prefix, body.username, body.name, body.use_case
    )
    try:
        await changes.add_key(
            services.engine,
            actor_of(principal),
            stored,
            department=await directory.department_name(services.engine, user.department_id),
            reason=reason_of(request),
        )
    except UnknownUseCase as exc:
        raise InvalidRequest(str(exc), param="use_case") from None
    except DirectoryError:  # deleted meanwhile
        raise _no_user(body.username) from None
    return _json({"id": key.key_id, "key": key.secret, "display_prefix": key.display_prefix}, 201)


@router.get("/keys")
async def list_keys(request: Request, department: str | None = None) -> Response:
    services, principal = await admin_context(request)
    department = principal.scope or department_param(department)
    principal.require_read(department)
    keys = await directory.list_keys(services.engine, department=department)
    return _json({"data": [asdict(k) for k in keys]})


@router.delete("/keys/{key_id}", openapi_extra=audited("key.revoke"))
async def revoke_key(key_id: str, request: Request) -> Response:
    services, principal = await admin_context(request)
    if not valid_text(key_id, KEY_ID_MAX):
        raise InvalidRequest("not a key id", param="key_id")
    key = await directory.find_key(services.engine, key_id)
    if key is None:
        raise _no_key(key_id)
    principal.require_in_scope(key.department, _no_key(key_id))
    principal.require_write(key.department)
    principal.require_may_manage(key.role)
    if not await changes.withdraw_key(
        services.engine, actor_of(principal), key, reason=reason_of(request)
    ):
        raise _no_key(key_id)  # revoked meanwhile: nothing changes, nothing is recorded
    services.authenticator.forget(key_id)
    return _json({"id": key_id, "revoked": True})


@router.get("/ledger")
async def recent_ledger(request: Request, limit: int = 50) -> Response:
    services, principal = await admin_context(request)
    principal.require_read(None)
    records = await ledger.recent_records(services.engine, limit=max(1, min(limit, 1000)))
    return _json({"data": [r.as_row() for r in records]})


@openapi_router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> Response:
    """The OpenAPI document, for administrators only: it maps every admin route."""
    _, principal = await admin_context(request)
    if principal.role is not AdminRole.ADMIN:
        raise Forbidden("The API description is for administrators.")
    return _json(request.app.openapi())
