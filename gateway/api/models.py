"""Model cards and the approval workflow: requested → approved or rejected, with a reason.

Anyone with an admin role reads the cards; administrators request and decide. A decision
applies to new requests of this gateway at once, of the others within the refresh interval.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from starlette.responses import Response

from billing.directory import DirectoryError
from billing.directory import models as approvals
from gateway.api.admin import admin_context, change
from gateway.api.admin_input import printable
from gateway.api.audit import audited
from gateway.errors import InvalidRequest, NotFound
from gateway.register import model_cards
from policies.governance.register import ApprovalStatus

router = APIRouter(prefix="/admin/models")

Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(printable)]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = ""


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json")


@router.get("")
async def list_cards(request: Request) -> Response:
    services, _ = await admin_context(request)
    return _json({"data": await model_cards(services.engine, services.catalog)})


@router.get("/{name}/approvals")
async def approval_history(name: str, request: Request) -> Response:
    services, _ = await admin_context(request)
    if services.catalog.model(name) is None:
        raise NotFound(f"No model {name!r} in the catalogue.")
    steps = await approvals.history(services.engine, name)
    return _json({"model": name, "steps": [s.as_dict() for s in steps]})


async def _step(name: str, status: ApprovalStatus, body: Step, request: Request) -> Response:
    services, principal = await admin_context(request)
    principal.require_write(None)  # administrators only
    if services.catalog.model(name) is None:
        raise NotFound(f"No model {name!r} in the catalogue.")
    try:
        async with change(services, request, principal, f"model.{status.value}", name) as made:
            step = await approvals.record_step(
                made.connection,
                name,
                status,
                actor=principal.username or "admin-token",
                reason=body.reason,
            )
            made.after = step.as_dict()
    except DirectoryError as exc:
        raise InvalidRequest(str(exc), param="reason") from None
    await services.use_cases.refresh()
    return _json(step.as_dict(), 201)


@router.post("/{name}/request", openapi_extra=audited("model.requested"))
async def request_approval(name: str, body: Step, request: Request) -> Response:
    """Ask for a model's approval (it is not routable until approved)."""
    return await _step(name, ApprovalStatus.REQUESTED, body, request)


@router.post("/{name}/approve", openapi_extra=audited("model.approved"))
async def approve(name: str, body: Step, request: Request) -> Response:
    return await _step(name, ApprovalStatus.APPROVED, body, request)


@router.post("/{name}/reject", openapi_extra=audited("model.rejected"))
async def reject(name: str, body: Step, request: Request) -> Response:
    """Reject a model; the reason is required and kept."""
    return await _step(name, ApprovalStatus.REJECTED, body, request)
