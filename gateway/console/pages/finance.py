"""Finance: usage and cost by any grouping of the reports, chargeback statements and the FOCUS
export of a month. Every figure comes from the report functions in ``billing/reports`` (the
same as ``/admin/reports``); days and months are the organisation's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing import directory
from billing.closing.closed_months import month_report
from billing.periods import Period, PeriodKind, period_containing
from billing.reports.chargeback import render_csv
from billing.reports.date_range import ReportError
from billing.reports.focus import focus_csv
from billing.reports.ledger_charges import LedgerChargesError, MonthCharges, parse_month
from billing.reports.report import Dimension, parse_group_by, usage_report
from billing.reports.statement_html import render_html
from billing.reports.usage_csv import usage_csv
from gateway.api.reports import costing_of, deployment_view
from gateway.console import i18n
from gateway.console.charts import columns
from gateway.console.context import Visit, visit
from gateway.console.periods import date_range
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import render, with_security_headers
from gateway.errors import NotFound

router = APIRouter()
GROUPINGS = tuple(d.value for d in Dimension)


def _grouping(text: str | None) -> tuple[Dimension, ...]:
    try:
        dims = parse_group_by(text or "department")
    except ReportError:
        raise ConsoleProblem(400, "error.invalid_input") from None
    return dims[:3]


def _month(current: Visit, text: str | None) -> Period:
    services = current.services
    if not text:
        return period_containing(PeriodKind.MONTH, datetime.now(UTC), services.timezone)
    try:
        return parse_month(text[:7], services.timezone)
    except LedgerChargesError:
        raise ConsoleProblem(400, "error.bad_dates") from None


async def _charges(current: Visit, month: Period) -> MonthCharges:
    try:
        costing = costing_of(current.services)
        charges, _ = await month_report(
            current.services.engine, costing, month, now=datetime.now(UTC)
        )
    except (NotFound, LedgerChargesError):
        raise ConsoleProblem(404, "error.no_month") from None
    return charges


def _department(current: Visit, name: str | None) -> str | None:
    """The department asked for; a department admin always gets their own."""
    fixed = current.staff.scope
    if fixed is not None:
        return fixed
    return (name or "").strip()[:64] or None


@router.get("/finance")
async def finance(request: Request) -> Response:
    current = visit(request, "finance")
    params = request.query_params
    services = current.services
    dims = _grouping(params.get("group_by"))
    period = date_range(services, params.get("from", "")[:10], params.get("to", "")[:10])
    department = _department(current, None)
    report = await usage_report(
        services.engine,
        period=period,
        group_by=dims,
        department=department,
        deployments=deployment_view(services),
    )
    names = [d.name for d in await directory.list_departments(services.engine)]
    return render(
        request,
        "finance.html",
        session=current.session,
        page="finance",
        report=report,
        dims=[d.value for d in dims],
        groupings=GROUPINGS,
        cost_bars=columns(
            [(" · ".join(b.key.values()), b.figures.cost_micro_eur) for b in report.buckets][:40]
        ),
        departments=[n for n in names if department is None or n == department],
        month=_month(current, params.get("month")).key,
    )


@router.get("/finance/usage.csv")
async def finance_usage_csv(request: Request) -> Response:
    current = visit(request, "finance")
    params = request.query_params
    services = current.services
    period = date_range(services, params.get("from", "")[:10], params.get("to", "")[:10])
    report = await usage_report(
        services.engine,
        period=period,
        group_by=_grouping(params.get("group_by")),
        department=_department(current, None),
        deployments=deployment_view(services),
    )
    lang = i18n.pick_language(request.headers.get("accept-language"))
    return _attachment(usage_csv(report, lang), f"usage-{period.first}-{period.last}.csv")


@router.get("/finance/statement")
async def statement(request: Request) -> Response:
    current = visit(request, "finance")
    params = request.query_params
    department = _department(current, params.get("department"))
    if department is None:
        raise ConsoleProblem(400, "error.invalid_input")
    month = _month(current, params.get("month"))
    charges = await _charges(current, month)
    if not charges.knows(department) or not current.staff.can_read(department):
        raise ConsoleProblem(404, "error.not_found")
    statement = charges.statement(department)
    lang = i18n.pick_language(request.headers.get("accept-language"))
    name = f"chargeback-{department}-{month.key}"
    if params.get("format") == "csv":
        return _attachment(render_csv(statement, lang), f"{name}.csv")
    if params.get("format") == "html":
        return _attachment(render_html(statement, lang), f"{name}.html", "text/html")
    return render(
        request,
        "statement.html",
        session=current.session,
        page="finance",
        statement=statement,
        month=month.key,
        department=department,
    )


@router.get("/finance/focus.csv")
async def focus(request: Request) -> Response:
    current = visit(request, "finance")
    month = _month(current, request.query_params.get("month"))
    department = _department(current, None)
    try:
        costing = costing_of(current.services)
        charges, account = await month_report(
            current.services.engine, costing, month, now=datetime.now(UTC)
        )
    except (NotFound, LedgerChargesError):
        raise ConsoleProblem(404, "error.no_month") from None
    lines = charges.lines if department is None else charges.lines_for(department)
    suffix = f"-{department}" if department else ""
    return _attachment(focus_csv(lines, account, charges.status), f"focus-{month.key}{suffix}.csv")


def _attachment(text: str, filename: str, media: str = "text/csv") -> Response:
    # A department name goes into the file name: keep it to characters every system accepts.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return with_security_headers(
        Response(
            text,
            media_type=f"{media}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{safe}"'},
        )
    )
