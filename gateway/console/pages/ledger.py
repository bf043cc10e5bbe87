"""Ledger explorer: requests filtered by date, department, user, model, decision and status.

Metadata only: the ledger never holds a prompt or an answer. The CSV export neutralises
anything a spreadsheet could take for a formula (a user named ``=cmd|...``).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing.ledger.search import LedgerFilter, LedgerRow, search_records
from billing.money import from_micros
from billing.reports.spreadsheet import safe_cell
from gateway.console.context import Visit, visit
from gateway.console.pages.overview import scope_of
from gateway.console.periods import date_range
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import render, with_security_headers

router = APIRouter()
PAGE_ROWS = 200
EXPORT_ROWS = 5000
DECISIONS = ("allow", "reroute", "pseudonymise", "deny")
_COLUMNS = (
    "request_id",
    "started_at",
    "department",
    "user",
    "use_case",
    "model",
    "deployment",
    "status_code",
    "data_class",
    "policy_decision",
    "prompt_tokens",
    "completion_tokens",
    "cost_eur",
)


def _filter(request: Request, current: Visit) -> LedgerFilter:
    params = request.query_params

    def param(name: str, limit: int = 200) -> str | None:
        value = params.get(name, "").strip()
        if len(value) > limit:
            raise ConsoleProblem(400, "error.too_long")
        return value or None

    department = scope_of(current.staff) or param("department", 64)
    status = param("status", 8)
    decision = param("decision", 16)
    if status not in (None, "ok", "error") or decision not in (None, *DECISIONS):
        raise ConsoleProblem(400, "error.invalid_input")
    return LedgerFilter(
        period=date_range(current.services, param("from", 10), param("to", 10)),
        department=department,
        username=param("user", 128),
        model=param("model"),
        decision=decision,
        status=status,
    )


def local_time(value: datetime, tz: object) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz)  # type: ignore[arg-type]


@router.get("/ledger")
async def ledger_page(request: Request) -> Response:
    current = visit(request, "ledger")
    wanted = _filter(request, current)
    rows = await search_records(current.services.engine, wanted, limit=PAGE_ROWS)
    return render(
        request,
        "ledger.html",
        session=current.session,
        page="ledger",
        wanted=wanted,
        rows=rows,
        limit=PAGE_ROWS,
        decisions=DECISIONS,
        tz=current.services.timezone,
        local_time=local_time,
        from_micros=from_micros,
        fixed_department=scope_of(current.staff),
        query=request.url.query,
    )


def rows_csv(rows: list[LedgerRow], tz: object) -> str:
    """The rows as CSV (times in the organisation's zone), every text cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                safe_cell(r.request_id),
                local_time(r.started_at, tz).isoformat(),
                safe_cell(r.department),
                safe_cell(r.username),
                safe_cell(r.use_case),
                safe_cell(r.model),
                safe_cell(r.deployment),
                r.status_code,
                safe_cell(r.data_class),
                safe_cell(r.policy_decision),
                r.prompt_tokens,
                r.completion_tokens,
                "" if r.cost_micro_eur is None else format(from_micros(r.cost_micro_eur), "f"),
            ]
        )
    return buffer.getvalue()


@router.get("/ledger.csv")
async def ledger_csv(request: Request) -> Response:
    current = visit(request, "ledger")
    wanted = _filter(request, current)
    rows = await search_records(current.services.engine, wanted, limit=EXPORT_ROWS)
    name = f"ledger-{wanted.period.first}-{wanted.period.last}.csv"
    return with_security_headers(
        Response(
            rows_csv(rows, current.services.timezone),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    )
