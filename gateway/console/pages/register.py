"""The register of AI uses: every use case with its status, department, responsible person,
data classes, AI Act category and DPIA; the patient page's draft and its publication.

Everyone with a staff role reads the register (as ``GET /admin/use-cases``); administrators
create, edit and change a status. Every change is validated by the admin API's own input
models, stored by the same domain functions, refreshed in the gateway at once and audited.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing import directory
from billing.directory import DirectoryError, NoSuchDepartment
from billing.directory.public_pages import publish_page, published_page
from billing.directory.use_cases import (
    UseCase,
    find_use_case,
    list_use_cases,
    register_use_case,
    update_use_case,
)
from gateway.api.admin_auth import AdminRole
from gateway.api.use_cases import NewUseCase, UseCaseBody
from gateway.console.changes import console_change
from gateway.console.context import Visit, change, visit
from gateway.console.forms import Form
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.register import draft_patient_page
from policies.governance.register import DATA_CLASSES, AiActCategory, DpiaStatus, Lifecycle

router = APIRouter()
M = TypeVar("M", bound=UseCaseBody)
DONE = ("created", "saved", "status", "published")
# The draft is the public page itself: plain HTML with its own inline style and no script.
_DRAFT_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def _body_values(form: Form) -> dict[str, Any]:
    """The form's fields as the admin API's body (empty fields left to the model's defaults)."""
    models = form.text("allowed_models", 4000)
    values: dict[str, Any] = {
        "purpose": form.text("purpose", 4000),
        "department": form.optional("department", 64),
        "responsible": form.text("responsible"),
        "population": form.text("population", 500),
        "legal_basis": form.text("legal_basis", 500),
        "data_classes": [c for c in DATA_CLASSES if form.get(f"dc_{c}") == "on"],
        "dpia_status": form.text("dpia_status", 32),
        "dpia_date": form.optional("dpia_date", 10),
        "ai_act_category": form.text("ai_act_category", 32),
        "ai_act_reason": form.text("ai_act_reason", 1000),
        "status": form.text("status", 32),
        # Empty: any approved model; otherwise the comma-separated list.
        "allowed_models": [m.strip() for m in models.split(",") if m.strip()] if models else None,
        "documentation_url": form.optional("documentation_url", 500),
    }
    return {k: v for k, v in values.items() if v not in ("", None) or k == "allowed_models"}


def _parse(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError:
        raise ConsoleProblem(400, "error.invalid_input") from None


def _admin(current: Visit) -> None:
    if current.staff.role is not AdminRole.ADMIN:
        raise ConsoleProblem(403, "error.forbidden")


def _done(request: Request, what: str) -> Response:
    return with_security_headers(
        RedirectResponse(f"{console_base(request)}/register?done={what}", 303)
    )


async def _existing(current: Visit, name: str) -> UseCase:
    if len(name) > 128 or not name.isprintable():
        raise ConsoleProblem(404, "error.not_found")
    found = await find_use_case(current.services.engine, name)
    if found is None:
        raise ConsoleProblem(404, "error.not_found")
    return found


@router.get("/register")
async def register_page(request: Request) -> Response:
    current = visit(request, "register")
    services = current.services
    done = request.query_params.get("done")
    return render(
        request,
        "register.html",
        session=current.session,
        page="register",
        use_cases=await list_use_cases(services.engine),
        departments=[d.name for d in await directory.list_departments(services.engine)],
        may_change=current.staff.role is AdminRole.ADMIN,
        may_preview=current.staff.can_read(None),
        published=await published_page(services.engine) is not None,
        statuses=list(Lifecycle),
        dpia_statuses=list(DpiaStatus),
        categories=list(AiActCategory),
        data_classes=DATA_CLASSES,
        done=done if done in DONE else "",
    )


@router.post("/register")
async def create(request: Request) -> Response:
    current, form = await change(request, "register")
    _admin(current)
    body = _parse(NewUseCase, {"name": form.text("name", 128), **_body_values(form)})
    try:
        async with console_change(current, "use_case.create", body.name) as made:
            stored = await register_use_case(made.connection, body.record(body.name))
            made.after, made.department = stored.as_dict(), stored.department
    except NoSuchDepartment:
        raise ConsoleProblem(404, "error.not_found") from None
    except DirectoryError:
        raise ConsoleProblem(409, "error.exists") from None
    await current.services.use_cases.refresh()
    return _done(request, "created")


@router.post("/register/{name}")
async def edit(name: str, request: Request) -> Response:
    current, form = await change(request, "register")
    _admin(current)
    previous = await _existing(current, name)
    body = _parse(UseCaseBody, _body_values(form))
    try:
        async with console_change(
            current, "use_case.update", name, before=previous.as_dict()
        ) as made:
            stored = await update_use_case(made.connection, body.record(name))
            made.after, made.department = stored.as_dict(), stored.department
    except NoSuchDepartment:
        raise ConsoleProblem(404, "error.not_found") from None
    await current.services.use_cases.refresh()
    return _done(request, "saved")


@router.post("/register/{name}/status")
async def change_status(name: str, request: Request) -> Response:
    current, form = await change(request, "register")
    _admin(current)
    previous = await _existing(current, name)
    try:
        status = Lifecycle(form.text("status", 32))
    except ValueError:
        raise ConsoleProblem(400, "error.invalid_input") from None
    async with console_change(
        current, "use_case.status", name, before={"status": str(previous.status)}
    ) as made:
        stored = await update_use_case(made.connection, replace(previous, status=status))
        made.after, made.department = {"status": str(stored.status)}, stored.department
    await current.services.use_cases.refresh()
    return _done(request, "status")


@router.get("/register/patient-page")
async def patient_page_draft(request: Request) -> Response:
    """The patient page as it would be published now (administrators and finance, as the API)."""
    current = visit(request, "register")
    if not current.staff.can_read(None):
        raise ConsoleProblem(403, "error.forbidden")
    services = current.services
    page = await draft_patient_page(services.engine, services.catalog, services.settings)
    return Response(page, 200, _DRAFT_HEADERS, "text/html; charset=utf-8")


@router.post("/register/patient-page/publish")
async def publish(request: Request) -> Response:
    current, _ = await change(request, "register")
    _admin(current)
    services = current.services
    page = await draft_patient_page(services.engine, services.catalog, services.settings)
    after = {"chars": len(page)}
    async with console_change(
        current, "patient_page.publish", "/public/ai-uses", after=after
    ) as made:
        await publish_page(made.connection, page, by=current.session.identity.username)
    return _done(request, "published")
