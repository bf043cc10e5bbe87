"""``hygie departments|users|keys``: managing the organisation tree from a shell."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gateway.cli.audit import ReasonOpt, cli_actor, cli_change, cli_reason
from gateway.cli.common import run_on_database
from gateway.settings import settings_with
from gateway.steps.api_keys import NewKey

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


departments_app = typer.Typer(help="Departments (services, pôles).", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)

T = TypeVar("T")
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]


class _Unchanged(Exception):
    """Nothing to change: the transaction (and its audit entry) is rolled back."""


def _with_engine(database_url: str | None, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from billing.directory import DirectoryError

    settings = settings_with(database_url=database_url)
    return run_on_database(
        settings.database_url, action, migrate=settings.auto_migrate, refused=(DirectoryError,)
    )


@departments_app.command("create")
def department_create(
    name: str,
    display_name: Annotated[str, typer.Option(help="Human-readable name.")] = "",
    default_data_class: Annotated[
        str | None, typer.Option(help="public | internal | personal | health")
    ] = None,
    reason: ReasonOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a department."""
    from billing.directory import changes

    why = cli_reason(reason)
    dept = _with_engine(
        database_url,
        lambda engine: changes.add_department(
            engine,
            cli_actor(),
            name,
            display_name=display_name,
            default_data_class=default_data_class,
            reason=why,
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
    reason: ReasonOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a user in a department."""
    from billing.directory import changes

    why = cli_reason(reason)
    user = _with_engine(
        database_url,
        lambda engine: changes.add_user(
            engine, cli_actor(), username, department=department, role=role, reason=why
        ),
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
    use_case: Annotated[
        str | None,
        typer.Option(help="Registered use of AI (hygie register)."),
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    reason: ReasonOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create an API key and print it once."""
    from billing import directory
    from gateway.steps.key_issuing import issue_key

    why = cli_reason(reason)

    async def create(engine: AsyncEngine) -> NewKey:
        # The key's id is known once it is made: the entry's target is filled in then.
        async with cli_change(engine, "key.create", "", why) as made:
            db = made.connection
            new_user = await directory.find_user(db, user) is None
            key = await issue_key(db, user, department=department, use_case=use_case, name=name)
            owner = await directory.find_key(db, key.key_id)
            made.target = key.key_id
            made.department = owner.department if owner else department
            made.after = {
                "id": key.key_id,
                "display_prefix": key.display_prefix,
                "username": user,
                "name": name,
                "use_case": use_case,
                "created_user": new_user,  # issue_key creates a missing user (and department)
            }
        return key

    key = _with_engine(database_url, create)
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
def key_revoke(key_id: str, reason: ReasonOpt = None, database_url: DatabaseOpt = None) -> None:
    """Revoke a key (other gateway replicas stop accepting it within the key cache TTL)."""
    from billing import directory

    why = cli_reason(reason)

    async def revoke(engine: AsyncEngine) -> None:
        async with cli_change(engine, "key.revoke", key_id, why) as made:
            key = await directory.find_key(made.connection, key_id)
            if key is None or not await directory.revoke_key(made.connection, key_id):
                raise _Unchanged
            revoked = await directory.find_key(made.connection, key_id)
            made.before, made.department = asdict(key), key.department
            made.after = None if revoked is None else asdict(revoked)

    try:
        _with_engine(database_url, revoke)
    except _Unchanged:
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(1) from None
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
