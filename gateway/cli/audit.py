"""``hygie audit verify|list``: checking and reading the trail; who the CLI acts as.

Every command that changes something appends an entry as ``cli:<os user>`` (role
``operator``), with the ``--reason`` given.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.settings import settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from billing.audit import Actor, AuditEntry, ChainHead, Change, Verification

audit_app = typer.Typer(
    help="The tamper-evident audit trail of admin changes.", no_args_is_help=True
)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why this change is made (kept in the audit trail).")
]


def cli_actor() -> Actor:
    """The operating-system account that runs the command."""
    from billing.audit import Actor

    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        name = "unknown"
    return Actor(f"cli:{name}", "operator")


def cli_change(
    engine: AsyncEngine, action: str, target: str, reason: str | None, **details: Any
) -> AbstractAsyncContextManager[Change]:
    """A change made from the CLI and its audit entry, in one transaction (``details``:
    ``before``, ``after``, ``department``; see :func:`billing.audit.audited_change`)."""
    from billing.audit import audited_change

    return audited_change(engine, cli_actor(), action, target, reason=reason, **details)


def cli_reason(reason: str | None) -> str | None:
    """The ``--reason`` as stored; a usage error (before any change) when it cannot be."""
    from billing import audit
    from billing.audit import InvalidReason

    try:
        return audit.clean_reason(reason)
    except InvalidReason as exc:
        raise typer.BadParameter(str(exc), param_hint="--reason") from None


async def _verify(database_url: str, copy: ChainHead | None) -> Verification:
    from billing import audit
    from billing.db.database import make_engine

    engine = make_engine(database_url)
    try:
        return await audit.verify_chain(engine, copy=copy)
    finally:
        await engine.dispose()


@audit_app.command("verify")
def verify(
    head: Annotated[
        str | None,
        typer.Option(help="A head copied from a report, <seq>:<hash>: check it is in the trail."),
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Check every entry of the trail; exit 1 and name the first broken link if one is."""
    from billing import audit

    try:
        copy = None if head is None else audit.parse_head(head)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--head") from None
    settings = settings_with(database_url=database_url)
    result = asyncio.run(_verify(settings.database_url, copy))
    if result.broken is not None:
        typer.echo(f"BROKEN at {result.broken} ({result.checked} entries hold before it)", err=True)
        raise typer.Exit(1)
    checked = f", and the copy {head} is in it" if head else ""
    typer.echo(f"ok: {result.checked} entries, head {result.head}{checked}")


async def _list(
    database_url: str, since: datetime | None, actor: str | None, action: str | None, limit: int
) -> list[AuditEntry]:
    from billing import audit
    from billing.db.database import make_engine

    engine = make_engine(database_url)
    try:
        return await audit.list_entries(
            engine, since=since, actor=actor, action=action, limit=limit
        )
    finally:
        await engine.dispose()


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("an ISO 8601 date or instant", param_hint="--since") from None
    if since.tzinfo is None:
        raise typer.BadParameter("give a time zone, e.g. 2026-12-01T00:00Z", param_hint="--since")
    return since


@audit_app.command("list")
def list_entries(
    since: Annotated[
        str | None, typer.Option(help="From this instant (ISO 8601, with zone).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor (e.g. cli:root).")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, or a family: key.* ")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Entries of the trail, newest first."""
    settings = settings_with(database_url=database_url)
    entries = asyncio.run(_list(settings.database_url, _since(since), actor, action, limit))
    for entry in entries:
        if as_json:
            typer.echo(json.dumps(entry.as_dict(), ensure_ascii=False))
        else:
            why = f"\t{entry.reason}" if entry.reason else ""
            typer.echo(
                f"{entry.seq}\t{entry.at:%Y-%m-%d %H:%M:%S}Z\t{entry.actor}\t{entry.action}\t"
                f"{entry.target}{why}"
            )
