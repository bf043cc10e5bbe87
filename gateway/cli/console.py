"""``hygie console link --user NAME``: a single-use sign-in link to the console."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from gateway.console.links import link_key, make_token
from gateway.settings import Settings, settings_with

console_app = typer.Typer(help="The web console.", no_args_is_help=True)


def console_address(settings: Settings) -> str:
    """Where staff open the console: the public address if set, else this gateway's."""
    if settings.console_public_url:
        return settings.console_public_url.rstrip("/") + "/console"
    return f"http://{settings.host}:{settings.port}{settings.root_path}/console"


def sign_in_link(settings: Settings, username: str, ttl_s: int | None = None) -> str:
    """A single-use link signing ``username`` in; raises ``ValueError`` without a secret."""
    key = link_key(
        settings.console_secret.get_secret_value() if settings.console_secret else None,
        settings.admin_token.get_secret_value() if settings.admin_token else None,
    )
    if key is None:
        raise ValueError("set HYGIE_CONSOLE_SECRET (or HYGIE_ADMIN_TOKEN) to sign links")
    token = make_token(key, username, ttl_s or settings.console_link_ttl_s)
    return f"{console_address(settings)}/sign-in/link?token={token}"


async def _user_exists(database_url: str, username: str) -> bool:
    from billing import directory
    from billing.db.database import make_engine

    engine = make_engine(database_url)
    try:
        return await directory.find_user(engine, username) is not None
    finally:
        await engine.dispose()


@console_app.command("link")
def link(
    user: Annotated[str, typer.Option("--user", help="The user to sign in (their username).")],
    ttl: Annotated[
        int | None, typer.Option(help="Seconds the link stays valid (default 300).", min=30)
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL."),
    ] = None,
) -> None:
    """Print a single-use sign-in link for USER; their role is read when it is used."""
    settings = settings_with(database_url=database_url)
    if not asyncio.run(_user_exists(settings.database_url, user)):
        typer.echo(f"error: no user {user!r}", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(sign_in_link(settings, user, min(ttl, 3600) if ttl else None))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
