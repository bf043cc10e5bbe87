"""Quotas and alerts: the limits in force with what each node spent and holds, a form to set
a department's or a user's budget and rate limits, and a preview of what the change means.

Setting goes through the admin API's own path (:func:`gateway.api.quotas.save_quota`), so a
department admin meets the very same ceilings there as with the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing import directory
from billing.money import to_cents
from billing.quotas import Level
from billing.reports.report import Dimension, Forecast, UnknownDepartment, usage_report
from gateway.api.quotas import QuotaSpec, quota_rows, save_quota
from gateway.console.context import change, visit
from gateway.console.forms import Form
from gateway.console.pages.overview import visible_alerts
from gateway.console.periods import this_month
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.errors import GatewayError, QuotaUnavailable
from gateway.services import Services

router = APIRouter()


def spec_of(form: Form) -> QuotaSpec:
    """The form as the admin API's quota body (a month's budget, optional rate limits)."""
    level = form.text("level", 16) or "department"
    values: dict[str, Any] = {
        "level": level,
        "department": form.optional("department", 64),
        "username": form.optional("username", 128) if level == "user" else None,
        "period": "month",
    }
    for name, limit in (("budget_eur", 20), ("rpm", 12), ("tpm", 12)):
        value = form.text(name, limit)
        if value:
            values[name] = value
    try:
        return QuotaSpec.model_validate(values)
    except ValidationError:
        raise ConsoleProblem(400, "error.invalid_input") from None


@dataclass(frozen=True, slots=True)
class Preview:
    """What a budget would mean now: spend so far and the month-end forecast against it."""

    subject: str
    budget: Decimal | None
    forecast: Forecast
    refused_now: bool


async def preview_of(services: Services, spec: QuotaSpec) -> Preview:
    """The current month's figures of the node the form names, against its new budget."""
    if spec.department is None:
        raise ConsoleProblem(400, "error.invalid_input")
    try:
        report = await usage_report(
            services.engine,
            period=this_month(services),
            group_by=(Dimension.USER,) if spec.level is Level.USER else (),
            department=spec.department,
            budget=spec.budget_eur,
        )
    except UnknownDepartment:
        raise ConsoleProblem(404, "error.not_found") from None
    forecast = report.forecast
    subject = spec.department
    if spec.level is Level.USER:
        subject = spec.username or ""
        mine = [b for b in report.buckets if b.key.get("user") == spec.username]
        spent = mine[0].figures.cost_eur if mine else Decimal(0)
        forecast = _user_forecast(report.forecast, spent, spec.budget_eur)
    refused = spec.budget_eur is not None and forecast.cost_so_far_eur >= spec.budget_eur
    return Preview(subject, spec.budget_eur, forecast, refused)


def _user_forecast(whole: Forecast, spent: Decimal, budget: Decimal | None) -> Forecast:
    projected = None
    if whole.elapsed_fraction:
        projected = to_cents(spent / whole.elapsed_fraction)
    usable = budget if budget else None
    return Forecast(
        cost_so_far_eur=spent,
        elapsed_fraction=whole.elapsed_fraction,
        forecast_eur=projected,
        budget_eur=budget,
        budget_consumed_pct=None if usable is None else to_cents(spent * 100 / usable),
        forecast_budget_pct=(
            None if usable is None or projected is None else to_cents(projected * 100 / usable)
        ),
    )


@router.get("/quotas")
async def quotas(request: Request) -> Response:
    current = visit(request, "quotas")
    services, principal = current.services, current.staff
    try:
        rows = await quota_rows(services, principal)
    except QuotaUnavailable:
        raise ConsoleProblem(503, "error.counters_unavailable") from None
    department = principal.scope
    departments = [
        d.name
        for d in await directory.list_departments(services.engine)
        if department is None or d.name == department
    ]
    return render(
        request,
        "quotas.html",
        session=current.session,
        page="quotas",
        rows=rows,
        departments=departments,
        may_change=principal.can_write(department) if department else principal.can_write(None),
        alerts=await visible_alerts(services, principal),
        done=request.query_params.get("done") == "1",
    )


@router.post("/quotas/preview")
async def preview(request: Request) -> Response:
    """An htmx fragment: what the budget in the form would mean, nothing stored."""
    current, form = await change(request, "quotas")
    spec = spec_of(form)
    if not current.staff.can_read(spec.department):
        raise ConsoleProblem(404, "error.not_found")
    return render(
        request,
        "quota_preview.html",
        session=current.session,
        preview=await preview_of(current.services, spec),
    )


@router.post("/quotas")
async def set_quota(request: Request) -> Response:
    current, form = await change(request, "quotas")
    spec = spec_of(form)
    try:
        await save_quota(request, current.services, current.staff, spec)
    except GatewayError as exc:
        raise ConsoleProblem(exc.status, "error.refused", detail=exc.message) from None
    except InvalidOperation:
        raise ConsoleProblem(400, "error.invalid_input") from None
    return with_security_headers(RedirectResponse(f"{console_base(request)}/quotas?done=1", 303))
