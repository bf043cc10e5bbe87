"""The register of AI uses seen with the catalogue: the patient page's draft, where each
deployment runs, and each model's card with its effective approval.

Shared by the admin API and the CLI, so that both publish the same page and show the same
approvals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.directory import models as approvals
from billing.directory.use_cases import UseCase, list_use_cases
from gateway.catalog import Catalog, ModelSpec
from gateway.settings import Settings
from policies.governance.patient_page import PatientEntry, hosting_words, is_listed, render_page


def hosting_classes(catalog: Catalog) -> dict[str, str]:
    """Each deployment's hosting class, by deployment name."""
    return {d.name: d.hosting.hosting_class.value for m in catalog.models for d in m.deployments}


def _hosting_of(use_case: UseCase, catalog: Catalog) -> tuple[str, ...]:
    models = (
        catalog.models
        if use_case.allowed_models is None
        else [m for m in catalog.models if m.name in use_case.allowed_models]
    )
    words = {
        hosting_words(d.hosting.hosting_class, d.hosting.region)
        for m in models
        for d in m.deployments
    }
    return tuple(sorted(words))


async def draft_patient_page(engine: AsyncEngine, catalog: Catalog, settings: Settings) -> str:
    """The patient page as the register stands now (what an administrator reviews)."""
    services = {d.name: d.display_name or d.name for d in await directory.list_departments(engine)}
    entries = [
        PatientEntry(
            name=u.name,
            purpose=u.purpose,
            service=services.get(u.department or "", u.department or ""),
            hosting=_hosting_of(u, catalog),
            legal_basis=u.legal_basis,
        )
        for u in await list_use_cases(engine)
        if is_listed(u.status, u.data_classes)
    ]
    return render_page(
        entries, hospital=settings.hospital_name, contact=settings.patient_page_contact
    )


async def model_cards(engine: AsyncEngine, catalog: Catalog) -> list[dict[str, Any]]:
    """Every catalogue model with its card, its effective approval and the workflow's steps."""
    latest = await approvals.latest_steps(engine)
    return [_card(m, latest.get(m.name)) for m in catalog.models]


def _card(model: ModelSpec, step: approvals.ApprovalStep | None) -> dict[str, Any]:
    card = model.card.model_dump(mode="json") if model.card else None
    return {
        "name": model.name,
        "description": model.description,
        "owner": model.owner,
        "card": card,
        "catalogue_approval": model.approval.value,
        "approval": step.status.value if step else model.approval.value,
        "approval_step": step.as_dict() if step else None,
        "hosting_classes": sorted({d.hosting.hosting_class.value for d in model.deployments}),
    }
