"""``hygie keys front-end``: trusting a key's chat front-end to name its users."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.audit import ReasonOpt, cli_change, cli_reason
from gateway.settings import settings_with


def front_end(
    key_id: str,
    mode: Annotated[str, typer.Option(help="token | signed | headers | none (a plain key again).")],
    secret_file: Annotated[
        Path | None,
        typer.Option(help="File holding the signing secret (never on the command line)."),
    ] = None,
    required: Annotated[
        bool, typer.Option("--required", help="Refuse requests that name no valid user.")
    ] = False,
    reason: ReasonOpt = None,
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
) -> None:
    """Mark an API key as a trusted chat front-end (see README, Single sign-on)."""
    # Imported here: every other command starts without the database and crypto libraries.
    from billing import directory
    from billing.db.database import make_engine
    from billing.directory import DirectoryError
    from gateway.identity.assembly import secret_box

    why = cli_reason(reason)
    settings = settings_with(database_url=database_url)
    chosen = None if mode == "none" else mode
    sealed = None
    if secret_file is not None:
        secret = secret_file.read_text(encoding="utf-8").strip()
        box = secret_box(settings.identity_config())
        if len(secret) < 32 or box is None:
            typer.echo(
                f"error: {secret_file} must hold 32 characters or more, and "
                "identity.front_end_secret_key must be set",
                err=True,
            )
            raise typer.Exit(2)
        sealed = box.seal(secret)

    # The secret is never in the trail: only whether one was set.
    after = {"front_end": chosen, "required": required, "secret_set": sealed is not None}

    async def run() -> bool:
        engine = make_engine(settings.database_url)
        try:
            async with cli_change(engine, "key.front_end", key_id, why, after=after) as made:
                key = await directory.find_key(made.connection, key_id)
                if key is None or not await directory.set_front_end(
                    made.connection, key_id, mode=chosen, encrypted_secret=sealed, required=required
                ):
                    raise LookupError(key_id)  # nothing changed: no entry either
                made.department = key.department
            return True
        except LookupError:
            return False
        finally:
            await engine.dispose()

    try:
        changed = asyncio.run(run())
    except DirectoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not changed:
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id}: front-end {chosen or 'off'}{' (required)' if required else ''}")
