"""The register of AI uses through the admin API, its live inventory and its monitoring.

Everyone with an admin role reads the register; only administrators change it. A change
applies to new requests of this gateway at once, of the others within the refresh interval.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from billing.directory import DirectoryError, NoSuchDepartment
from billing.directory.use_cases import (
    UseCase,
    find_use_case,
    list_use_cases,
    register_use_case,
    update_use_case,
)
from billing.monitoring.use_case_health import weekly_figures
from billing.reports.date_range import DateRange, ReportError
from billing.reports.inventory import build_inventory, inventory_csv, inventory_html
from gateway.api.admin import admin_context, change
from gateway.api.admin_input import USE_CASE_MAX, printable, valid_text
from gateway.api.audit import audited
from gateway.errors import InvalidRequest, NotFound
from gateway.register import hosting_classes
from policies.governance.register import AiActCategory, DpiaStatus, Lifecycle

router = APIRouter(prefix="/admin")

UseCaseName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=USE_CASE_MAX, pattern=r"^[A-Za-z0-9][\w.-]*$"),
]


Text64 = Annotated[str, StringConstraints(max_length=64), AfterValidator(printable)]
Text200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(printable)]
Text500 = Annotated[str, StringConstraints(max_length=500), AfterValidator(printable)]
Text1000 = Annotated[str, StringConstraints(max_length=1000), AfterValidator(printable)]
Text4000 = Annotated[str, StringConstraints(max_length=4000), AfterValidator(printable)]
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(printable)
]


class UseCaseBody(BaseModel):
    """A use case as an administrator declares it."""

    model_config = ConfigDict(extra="forbid")
    purpose: Text4000 = ""
    department: Text64 | None = None
    responsible: Text200 = ""
    population: Text500 = ""
    legal_basis: Text500 = ""
    data_classes: list[Literal["public", "internal", "personal", "health"]] = Field(
        default_factory=list, max_length=4
    )
    dpia_status: DpiaStatus = DpiaStatus.NOT_STARTED
    dpia_date: date | None = None
    ai_act_category: AiActCategory = AiActCategory.UNASSESSED
    ai_act_reason: Text1000 = ""
    status: Lifecycle = Lifecycle.PROPOSED
    allowed_models: list[ModelName] | None = Field(default=None, max_length=200)
    documentation_url: Text500 | None = None

    def record(self, name: str) -> UseCase:
        return UseCase(
            name=name,
            purpose=self.purpose,
            department=self.department,
            responsible=self.responsible,
            population=self.population,
            legal_basis=self.legal_basis,
            data_classes=tuple(dict.fromkeys(self.data_classes)),
            dpia_status=self.dpia_status,
            dpia_date=self.dpia_date,
            ai_act_category=self.ai_act_category,
            ai_act_reason=self.ai_act_reason,
            status=self.status,
            allowed_models=None
            if self.allowed_models is None
            else tuple(dict.fromkeys(self.allowed_models)),
            documentation_url=self.documentation_url,
        )


class NewUseCase(UseCaseBody):
    name: UseCaseName


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Lifecycle


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json")


def _name(name: str) -> str:
    if not valid_text(name, USE_CASE_MAX):
        raise InvalidRequest("not a use case name", param="name")
    return name


def _no_use_case(name: str) -> NotFound:
    return NotFound(f"No use case {name!r} in the register.")


@router.get("/use-cases")
async def list_register(request: Request) -> Response:
    services, _ = await admin_context(request)
    return _json({"data": [u.as_dict() for u in await list_use_cases(services.engine)]})


@router.post("/use-cases", openapi_extra=audited("use_case.create"))
async def register(body: NewUseCase, request: Request) -> Response:
    services, principal = await admin_context(request)
    principal.require_write(None)
    record = body.record(body.name)
    try:
        async with change(
            services, request, principal, "use_case.create", body.name, department=record.department
        ) as made:
            stored = await register_use_case(made.connection, record)
            made.after = stored.as_dict()
    except NoSuchDepartment as exc:
        raise InvalidRequest(str(exc), param="department") from None
    except DirectoryError as exc:
        raise InvalidRequest(str(exc), param="name") from None
    await services.use_cases.refresh()
    return _json(stored.as_dict(), 201)


@router.get("/use-cases/{name}")
async def show(name: str, request: Request) -> Response:
    services, _ = await admin_context(request)
    found = await find_use_case(services.engine, _name(name))
    if found is None:
        raise _no_use_case(name)
    return _json(found.as_dict())


@router.put("/use-cases/{name}", openapi_extra=audited("use_case.update"))
async def replace_record(name: str, body: UseCaseBody, request: Request) -> Response:
    """Replace a use case's record (a change of status is dated today)."""
    services, principal = await admin_context(request)
    principal.require_write(None)
    previous = await find_use_case(services.engine, _name(name))
    if previous is None:
        raise _no_use_case(name)
    try:
        async with change(
            services, request, principal, "use_case.update", name, before=previous.as_dict()
        ) as made:
            stored = await update_use_case(made.connection, body.record(name))
            made.after, made.department = stored.as_dict(), stored.department
    except NoSuchDepartment as exc:
        raise InvalidRequest(str(exc), param="department") from None
    await services.use_cases.refresh()
    return _json(stored.as_dict())


@router.post("/use-cases/{name}/status", openapi_extra=audited("use_case.status"))
async def change_status(name: str, body: StatusChange, request: Request) -> Response:
    services, principal = await admin_context(request)
    principal.require_write(None)
    current = await find_use_case(services.engine, _name(name))
    if current is None:
        raise _no_use_case(name)
    async with change(
        services,
        request,
        principal,
        "use_case.status",
        name,
        before={"status": str(current.status)},
        after={"status": str(body.status)},
        department=current.department,
    ) as made:
        stored = await update_use_case(made.connection, replace(current, status=body.status))
    await services.use_cases.refresh()
    return _json(stored.as_dict())


@router.get("/use-cases/{name}/monitoring")
async def monitoring(name: str, request: Request, weeks: int = 8) -> Response:
    """Volume, error and refusal rates and latency, week by week."""
    services, principal = await admin_context(request)
    principal.require_read(None)
    figures = await weekly_figures(
        services.engine, datetime.now(UTC), services.timezone, weeks=max(2, min(weeks, 104))
    )
    found = figures.get(_name(name))
    if found is None and await find_use_case(services.engine, name) is None:
        raise _no_use_case(name)
    return _json({"use_case": name, "weeks": [w.as_dict() for w in found or []]})


@router.get("/reports/inventory")
async def inventory(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    format: Literal["json", "csv", "html"] = "json",
) -> Response:
    """Every use case with what its traffic was over a period (default: this month)."""
    services, principal = await admin_context(request)
    principal.require_read(None)
    try:
        period = DateRange.parse(start, end, tz=services.timezone, now=datetime.now(UTC))
    except ReportError as exc:
        raise InvalidRequest(str(exc)) from None
    await services.ledger.flush()
    report = await build_inventory(
        services.engine, period.start, period.end, hosting_of=hosting_classes(services.catalog)
    )
    if format == "csv":
        return Response(inventory_csv(report), media_type="text/csv; charset=utf-8")
    if format == "html":
        return Response(inventory_html(report), media_type="text/html; charset=utf-8")
    return _json(report.as_dict())
