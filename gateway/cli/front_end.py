"""``hygie keys front-end``: trusting a key's chat front-end to name its users."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

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
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
) -> None:
    """Mark an API key as a trusted chat front-end (see README, Single sign-on)."""
    # Imported here: every other command starts without the database and crypto libraries.
    from billing import directory
    from billing.db.database import make_engine
    from billing.directory import DirectoryError
    from gateway.identity.assembly import secret_box

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

    async def run() -> bool:
        engine = make_engine(settings.database_url)
        try:
            return await directory.set_front_end(
                engine, key_id, mode=chosen, encrypted_secret=sealed, required=required
            )
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
