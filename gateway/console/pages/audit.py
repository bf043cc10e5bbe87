"""Audit: the recorded changes (see :mod:`gateway.console.audit`), in the organisation's zone."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gateway.console.audit import recent_events
from gateway.console.context import visit
from gateway.console.rendering import render

router = APIRouter()


@router.get("/audit")
async def audit(request: Request) -> Response:
    current = visit(request, "audit")
    return render(
        request,
        "audit.html",
        session=current.session,
        page="audit",
        events=await recent_events(current.services, current.staff),
        tz=current.services.timezone,
    )
