"""``hygie quotas …``: set, list and reconcile budgets and rate limits from a shell."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from billing.money import InvalidAmount, from_micros, to_micros
from billing.periods import PeriodKind
from billing.quotas import FailMode, FailPolicy, Level, NodeLimits, QuotaStoreUnavailable
from billing.quotas.amounts import parse_budget_eur
from gateway.cli.audit import ReasonOpt, cli_change, cli_reason
from gateway.cli.common import migrate_database
from gateway.settings import Settings, settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

quotas_app = typer.Typer(
    help="Budgets and rate limits per node of the hierarchy.", no_args_is_help=True
)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]


def _budget(text: str) -> Decimal:
    """A budget option, bounded as the admin API bounds it."""
    try:
        return parse_budget_eur(text)
    except InvalidAmount as exc:
        raise typer.BadParameter(str(exc), param_hint="--budget-eur") from None


def _limits_dict(limits: NodeLimits, label: str) -> dict[str, object]:
    """A node's limits as the audit trail keeps them."""
    return {"label": label, **asdict(limits)}


def _settings(database_url: str | None) -> Settings:
    return settings_with(database_url=database_url)


async def _on_engine(settings: Settings, action):  # type: ignore[no-untyped-def]
    from billing.db.database import make_engine

    engine = make_engine(settings.database_url)
    try:
        return await action(engine)
    finally:
        await engine.dispose()


@quotas_app.command("set")
def quotas_set(
    level: Annotated[Level, typer.Option(help="organisation | department | use_case | user | key")],
    department: Annotated[str | None, typer.Option()] = None,
    use_case: Annotated[str | None, typer.Option()] = None,
    user: Annotated[str | None, typer.Option(help="Username.")] = None,
    key: Annotated[str | None, typer.Option(help="Key id (key_…).")] = None,
    budget_eur: Annotated[str | None, typer.Option(help="e.g. 1500.00")] = None,
    budget_tokens: Annotated[int | None, typer.Option()] = None,
    period: Annotated[PeriodKind | None, typer.Option(help="day | week | month")] = None,
    rolling_window_s: Annotated[int | None, typer.Option()] = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute.")] = None,
    max_concurrent: Annotated[int | None, typer.Option()] = None,
    budget_fail_mode: Annotated[FailMode, typer.Option()] = FailMode.CLOSED,
    rate_fail_mode: Annotated[FailMode, typer.Option()] = FailMode.OPEN,
    reason: ReasonOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create or replace the limits of one node (running gateways pick them up within seconds)."""
    from billing.limits import repo
    from billing.limits.nodes import UnknownNode, department_of_node, resolve_node

    why = cli_reason(reason)
    settings = _settings(database_url)
    if settings.auto_migrate:
        migrate_database(settings.database_url)

    async def save(engine: AsyncEngine) -> str:
        node = await resolve_node(
            engine, level, department=department, use_case=use_case, username=user, key_id=key
        )
        limits = NodeLimits(
            node_id=node.node_id,
            level=node.level,
            budget_micro_eur=to_micros(_budget(budget_eur)) if budget_eur else None,
            budget_tokens=budget_tokens,
            period=period,
            rolling_window_s=rolling_window_s,
            rpm=rpm,
            tpm=tpm,
            max_concurrent=max_concurrent,
            fail_policy=FailPolicy(
                budget_eur=budget_fail_mode,
                budget_tokens=budget_fail_mode,
                rpm=rate_fail_mode,
                tpm=rate_fail_mode,
                concurrency=rate_fail_mode,
            ),
        )
        owner = await department_of_node(engine, node.node_id)
        after = _limits_dict(limits, node.label)
        async with cli_change(
            engine, "quota.set", node.node_id, why, after=after, department=owner
        ) as made:
            previous = await repo.get_limits(made.connection, node.node_id)
            if previous is not None:
                made.before = _limits_dict(previous.limits, previous.label)
            await repo.save_limits(made.connection, limits, label=node.label)
        return node.label

    try:
        label = asyncio.run(_on_engine(settings, save))
    except (UnknownNode, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"limits of {label} saved")


@quotas_app.command("list")
def quotas_list(database_url: DatabaseOpt = None) -> None:
    """Every node with limits."""
    from billing.limits import repo

    stored = asyncio.run(_on_engine(_settings(database_url), repo.all_limits))
    for node_id, entry in sorted(stored.items()):
        limits = entry.limits
        budget = f"{from_micros(limits.budget_micro_eur)} EUR" if limits.budget_micro_eur else "-"
        typer.echo(
            f"{node_id}\t{entry.label}\tbudget {budget}/{limits.period or '-'}\t"
            f"tokens {limits.budget_tokens or '-'}\trpm {limits.rpm or '-'}\t"
            f"tpm {limits.tpm or '-'}\tconcurrent {limits.max_concurrent or '-'}"
        )


@quotas_app.command("delete")
def quotas_delete(node_id: str, reason: ReasonOpt = None, database_url: DatabaseOpt = None) -> None:
    """Remove the limits of a node (by node id, as `hygie quotas list` shows it)."""
    from billing.limits import repo
    from billing.limits.nodes import department_of_node

    why = cli_reason(reason)

    async def remove(engine: AsyncEngine) -> bool:
        department = await department_of_node(engine, node_id)
        try:
            async with cli_change(
                engine, "quota.delete", node_id, why, department=department
            ) as made:
                previous = await repo.get_limits(made.connection, node_id)
                if previous is None or not await repo.delete_limits(made.connection, node_id):
                    raise LookupError(node_id)  # nothing deleted: no entry either
                made.before = _limits_dict(previous.limits, previous.label)
        except LookupError:
            return False
        return True

    if not asyncio.run(_on_engine(_settings(database_url), remove)):
        typer.echo(f"error: no limits on {node_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"limits of {node_id} deleted")


@quotas_app.command("reconcile")
def quotas_reconcile(database_url: DatabaseOpt = None) -> None:
    """Compare the shared counters (Redis) with the ledger; exit 1 on drift.

    In-process counters live inside the gateway: ask it with GET /admin/quotas/reconcile.
    """
    from billing.ledger.reconcile import reconcile
    from billing.limits import repo
    from gateway.services import quota_store

    settings = _settings(database_url)
    if settings.redis_url is None:
        typer.echo("counters are in-process (no HYGIE_REDIS_URL): use GET /admin/quotas/reconcile")
        raise typer.Exit(2)
    tz = ZoneInfo(settings.org_timezone)

    async def compare(engine: AsyncEngine):  # type: ignore[no-untyped-def]
        store, client = quota_store(settings, tz)
        try:
            return await reconcile(
                engine, store, await repo.all_limits(engine), tz, datetime.now(UTC)
            )
        finally:
            if client is not None:
                await client.aclose()

    try:
        drifts = asyncio.run(_on_engine(settings, compare))
    except QuotaStoreUnavailable:
        typer.echo("error: Redis is unreachable", err=True)
        raise typer.Exit(2) from None
    for d in drifts:
        state = "ok" if d.in_sync else f"DRIFT {d.drift_micro_eur} µEUR, {d.drift_tokens} tokens"
        typer.echo(f"{d.label}\t{d.period}\tledger {d.ledger_micro_eur} µEUR\t{state}")
    if not all(d.in_sync for d in drifts):
        raise typer.Exit(1)
