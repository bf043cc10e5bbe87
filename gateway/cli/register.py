"""``hygie register``: the register of AI uses, model cards and approvals, the patient page;
and ``hygie report inventory``. The same records as the admin API, from a shell.

Changes made here reach running gateways within their refresh interval
(``HYGIE_GOVERNANCE_REFRESH_S``).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from billing.reports.date_range import DateRange, ReportError
from gateway.cli.audit import cli_change
from gateway.cli.common import run_on_database
from gateway.settings import Settings, settings_with
from policies.governance.register import (
    DATA_CLASSES,
    AiActCategory,
    ApprovalStatus,
    DpiaStatus,
    Lifecycle,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from billing.directory.use_cases import UseCase
    from gateway.catalog import Catalog

register_app = typer.Typer(
    help="The register of AI uses, model cards and approvals, the patient page.",
    no_args_is_help=True,
)
T = TypeVar("T")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Models YAML. Env: HYGIE_CONFIG.")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]
ReasonOpt = Annotated[str, typer.Option(help="Why (kept with the decision).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who decides (default: your login).")]


def _settings(config: Path | None = None, database_url: str | None = None) -> Settings:
    return settings_with(config=config, database_url=database_url)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _run(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from billing.directory import DirectoryError

    return run_on_database(
        settings.database_url,
        action,
        migrate=settings.auto_migrate,
        refused=(DirectoryError, ReportError),
    )


def _catalog(settings: Settings) -> Catalog:
    from gateway.catalog import ConfigError, load_catalog

    if settings.config is None:
        _fail("this command needs the configuration: pass --config or set HYGIE_CONFIG", 2)
    try:
        return load_catalog(settings.config)
    except ConfigError as exc:
        _fail(str(exc), 2)


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@register_app.command("list")
def list_register(database_url: DatabaseOpt = None) -> None:
    """The whole register, as JSON."""
    from billing.directory.use_cases import list_use_cases

    found = _run(_settings(database_url=database_url), list_use_cases)
    _print([u.as_dict() for u in found])


@register_app.command("add")
def add(
    name: str,
    purpose: Annotated[str, typer.Option(help="What it is for, in plain words.")],
    status: Annotated[Lifecycle, typer.Option()] = Lifecycle.PROPOSED,
    department: Annotated[str | None, typer.Option(help="Owning department.")] = None,
    responsible: Annotated[str, typer.Option(help="The person who answers for it.")] = "",
    population: Annotated[str, typer.Option(help="Users and patients concerned.")] = "",
    legal_basis: Annotated[str, typer.Option(help="GDPR legal basis.")] = "",
    data_class: Annotated[
        list[str] | None, typer.Option(help=f"Data it may process: {', '.join(DATA_CLASSES)}.")
    ] = None,
    dpia_status: Annotated[DpiaStatus, typer.Option()] = DpiaStatus.NOT_STARTED,
    dpia_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    ai_act_category: Annotated[AiActCategory, typer.Option()] = AiActCategory.UNASSESSED,
    ai_act_reason: Annotated[str, typer.Option()] = "",
    model: Annotated[
        list[str] | None, typer.Option(help="A model it may use (repeat); none: any approved.")
    ] = None,
    documentation_url: Annotated[str | None, typer.Option()] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Register a use of AI."""
    from billing.directory.use_cases import UseCase, register_use_case

    classes = tuple(dict.fromkeys(data_class or ()))
    unknown = [c for c in classes if c not in DATA_CLASSES]
    if unknown:
        _fail(f"unknown data class {unknown[0]!r}; choose among {', '.join(DATA_CLASSES)}", 2)
    try:
        dpia = date.fromisoformat(dpia_date) if dpia_date else None
    except ValueError:
        _fail("--dpia-date is YYYY-MM-DD", 2)
    record = UseCase(
        name=name,
        purpose=purpose,
        department=department,
        responsible=responsible,
        population=population,
        legal_basis=legal_basis,
        data_classes=classes,
        dpia_status=dpia_status,
        dpia_date=dpia,
        ai_act_category=ai_act_category,
        ai_act_reason=ai_act_reason,
        status=status,
        allowed_models=tuple(dict.fromkeys(model)) if model else None,
        documentation_url=documentation_url,
    )

    async def create(engine: AsyncEngine) -> UseCase:
        async with cli_change(engine, "use_case.create", name, None) as made:
            stored = await register_use_case(made.connection, record)
            made.after, made.department = stored.as_dict(), stored.department
        return stored

    stored = _run(_settings(database_url=database_url), create)
    typer.echo(f"use case {stored.name} registered ({stored.status.value})")


@register_app.command("status")
def status(name: str, new_status: Lifecycle, database_url: DatabaseOpt = None) -> None:
    """Move a use case along its lifecycle (dated today)."""
    from billing.directory import DirectoryError
    from billing.directory.use_cases import find_use_case, update_use_case

    async def move(engine: AsyncEngine) -> UseCase:
        current = await find_use_case(engine, name)
        if current is None:
            raise DirectoryError(f"use case {name!r} is not registered")
        before, after = {"status": str(current.status)}, {"status": str(new_status)}
        async with cli_change(
            engine, "use_case.status", name, None, before=before, after=after
        ) as made:
            stored = await update_use_case(made.connection, replace(current, status=new_status))
        return stored

    stored = _run(_settings(database_url=database_url), move)
    typer.echo(f"use case {stored.name} is now {stored.status.value}")


@register_app.command("models")
def models(config: ConfigOpt = None, database_url: DatabaseOpt = None) -> None:
    """Model cards with their effective approval, as JSON."""
    from gateway.register import model_cards

    settings = _settings(config, database_url)
    catalog = _catalog(settings)
    _print(_run(settings, lambda e: model_cards(e, catalog)))


def _decide(
    model: str,
    step: ApprovalStatus,
    reason: str,
    by: str | None,
    config: Path | None,
    url: str | None,
) -> None:
    from billing.directory import models as approvals

    settings = _settings(config, url)
    if _catalog(settings).model(model) is None:
        _fail(f"no model {model!r} in the catalogue")
    actor = by or getpass.getuser()

    async def decide(engine: AsyncEngine) -> None:
        async with cli_change(engine, f"model.{step.value}", model, None) as made:
            done = await approvals.record_step(
                made.connection, model, step, actor=actor, reason=reason
            )
            made.after = done.as_dict()

    _run(settings, decide)
    typer.echo(f"model {model}: {step.value} by {actor}")


@register_app.command("request-approval")
def request_approval(
    model: str,
    reason: ReasonOpt = "",
    by: ByOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Ask for a model's approval; it is not routable until approved."""
    _decide(model, ApprovalStatus.REQUESTED, reason, by, config, database_url)


@register_app.command("approve")
def approve(
    model: str,
    reason: ReasonOpt = "",
    by: ByOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    _decide(model, ApprovalStatus.APPROVED, reason, by, config, database_url)


@register_app.command("reject")
def reject(
    model: str,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    by: ByOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    _decide(model, ApprovalStatus.REJECTED, reason, by, config, database_url)


@register_app.command("page")
def page(
    publish: Annotated[bool, typer.Option(help="Publish it (else print the draft).")] = False,
    by: ByOpt = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """The patient page: print the draft, or publish it (served at /public/ai-uses)."""
    from billing.directory.public_pages import publish_page
    from gateway.register import draft_patient_page

    settings = _settings(config, database_url)
    catalog = _catalog(settings)

    async def draft(engine: AsyncEngine) -> str:
        html = await draft_patient_page(engine, catalog, settings)
        if publish:
            after = {"chars": len(html)}
            target = "/public/ai-uses"
            async with cli_change(
                engine, "patient_page.publish", target, None, after=after
            ) as made:
                await publish_page(made.connection, html, by=by or getpass.getuser())
        return html

    html = _run(settings, draft)
    if publish:
        typer.echo("patient page published", err=True)
    else:
        typer.echo(html, nl=False)


def inventory(
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (included).")] = None,
    output_format: Annotated[
        Literal["json", "csv", "html"], typer.Option("--format", help="json, csv or html.")
    ] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """The live inventory of AI uses over a period (default: this month)."""
    from billing.reports.inventory import build_inventory, inventory_csv, inventory_html
    from gateway.register import hosting_classes

    settings = _settings(config, database_url)
    hosting = hosting_classes(_catalog(settings)) if settings.config else {}
    try:
        period = DateRange.parse(
            start, end, tz=ZoneInfo(settings.org_timezone), now=datetime.now(UTC)
        )
    except ReportError as exc:
        _fail(str(exc), 2)
    report = _run(
        settings, lambda e: build_inventory(e, period.start, period.end, hosting_of=hosting)
    )
    if output_format == "csv":
        text = inventory_csv(report)
    elif output_format == "html":
        text = inventory_html(report)
    else:
        text = json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"written to {output}", err=True)
