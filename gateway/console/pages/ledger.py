"""Ledger explorer: requests filtered by date, department, user, model, decision and status.

Pages come from :func:`billing.reports.ledger_page` (keyset pages: page 2,000 costs what page 1
costs). The cursors of the pages already seen travel in the link (``trail``) so that "previous"
needs no server state. Metadata only: the ledger never holds a prompt or an answer. The CSV
export streams every matching record, page by page, and neutralises anything a spreadsheet
could take for a formula (a user named ``=cmd|...``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from billing import directory
from billing.ledger.record import LedgerRecord
from billing.money import from_micros
from billing.reports.date_range import DateRange, ReportError
from billing.reports.ledger_page import MAX_PAGE, LedgerFilter, LedgerPage, ledger_page
from billing.reports.spreadsheet import safe_cell
from gateway.console.context import Visit, visit
from gateway.console.periods import date_range
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import render, with_security_headers
from gateway.services import Services

router = APIRouter()
PAGE_ROWS = 50
MAX_TRAIL = 30
"""Pages remembered for "previous"; past that the oldest are dropped ("first page" remains)."""
FIRST_PAGE = "0"  # a cursor is base64 of a JSON array: it never reads "0"
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


@dataclass(frozen=True, slots=True)
class Names:
    """Directory ids -> names, to show records (which hold ids) and to filter by name."""

    departments: dict[int, str]
    users: dict[int, str]

    def department(self, record: LedgerRecord) -> str | None:
        return None if record.department_id is None else self.departments.get(record.department_id)

    def user(self, record: LedgerRecord) -> str | None:
        return None if record.user_id is None else self.users.get(record.user_id)


@dataclass(frozen=True, slots=True)
class Wanted:
    """The form's filters as typed (shown back) and as ids (None: nothing can match)."""

    form: dict[str, str]
    period: DateRange
    where: LedgerFilter | None


async def names_of(services: Services) -> Names:
    departments = await directory.list_departments(services.engine)
    users = await directory.list_users(services.engine)
    return Names({d.id: d.name for d in departments}, {u.id: u.username for u in users})


def _param(request: Request, name: str, limit: int = 200) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > limit or not value.isprintable():
        raise ConsoleProblem(400, "error.too_long" if len(value) > limit else "error.invalid_input")
    return value or None


def _status(text: str | None) -> int | None:
    if text is None:
        return None
    if not (len(text) == 3 and text.isascii() and text.isdigit()):
        raise ConsoleProblem(400, "error.invalid_input")
    return int(text)


def _id_of(names: dict[int, str], name: str | None) -> int | None:
    return None if name is None else next((i for i, n in names.items() if n == name), None)


def wanted_of(request: Request, current: Visit, names: Names) -> Wanted:
    """The filters of the query string, the department fixed for a department admin."""
    department = current.staff.scope or _param(request, "department", 64)
    user, model = _param(request, "user", 128), _param(request, "model")
    decision, status = _param(request, "decision", 16), _param(request, "status", 3)
    if decision not in (None, *DECISIONS):
        raise ConsoleProblem(400, "error.invalid_input")
    period = date_range(current.services, _param(request, "from", 10), _param(request, "to", 10))
    form = {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "department": department or "",
        "user": user or "",
        "model": model or "",
        "decision": decision or "",
        "status": status or "",
    }
    department_id, user_id = _id_of(names.departments, department), _id_of(names.users, user)
    if (department and department_id is None) or (user and user_id is None):
        return Wanted(form, period, None)  # a name no one has: nothing can match
    where = LedgerFilter(
        period=period,
        department_id=department_id,
        user_id=user_id,
        model=model,
        decision=decision,
        status_code=_status(status),
    )
    return Wanted(form, period, where)


def _trail(request: Request) -> list[str]:
    text = _param(request, "trail", MAX_TRAIL * 200) or ""
    return [c for c in text.split(".") if c][-MAX_TRAIL:]


async def _page(current: Visit, wanted: Wanted, cursor: str | None, limit: int) -> LedgerPage:
    if wanted.where is None:
        return LedgerPage((), None)
    try:
        return await ledger_page(current.services.engine, wanted.where, cursor=cursor, limit=limit)
    except ReportError:
        raise ConsoleProblem(400, "error.invalid_input") from None


def _query(form: dict[str, str]) -> str:
    return urlencode({k: v for k, v in form.items() if v})


def _link(form: dict[str, str], cursor: str | None, trail: list[str]) -> str:
    params = {k: v for k, v in form.items() if v}
    if cursor is not None:
        params["cursor"] = cursor
    if trail:
        params["trail"] = ".".join(trail)
    return urlencode(params)


def local_time(value: datetime, tz: object) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz)  # type: ignore[arg-type]


@router.get("/ledger")
async def ledger_explorer(request: Request) -> Response:
    current = visit(request, "ledger")
    names = await names_of(current.services)
    wanted = wanted_of(request, current, names)
    cursor, trail = _param(request, "cursor", 200), _trail(request)
    page = await _page(current, wanted, cursor, PAGE_ROWS)
    here = [*trail, cursor or FIRST_PAGE][-MAX_TRAIL:]
    previous = None
    if cursor is not None:
        back = trail[-1] if trail else FIRST_PAGE
        previous = _link(wanted.form, None if back == FIRST_PAGE else back, trail[:-1])
    return render(
        request,
        "ledger.html",
        session=current.session,
        page="ledger",
        form=wanted.form,
        period=wanted.period,
        records=page.records,
        names=names,
        limit=PAGE_ROWS,
        decisions=DECISIONS,
        from_micros=from_micros,
        fixed_department=current.staff.scope,
        next_link=None if page.next_cursor is None else _link(wanted.form, page.next_cursor, here),
        previous_link=previous,
        first_link=_link(wanted.form, None, []) if cursor is not None else None,
        export_query=_query(wanted.form),
    )


def rows_csv(records: Iterable[LedgerRecord], names: Names, tz: object, *, header: bool) -> str:
    """The records as CSV (times in the organisation's zone), every text cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(_COLUMNS)
    for r in records:
        cost = "" if r.cost_micro_eur is None else format(from_micros(r.cost_micro_eur), "f")
        writer.writerow(
            [
                safe_cell(r.request_id),
                local_time(r.started_at, tz).isoformat(),
                safe_cell(names.department(r)),
                safe_cell(names.user(r)),
                safe_cell(r.use_case),
                safe_cell(r.model),
                safe_cell(r.deployment),
                r.status_code,
                safe_cell(r.data_class),
                safe_cell(r.policy_decision),
                r.prompt_tokens,
                r.completion_tokens,
                cost,
            ]
        )
    return buffer.getvalue()


@router.get("/ledger.csv")
async def ledger_csv(request: Request) -> Response:
    current = visit(request, "ledger")
    names = await names_of(current.services)
    wanted = wanted_of(request, current, names)
    first = await _page(current, wanted, None, MAX_PAGE)  # a bad filter fails before streaming
    tz = current.services.timezone

    async def chunks() -> AsyncIterator[str]:
        page = first
        yield rows_csv(page.records, names, tz, header=True)
        while page.next_cursor is not None:
            page = await _page(current, wanted, page.next_cursor, MAX_PAGE)
            yield rows_csv(page.records, names, tz, header=False)

    name = f"ledger-{wanted.form['from']}-{wanted.form['to']}.csv"
    return with_security_headers(
        StreamingResponse(
            chunks(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    )
