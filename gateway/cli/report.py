"""``hygie report usage|top|focus|chargeback|close|correct``: the ``/admin/reports`` routes
from a shell.

Reads the ledger at ``--database-url`` (env ``HYGIE_DATABASE_URL``) and the configuration at
``--config`` (env ``HYGIE_CONFIG``), whose ``cost:`` section prices the FOCUS export and the
statements. Output goes to stdout, or to ``--output``. A month that is not closed is reported
as provisional (a warning on stderr, and in the document itself); an unknown department or a
month that has not started is an error (exit code 1), never an empty statement.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from billing.money import InvalidAmount, from_micros, parse_amount
from billing.periods import Period, PeriodKind, period_containing
from billing.pricing.costing import Costing
from billing.reports.chargeback import render_csv
from billing.reports.date_range import DateRange, ReportError
from billing.reports.focus import FocusAccount, focus_csv
from billing.reports.statement_html import render_html
from billing.reports.statement_locale import LANGS
from billing.reports.statement_pdf import PdfUnavailable, html_to_pdf
from gateway.cli.audit import ReasonOpt, cli_change, cli_reason
from gateway.cli.register import inventory as register_inventory
from gateway.settings import Settings, settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from billing.closing.corrections import Correction
    from billing.reports.ledger_charges import MonthCharges
    from gateway.catalog import Catalog


# billing.reports.report.Dimension's values, spelled here so that `hygie --help` need not import
# the report queries (a test keeps the two equal).
GROUP_BY_CHOICES = "department,use_case,user,model,provider,deployment,hosting_class,day,month"

report_app = typer.Typer(
    help="Usage and cost reports, FOCUS export, chargeback statements.", no_args_is_help=True
)
report_app.command("inventory")(register_inventory)

T = TypeVar("T")
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration YAML. Env: HYGIE_CONFIG.")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")]
DepartmentOpt = Annotated[str | None, typer.Option(help="Only this department.")]
MonthOpt = Annotated[str | None, typer.Option(help="YYYY-MM (default: the current month).")]
BudgetOpt = Annotated[str | None, typer.Option(help="Budget in EUR, e.g. 1500.00.")]


def _settings(config: Path | None, database_url: str | None) -> Settings:
    return settings_with(config=config, database_url=database_url)


def load_costing(path: Path, tz: ZoneInfo) -> tuple[Catalog, Costing]:
    """The catalog of ``path`` and its cost model, built exactly as the gateway builds it."""
    from gateway.catalog import load_catalog
    from gateway.steps.pricing import build_request_costing

    catalog = load_catalog(path)
    return catalog, build_request_costing(catalog, tz)


def _run(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from billing.db.database import make_engine
    from billing.reports.ledger_charges import LedgerChargesError
    from billing.reports.report import UnknownDepartment

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (ReportError, LedgerChargesError, UnknownDepartment) as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _costing(settings: Settings, *, required: bool) -> Costing | None:
    from gateway.catalog import ConfigError

    if settings.config is None:
        if required:
            _fail("this report needs the configuration: pass --config or set HYGIE_CONFIG", 2)
        return None
    try:
        _, costing = load_costing(settings.config, ZoneInfo(settings.org_timezone))
    except ConfigError as exc:
        _fail(str(exc), 2)
    return costing


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"written to {output}", err=True)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _budget(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value)
    except InvalidAmount as exc:
        _fail(str(exc), 2)


def _month(text: str | None, tz: ZoneInfo) -> Period:
    from billing.reports.ledger_charges import LedgerChargesError, parse_month

    if text is None:
        return period_containing(PeriodKind.MONTH, datetime.now(UTC), tz)
    try:
        return parse_month(text, tz)
    except LedgerChargesError as exc:
        _fail(str(exc), 2)


@report_app.command("usage")
def usage(
    group_by: Annotated[str, typer.Option(help="Comma-separated: " + GROUP_BY_CHOICES)] = "",
    first: FromOpt = None,
    last: ToOpt = None,
    department: DepartmentOpt = None,
    budget: BudgetOpt = None,
    format: Annotated[str, typer.Option(help="json | csv")] = "json",
    lang: Annotated[
        str | None, typer.Option(help="CSV for a spreadsheet: fr (; and 0,5) or en; BOM")
    ] = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    output: OutputOpt = None,
) -> None:
    """Requests, tokens, cost and active users per bucket, with totals and a forecast."""
    from billing.reports.report import parse_group_by, usage_report
    from billing.reports.usage_csv import usage_csv

    if lang is not None and lang not in LANGS:
        _fail(f"--lang is one of {', '.join(LANGS)}", 2)
    settings = _settings(config, database_url)
    tz = ZoneInfo(settings.org_timezone)
    costing = _costing(settings, required=False)
    try:
        dims = parse_group_by(group_by)
        period = DateRange.parse(first, last, tz=tz, now=datetime.now(UTC))
    except ReportError as exc:
        _fail(str(exc), 2)
    report = _run(
        settings,
        lambda engine: usage_report(
            engine,
            period=period,
            group_by=dims,
            department=department,
            deployments=costing.deployment_view() if costing else None,
            budget=_budget(budget),
        ),
    )
    _emit(usage_csv(report, lang) if format == "csv" else _json(report.as_dict()), output)


@report_app.command("top")
def top(
    by: Annotated[str, typer.Option(help="user | use_case | department | model")] = "user",
    limit: Annotated[int, typer.Option(min=1)] = 10,
    first: FromOpt = None,
    last: ToOpt = None,
    department: DepartmentOpt = None,
    database_url: DatabaseOpt = None,
    output: OutputOpt = None,
) -> None:
    """The users (or use cases...) that cost most in the period."""
    from billing.reports.report import Dimension, top_consumers

    settings = _settings(None, database_url)
    tz = ZoneInfo(settings.org_timezone)
    try:
        dimension = Dimension(by)
        period = DateRange.parse(first, last, tz=tz, now=datetime.now(UTC))
    except (ValueError, ReportError) as exc:
        _fail(str(exc), 2)
    ranked = _run(
        settings,
        lambda engine: top_consumers(
            engine, period=period, by=dimension, limit=limit, department=department
        ),
    )
    _emit(_json([{**b.key, **b.figures.as_dict()} for b in ranked]), output)


def _costed_month(
    month: str | None, config: Path | None, database_url: str | None
) -> tuple[Settings, Costing, Period]:
    """The settings, the cost model (required) and ``month`` (default: the current one)."""
    settings = _settings(config, database_url)
    costing = _costing(settings, required=True)
    assert costing is not None
    return settings, costing, _month(month, costing.tz)


def _month_charges(
    month: str | None, config: Path | None, database_url: str | None
) -> tuple[FocusAccount, MonthCharges]:
    """The charges of ``month`` (default: the current one): stored when closed, else
    provisional, which is said on stderr."""
    from billing.closing.closed_months import month_report
    from billing.reports.ledger_charges import MonthStatus

    settings, costing, period = _costed_month(month, config, database_url)
    charges, account = _run(
        settings, lambda engine: month_report(engine, costing, period, now=datetime.now(UTC))
    )
    if charges.late_ledger_micros:
        typer.echo(
            f"NOTE: {from_micros(charges.late_ledger_micros)} EUR of {period.key} requests were "
            "recorded after the close; they are not on these figures (book a correction).",
            err=True,
        )
    if charges.status is MonthStatus.PROVISIONAL:
        typer.echo(
            f"PROVISIONAL: {period.key} is not closed; these figures may still change "
            f"(close it with `hygie report close --month {period.key}`).",
            err=True,
        )
    return account, charges


@report_app.command("focus")
def focus(
    month: MonthOpt = None,
    department: DepartmentOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    output: OutputOpt = None,
) -> None:
    """The month's charges as a FOCUS 1.2 CSV (``x_ChargeStatus``: closed or provisional)."""
    account, charges = _month_charges(month, config, database_url)
    if department is not None and not charges.knows(department):
        _fail(f"no department {department!r}")
    lines = charges.lines if department is None else charges.lines_for(department)
    _emit(focus_csv(lines, account, charges.status), output)


@report_app.command("chargeback")
def chargeback(
    department: Annotated[str, typer.Option(help="Department name.")],
    month: MonthOpt = None,
    budget: BudgetOpt = None,
    format: Annotated[str, typer.Option(help="csv | html | json | pdf (needs -o)")] = "csv",
    lang: Annotated[str, typer.Option(help="fr | en (words, numbers, CSV separator)")] = "fr",
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    output: OutputOpt = None,
) -> None:
    """One department's chargeback statement for a month."""
    from billing import audit
    from gateway.api.reports import statement_as_dict

    if lang not in LANGS:
        _fail(f"--lang is one of {', '.join(LANGS)}", 2)
    _, charges = _month_charges(month, config, database_url)
    if not charges.knows(department):
        _fail(f"no department {department!r}")
    statement = charges.statement(department, budget=_budget(budget))
    if format == "pdf":
        if output is None:
            _fail("a PDF is written to a file: pass --output releve.pdf", 2)
        try:
            output.write_bytes(html_to_pdf(render_html(statement, lang)))
        except PdfUnavailable as exc:
            _fail(str(exc))
        typer.echo(f"written to {output}", err=True)
    elif format == "html":
        _emit(render_html(statement, lang), output)
    elif format == "json":
        # The trail's head at closing, so a later rewrite of the trail shows against this copy.
        anchor = _run(
            _settings(config, database_url), lambda e: audit.month_anchor(e, charges.period.key)
        )
        head = {"audit_chain_head": None if anchor is None else str(anchor)}
        _emit(_json(statement_as_dict(statement) | head), output)
    else:
        _emit(render_csv(statement, lang), output)


@report_app.command("close")
def close(
    month: Annotated[str, typer.Option(help="YYYY-MM, a month that is over.")],
    by: Annotated[str, typer.Option(help="Who closes it (kept with the figures).")] = "",
    reason: ReasonOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Close a month: freeze its true-up, statements and FOCUS rows as they are now."""
    from billing.closing.closed_months import close_month
    from gateway.api.reports import close_summary

    why = cli_reason(reason)
    settings, costing, period = _costed_month(month, config, database_url)

    async def close_and_anchor(engine: AsyncEngine) -> dict[str, Any]:
        async with cli_change(engine, "month.close", period.key, why) as made:
            charges = await close_month(
                engine, costing, period, now=datetime.now(UTC), closed_by=by, into=made.connection
            )
            summary = close_summary(charges)
            made.after = summary | {"closed_by": by}
            # The trail's head goes with the month's figures (see `hygie audit verify`).
            made.anchor_month = period.key
        assert made.entry is not None
        return summary | {"audit_chain_head": f"{made.entry.seq}:{made.entry.hash}"}

    _emit(_json(_run(settings, close_and_anchor)), None)


@report_app.command("correct")
def correct(
    month: Annotated[str, typer.Option(help="The closed month being corrected, YYYY-MM.")],
    department: Annotated[str, typer.Option(help="Department name.")],
    amount: Annotated[str, typer.Option(help="EUR to add (negative to refund), e.g. -12.40.")],
    reason: Annotated[str, typer.Option(help="Why (printed on the statement).")],
    by: Annotated[str, typer.Option(help="Who books it.")] = "",
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Book a correction of a closed month, as a dated line of the month open now."""
    from billing.closing.corrections import book_correction

    settings, costing, period = _costed_month(month, config, database_url)
    value = _budget(amount)
    assert value is not None
    why = reason if len(reason) <= 500 and reason.isprintable() else None  # also in `after`

    async def book(engine: AsyncEngine) -> Correction:
        async with cli_change(
            engine, "month.correct", period.key, why, department=department
        ) as made:
            booked = await book_correction(
                made.connection,
                corrects=period,
                department=department,
                amount=value,
                reason=reason,
                now=datetime.now(UTC),
                tz=costing.tz,
                created_by=by,
            )
            made.after = asdict(booked)
        return booked

    booked = _run(settings, book)
    typer.echo(
        f"correction of {booked.corrects_month} booked in {booked.booked_month}: "
        f"{booked.department} {booked.amount} EUR"
    )


@report_app.command("rebuild-rollups")
def rebuild_rollups_command(database_url: DatabaseOpt = None) -> None:
    """Recompute the daily rollups the reports read from the ledger, in the organisation's
    time zone (idempotent; ledger writes wait meanwhile). The gateway does it by itself at
    start when needed; run it after changing HYGIE_ORG_TIMEZONE without a restart."""
    from billing.ledger.rollups import rebuild_rollups

    settings = _settings(None, database_url)
    tz = ZoneInfo(settings.org_timezone)
    rebuilt = _run(settings, lambda engine: rebuild_rollups(engine, tz))
    typer.echo(
        f"rollups rebuilt in {rebuilt.zone}: {rebuilt.rows} rows for {rebuilt.days} days, "
        f"{rebuilt.requests} requests"
    )
