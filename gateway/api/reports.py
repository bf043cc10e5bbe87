"""Cost and usage reports for finance and department admins (``/admin/reports``).

* ``GET /admin/reports/usage?group_by=department,model&from=2026-11-01&to=2026-11-30``
* ``GET /admin/reports/top?by=user&limit=10``
* ``GET /admin/reports/focus?month=2026-11`` (FOCUS 1.2 CSV)
* ``GET /admin/reports/chargeback?department=cardiologie&month=2026-11&format=html``
* ``POST /admin/reports/close?month=2026-11`` (freezes the month's figures; admins only)

A month not closed is provisional: its file names end in ``-provisional`` and every response
carries ``X-Hygie-Month-Status: closed|provisional``. An unknown department or a month that
has not started is a 404; a malformed department name a 400.

JSON by default, ``format=csv`` (and ``html`` for a statement). Finance and admins see every
department; a department admin must name their own department, and gets 403 for another one
or for the whole organisation. Dates are the organisation's (Europe/Paris by default); the
period defaults to the current calendar month.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from billing import audit
from billing.closing.closed_months import close_month, month_report
from billing.money import InvalidAmount, format_plain
from billing.periods import Period, PeriodKind, period_containing
from billing.pricing.costing import Costing
from billing.quotas.amounts import parse_budget_eur
from billing.reports.chargeback import Statement, render_csv
from billing.reports.date_range import DateRange, ReportError
from billing.reports.focus import FocusAccount, focus_csv
from billing.reports.ledger_charges import LedgerChargesError, MonthCharges, parse_month
from billing.reports.report import (
    Dimension,
    UnknownDepartment,
    parse_group_by,
    top_consumers,
    usage_report,
)
from billing.reports.statement_html import render_html
from billing.reports.usage_csv import usage_csv
from gateway.api.admin import admin_context, change, department_param
from gateway.api.audit import audited
from gateway.errors import InvalidRequest, NotFound
from gateway.services import Services
from gateway.steps.pricing import catalog_view

router = APIRouter(prefix="/admin/reports")

Format = Literal["json", "csv"]


def costing_of(services: Services) -> Costing:
    """The running cost model; 404 when the configuration has no ``cost:`` section."""
    costing = getattr(services, "costing", None)
    if not isinstance(costing, Costing):
        raise NotFound("No cost model is configured (add a `cost:` section to the configuration).")
    return costing


def deployment_view(services: Services) -> dict[str, tuple[str, str]]:
    """Deployment -> (provider, hosting class), from the cost model or else the catalog."""
    costing = getattr(services, "costing", None)
    if isinstance(costing, Costing):
        return costing.deployment_view()
    return {
        row.deployment: (row.provider or row.deployment, row.hosting_class)
        for row in catalog_view(services.catalog)
    }


_DEPARTMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _json(value: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(value), 200, media_type="application/json", headers=headers)


def _attachment(
    text: str, media_type: str, filename: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        text,
        200,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )


def _checked_department(department: str | None) -> str | None:
    """A department parameter that can go in a file name; 400 otherwise."""
    if department is not None and not _DEPARTMENT_NAME.fullmatch(department):
        raise InvalidRequest("not a department name", param="department")
    return department


async def _month_report(
    services: Services, costing: Costing, month: str | None, department: str | None
) -> tuple[MonthCharges, FocusAccount]:
    try:
        charges, account = await month_report(
            services.engine, costing, _month(services, month), now=datetime.now(UTC)
        )
    except LedgerChargesError as exc:
        raise NotFound(str(exc)) from None
    if department is not None and not charges.knows(department):
        raise NotFound(f"no department {department!r}")
    return charges, account


def _status(charges: MonthCharges) -> tuple[str, dict[str, str]]:
    """The file-name suffix and header that say whether the month is closed."""
    suffix = "" if charges.status == "closed" else "-provisional"
    return suffix, {"x-hygie-month-status": str(charges.status)}


def _budget(value: str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_budget_eur(value)
    except InvalidAmount as exc:
        raise InvalidRequest(f"budget: {exc}", param="budget") from None


def _month(services: Services, month: str | None) -> Period:
    if month is None:
        return period_containing(PeriodKind.MONTH, datetime.now(UTC), services.timezone)
    try:
        return parse_month(month, services.timezone)
    except LedgerChargesError as exc:
        raise InvalidRequest(str(exc), param="month") from None


def _range(services: Services, first: str | None, last: str | None) -> DateRange:
    try:
        return DateRange.parse(first, last, tz=services.timezone, now=datetime.now(UTC))
    except ReportError as exc:
        raise InvalidRequest(str(exc), param="from") from None


@router.get("/usage")
async def usage(
    request: Request,
    group_by: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    department: str | None = None,
    budget: str | None = None,
    format: Format = "json",
    lang: Literal["fr", "en"] | None = None,
) -> Response:
    """Requests, tokens, cost and active users per bucket, with totals and a forecast."""
    services, principal = await admin_context(request)
    department = department_param(department)
    principal.require_read(department)
    try:
        dims = parse_group_by(group_by)
    except ReportError as exc:
        raise InvalidRequest(str(exc), param="group_by") from None
    period = _range(services, first, last)
    try:
        report = await usage_report(
            services.engine,
            period=period,
            group_by=dims,
            department=department,
            deployments=deployment_view(services),
            budget=_budget(budget),
        )
    except UnknownDepartment as exc:
        raise NotFound(str(exc)) from None
    if format == "csv":
        return _attachment(
            usage_csv(report, lang),
            "text/csv; charset=utf-8",
            f"usage-{period.first}-{period.last}.csv",
        )
    return _json(report.as_dict())


@router.get("/top")
async def top(
    request: Request,
    by: Literal["user", "use_case", "department", "model"] = "user",
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    department: str | None = None,
) -> Response:
    """The users (or use cases...) that cost most in the period, most expensive first."""
    services, principal = await admin_context(request)
    department = department_param(department)
    principal.require_read(department)
    period = _range(services, first, last)
    try:
        ranked = await top_consumers(
            services.engine, period=period, by=Dimension(by), limit=limit, department=department
        )
    except UnknownDepartment as exc:
        raise NotFound(str(exc)) from None
    return _json(
        {
            "by": by,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "data": [{**b.key, **b.figures.as_dict()} for b in ranked],
        }
    )


@router.get("/focus")
async def focus(
    request: Request, month: str | None = None, department: str | None = None
) -> Response:
    """The month's charges as a FOCUS 1.2 CSV (one department's only, when it is given)."""
    services, principal = await admin_context(request)
    department = department_param(department)
    principal.require_read(department)
    costing = costing_of(services)
    department = _checked_department(department)
    charges, account = await _month_report(services, costing, month, department)
    lines = charges.lines if department is None else charges.lines_for(department)
    status, headers = _status(charges)
    suffix = f"-{department}" if department else ""
    return _attachment(
        focus_csv(lines, account, charges.status),
        "text/csv; charset=utf-8",
        f"focus-{charges.period.key}{suffix}{status}.csv",
        headers,
    )


@router.get("/chargeback")
async def chargeback(
    request: Request,
    department: str,
    month: str | None = None,
    budget: str | None = None,
    format: Literal["json", "csv", "html"] = "json",
    lang: Literal["fr", "en"] = "fr",
) -> Response:
    """One department's statement for a month: rounded lines, subtotals, budget variance."""
    services, principal = await admin_context(request)
    department = department_param(department)
    principal.require_read(department)
    costing = costing_of(services)
    _checked_department(department)
    charges, _ = await _month_report(services, costing, month, department)
    statement = charges.statement(department, budget=_budget(budget))
    status, headers = _status(charges)
    anchor = await audit.month_anchor(services.engine, charges.period.key)
    if anchor is not None:  # the trail's head at closing: a later rewrite shows against it
        headers["x-hygie-audit-head"] = str(anchor)
    name = f"chargeback-{department}-{charges.period.key}{status}"
    if format == "csv":
        return _attachment(render_csv(statement), "text/csv; charset=utf-8", f"{name}.csv", headers)
    if format == "html":
        return Response(
            render_html(statement, lang),
            200,
            media_type="text/html; charset=utf-8",
            headers=headers,
        )
    anchored = {"audit_chain_head": None if anchor is None else str(anchor)}
    return _json(statement_as_dict(statement) | anchored, headers)


@router.post("/close", openapi_extra=audited("month.close"))
async def close(request: Request, month: str) -> Response:
    """Close a month that is over: its figures are frozen and later reports read them."""
    services, principal = await admin_context(request)
    principal.require_write(None)
    costing = costing_of(services)
    period = _month(services, month)
    try:
        async with change(services, request, principal, "month.close", period.key) as made:
            charges = await close_month(
                services.engine,
                costing,
                period,
                now=datetime.now(UTC),
                closed_by=principal.username or str(principal.role),
                into=made.connection,
            )
            summary = made.after = close_summary(charges)
            made.anchor_month = period.key  # the trail's head goes with the month's figures
    except LedgerChargesError as exc:
        raise InvalidRequest(str(exc), param="month") from None
    assert made.entry is not None
    head = audit.ChainHead(made.entry.seq, made.entry.hash)
    return _json(summary | {"audit_chain_head": str(head)})


def close_summary(charges: MonthCharges) -> dict[str, Any]:
    """What a close froze: each department's total and each pool's cost, in cents."""
    departments = sorted({ln.department_id for ln in charges.lines if ln.department_id})
    unallocated = sum((t.unallocated_eur for t in charges.true_ups), Decimal("0.00"))
    return {
        "month": charges.period.key,
        "status": str(charges.status),
        "departments": {d: format(charges.statement(d).total, "f") for d in departments},
        "pools": {t.pool: format(t.pool_cost_eur, "f") for t in charges.true_ups},
        "unallocated_eur": format(unallocated, "f"),
    }


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format_plain(value)


def _cents(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def statement_as_dict(statement: Statement) -> dict[str, Any]:
    """A statement as JSON: amounts in cents as text, quantities and prices exact."""
    return {
        "department": statement.department_id,
        "department_name": statement.department_name,
        "month": statement.period.key,
        "status": statement.status,
        "number": statement.number,
        "issued_on": None if statement.issued_on is None else statement.issued_on.isoformat(),
        "issuer": statement.issuer,
        "cost_centre": statement.cost_centre,
        "currency": "EUR",
        "subtotals_eur": {
            kind: _cents(statement.subtotal(kind))
            for kind in ("external", "onprem", "dedicated", "true_up", "corrections")
        },
        "lines": [
            {
                "description": line.description,
                "model": line.model,
                "token_class": str(line.token_class),
                "consumed_quantity": _plain(line.consumed_quantity),
                "consumed_unit": line.consumed_unit,
                "quantity": _plain(line.quantity),
                "unit": line.unit,
                "unit_price_eur": _plain(line.unit_price),
                "amount_eur": _cents(line.amount),
                "price_version": line.price_version,
                "true_up": line.is_true_up,
            }
            for line in statement.lines
        ],
        "usage_total_eur": _cents(statement.usage_total),
        "true_up_total_eur": _cents(statement.true_up_total),
        "total_eur": _cents(statement.total),
        "budget_eur": _cents(statement.budget),
        "variance_eur": _cents(statement.variance),
    }
