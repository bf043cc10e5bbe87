"""Models: the catalogue, where each deployment runs, what data it is cleared for, its
replicas' health and the prices."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gateway.catalog import Catalog, ModelSpec
from gateway.console.context import visit
from gateway.console.rendering import render
from gateway.routing.router import ReplicaState
from gateway.services import Services

router = APIRouter()


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
    return render(
        request,
        "models.html",
        session=current.session,
        page="models",
        models=models_for(services.catalog, None),
        prices=services.catalog.prices,
        replicas=replica_health(services),
    )
