"""Audit: who changed what and when, the chain head, and (administrators) a check of the chain."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing.audit import Verification
from gateway.api.admin_auth import AdminRole
from gateway.console.audit import AuditQuery, audit_page, verify
from gateway.console.context import Visit, change, visit
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import render

router = APIRouter()


def _text(request: Request, name: str, limit: int) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > limit:
        raise ConsoleProblem(400, "error.too_long")
    if not value.isprintable():
        raise ConsoleProblem(400, "error.invalid_input")
    return value or None


def _query(request: Request) -> AuditQuery:
    since, before = _text(request, "since", 10), _text(request, "before", 19)
    try:
        day = None if since is None else date.fromisoformat(since)
    except ValueError:
        raise ConsoleProblem(400, "error.bad_dates") from None
    if before is not None and not (before.isascii() and before.isdigit()):
        raise ConsoleProblem(400, "error.invalid_input")
    return AuditQuery(
        since=day,
        actor=_text(request, "actor", 200),
        action=_text(request, "action", 200),
        before_seq=None if before is None else int(before),
    )


def _change_of(value: Any) -> str:
    """A before/after value as compact JSON text (the template escapes it)."""
    return "" if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


async def _render(
    request: Request, current: Visit, verification: Verification | None = None
) -> Response:
    wanted = _query(request)
    found = await audit_page(current.services, current.staff, wanted)
    filters = {
        "since": "" if wanted.since is None else wanted.since.isoformat(),
        "actor": wanted.actor or "",
        "action": wanted.action or "",
    }
    older = None
    if found.older_than is not None:
        older = urlencode({k: v for k, v in filters.items() if v} | {"before": found.older_than})
    return render(
        request,
        "audit.html",
        session=current.session,
        page="audit",
        found=found,
        filters=filters,
        older=older,
        paged=wanted.before_seq is not None,
        newest=urlencode({k: v for k, v in filters.items() if v}),
        change_of=_change_of,
        may_verify=current.staff.role is AdminRole.ADMIN,
        verification=verification,
    )


@router.get("/audit")
async def audit(request: Request) -> Response:
    return await _render(request, visit(request, "audit"))


@router.post("/audit/verify")
async def verify_chain(request: Request) -> Response:
    """Walk the whole chain and say whether it holds, or its first broken link."""
    current, _ = await change(request, "audit")
    if current.staff.role is not AdminRole.ADMIN:
        raise ConsoleProblem(403, "error.forbidden")
    return await _render(request, current, await verify(current.services))
