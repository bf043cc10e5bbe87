"""Auditing admin changes from the routes, and reading the trail (``GET /admin/audit``).

A route that changes something declares its action with ``openapi_extra=audited("key.revoke")``
and, once the change is made, calls :func:`record_change`; a test walks every mutating
``/admin`` route and fails for one that declares nothing. The reason comes from the optional
``X-Hygie-Reason`` header (UTF-8 accepted), checked before any change is made.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.responses import Response

from billing import audit
from billing.audit import Actor, InvalidReason
from gateway.api.admin_auth import AdminPrincipal, AdminRole
from gateway.errors import InvalidRequest

AUDIT_ACTION = "x-hygie-audit"
REASON_HEADER = "x-hygie-reason"
BREAK_GLASS = "break-glass"

router = APIRouter(prefix="/admin")


def audited(action: str) -> dict[str, Any]:
    """The route option that declares the audit action of a mutating admin route."""
    return {AUDIT_ACTION: action}


def actor_of(principal: AdminPrincipal) -> Actor:
    """Who acts: the user behind an admin key, or ``break-glass`` for the operator's token."""
    if principal.username is None:
        return Actor(BREAK_GLASS, str(principal.role))
    return Actor(principal.username, str(principal.role))


def reason_of(request: Request) -> str | None:
    """The ``X-Hygie-Reason`` header as text, or None; 400 when it cannot be stored."""
    raw = request.headers.get(REASON_HEADER)
    if raw is None:
        return None
    # HTTP headers arrive as Latin-1: a client sending UTF-8 meant UTF-8; else keep Latin-1.
    with suppress(UnicodeError):
        raw = raw.encode("latin-1").decode("utf-8")
    try:
        return audit.clean_reason(raw)
    except InvalidReason as exc:
        raise InvalidRequest(str(exc), param=REASON_HEADER) from None


async def record_change(
    request: Request,
    principal: AdminPrincipal,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    department: str | None = None,
    db: AsyncEngine | AsyncConnection | None = None,
) -> audit.AuditEntry:
    """Append the change to the trail (in ``db``'s transaction when it is a connection)."""
    return await audit.append(
        db if db is not None else request.app.state.services.engine,
        actor_of(principal),
        action,
        target,
        before=before,
        after=after,
        department=department,
        reason=reason_of(request),
    )


async def record_break_glass(engine: AsyncEngine, request: Request) -> None:
    """Each use of the operator's admin token is an entry of its own, reads included."""
    await audit.append(
        engine,
        Actor(BREAK_GLASS, str(AdminRole.ADMIN)),
        "admin_token.use",
        f"{request.method} {request.url.path}"[:300],
        reason=reason_of(request),
    )


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("since is an ISO 8601 date or instant", param="since") from None
    if since.tzinfo is None:
        raise InvalidRequest("since needs a time zone (e.g. 2026-12-01T00:00:00Z)", param="since")
    return since


@router.get("/audit")
async def list_audit(
    request: Request,
    since: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> Response:
    """Entries newest first; admins and finance see all, department admins their department's."""
    # Imported here: admin.py imports this module to record its changes.
    from gateway.api.admin import admin_context

    services, principal = await admin_context(request)
    for name, value in (("actor", actor), ("action", action)):
        if value is not None and (len(value) > 200 or not value.isprintable()):
            raise InvalidRequest(f"not a valid {name}", param=name)
    department = principal.scope
    principal.require_read(department)
    entries = await audit.list_entries(
        services.engine,
        since=_since(since),
        actor=actor,
        action=action,
        department=department,
        limit=max(1, min(limit, 1000)),
    )
    head = await audit.chain_head(services.engine)
    body = {"data": [e.as_dict() for e in entries], "head": {"seq": head.seq, "hash": head.hash}}
    return Response(orjson.dumps(body), 200, media_type="application/json")
