"""Models: the catalogue, where each deployment runs, what data it is cleared for, its
replicas' health and the prices; each model's card, its approval and the approval history.

Administrators request, approve or reject a model (a rejection needs a reason) through the
same domain function as ``POST /admin/models/{name}/...``; every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing.directory import DirectoryError
from billing.directory import models as approvals
from gateway.api.admin_auth import AdminRole
from gateway.catalog import Catalog, ModelSpec
from gateway.console.changes import console_change
from gateway.console.context import change, visit
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.routing.router import ReplicaState
from gateway.services import Services
from policies.governance.register import ApprovalStatus

router = APIRouter()
STEPS = {
    "request": ApprovalStatus.REQUESTED,
    "approve": ApprovalStatus.APPROVED,
    "reject": ApprovalStatus.REJECTED,
}


@dataclass(frozen=True, slots=True)
class ReplicaHealth:
    address: str
    available: bool
    in_flight: int


def replica_health(services: Services) -> dict[str, list[ReplicaHealth]]:
    """Deployment -> its replicas, each up (healthy, not ejected) or down."""
    by_deployment: dict[str, list[ReplicaHealth]] = {}
    state: ReplicaState
    for state in services.router.replica_states():
        by_deployment.setdefault(state.deployment, []).append(
            ReplicaHealth(
                state.base_url,
                state.healthy and state.ejected_until is None,
                state.in_flight,
            )
        )
    return by_deployment


def models_for(catalog: Catalog, department: str | None) -> list[ModelSpec]:
    """The models a department may use (all of them for ``None``)."""
    return [
        m
        for m in catalog.models
        if department is None
        or m.allowed_departments is None
        or department in m.allowed_departments
    ]


@router.get("/models")
async def models(request: Request) -> Response:
    current = visit(request, "models")
    services = current.services
    models_of = services.catalog.models
    return render(
        request,
        "models.html",
        session=current.session,
        page="models",
        models=models_for(services.catalog, None),
        prices=services.catalog.prices,
        replicas=replica_health(services),
        latest=await approvals.latest_steps(services.engine),
        histories={m.name: await approvals.history(services.engine, m.name) for m in models_of},
        may_decide=current.staff.role is AdminRole.ADMIN,
        done=request.query_params.get("done") in STEPS,
    )


@router.post("/models/approval")
async def approval_step(request: Request) -> Response:
    """Request, approve or reject a model, with a reason (required to reject)."""
    current, form = await change(request, "models")
    if current.staff.role is not AdminRole.ADMIN:
        raise ConsoleProblem(403, "error.forbidden")
    services = current.services
    name, step = form.text("model"), STEPS.get(form.text("step", 16))
    if step is None:
        raise ConsoleProblem(400, "error.invalid_input")
    if services.catalog.model(name) is None:
        raise ConsoleProblem(404, "error.not_found")
    reason = form.text("reason", 1000)
    if not reason.isprintable():
        raise ConsoleProblem(400, "error.invalid_input")
    try:
        async with console_change(current, f"model.{step.value}", name) as made:
            recorded = await approvals.record_step(
                made.connection, name, step, actor=current.session.identity.username, reason=reason
            )
            made.after = recorded.as_dict()
    except DirectoryError:
        raise ConsoleProblem(400, "error.reason_needed") from None
    await services.use_cases.refresh()
    done = f"{console_base(request)}/models?done={form.text('step', 16)}"
    return with_security_headers(RedirectResponse(done, 303))
