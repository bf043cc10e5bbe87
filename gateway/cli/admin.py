"""``hygie departments|users|keys``: managing the organisation tree from a shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gateway.cli.common import migrate_database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

departments_app = typer.Typer(help="Departments (services, pôles).", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)

T = TypeVar("T")
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]


def _with_engine(database_url: str | None, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``action`` on the ledger database (migrated first when auto-migrate is on)."""
    from billing.db.database import make_engine
    from billing.directory import DirectoryError
    from gateway.settings import settings_with

    settings = settings_with(database_url=database_url)
    if settings.auto_migrate:
        migrate_database(settings.database_url)

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DirectoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@departments_app.command("create")
def department_create(
    name: str,
    display_name: Annotated[str, typer.Option(help="Human-readable name.")] = "",
    default_data_class: Annotated[
        str | None, typer.Option(help="public | internal | personal | health")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a department."""
    from billing import directory

    dept = _with_engine(
        database_url,
        lambda e: directory.create_department(
            e, name, display_name=display_name, default_data_class=default_data_class
        ),
    )
    typer.echo(f"department {dept.name} created (id {dept.id})")


@departments_app.command("list")
def department_list(database_url: DatabaseOpt = None) -> None:
    """List departments."""
    from billing import directory

    for dept in _with_engine(database_url, directory.list_departments):
        typer.echo(f"{dept.id}\t{dept.name}\t{dept.display_name}\t{dept.default_data_class or '-'}")


@users_app.command("create")
def user_create(
    username: str,
    department: Annotated[str, typer.Option(help="Department name.")],
    role: Annotated[
        str, typer.Option(help="member | department_admin | finance | admin")
    ] = "member",
    database_url: DatabaseOpt = None,
) -> None:
    """Create a user in a department."""
    from billing import directory

    user = _with_engine(
        database_url, lambda e: directory.create_user(e, username, department=department, role=role)
    )
    typer.echo(f"user {user.username} created (id {user.id})")


@users_app.command("list")
def user_list(database_url: DatabaseOpt = None) -> None:
    """List users."""
    from billing import directory

    for user in _with_engine(database_url, directory.list_users):
        typer.echo(f"{user.id}\t{user.username}\t{user.role}\tdepartment {user.department_id}")


@keys_app.command("create")
def key_create(
    user: Annotated[str, typer.Option(help="Owner's username.")],
    department: Annotated[
        str | None, typer.Option(help="Create the user (and department) if missing.")
    ] = None,
    use_case: Annotated[str | None, typer.Option(help="Use-case / project tag.")] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    database_url: DatabaseOpt = None,
) -> None:
    """Create an API key and print it once."""
    from gateway.steps.key_issuing import issue_key

    key = _with_engine(
        database_url,
        lambda e: issue_key(e, user, department=department, use_case=use_case, name=name),
    )
    typer.echo(f"key {key.key_id} created for {user}. It will not be shown again:")
    typer.echo(key.secret)


@keys_app.command("list")
def key_list(
    department: Annotated[str | None, typer.Option(help="Only this department.")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """List keys (prefixes only, never secrets)."""
    from billing import directory

    keys = _with_engine(database_url, lambda e: directory.list_keys(e, department=department))
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(
            f"{key.id}\t{key.display_prefix}…\t{key.username}\t{key.department}\t"
            f"{key.use_case or '-'}\t{state}"
        )


@keys_app.command("revoke")
def key_revoke(key_id: str, database_url: DatabaseOpt = None) -> None:
    """Revoke a key (other gateway replicas stop accepting it within the key cache TTL)."""
    from billing import directory

    if not _with_engine(database_url, lambda e: directory.revoke_key(e, key_id)):
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id} revoked")


teams_app = typer.Typer(
    help="Teams and use cases: the tags carried by API keys, per department.",
    no_args_is_help=True,
)


@teams_app.command("list")
def team_list(
    department: Annotated[str | None, typer.Option(help="Only this department.")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Each department's teams / use cases (from its keys' tags) and their active keys."""
    from billing import directory

    keys = _with_engine(database_url, lambda e: directory.list_keys(e, department=department))
    counts: dict[tuple[str, str], int] = {}
    for key in keys:
        if key.use_case and key.revoked_at is None:
            counts[(key.department, key.use_case)] = (
                counts.get((key.department, key.use_case), 0) + 1
            )
    for (dept, use_case), active in sorted(counts.items()):
        typer.echo(f"{dept}\t{use_case}\t{active} active key(s)")
