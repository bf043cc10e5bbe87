"""The ``hygie`` command. Every option also reads its ``HYGIE_*`` environment twin (Settings).

Start-up time matters here (``hygie --help`` is typed by people): command modules import only
typer and light value types at the top, and what a command needs inside the command.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.cli.admin import departments_app, keys_app, teams_app, users_app
from gateway.cli.audit import audit_app
from gateway.cli.console import console_app
from gateway.cli.front_end import front_end
from gateway.cli.login import login
from gateway.cli.policy import policy_app, scan
from gateway.cli.quotas import quotas_app
from gateway.cli.register import register_app
from gateway.cli.report import report_app

if TYPE_CHECKING:
    from gateway.catalog import Catalog
    from gateway.settings import Settings

app = typer.Typer(
    help="Hygie: a sovereign, metered OpenAI-compatible gateway for hospitals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ledger_app = typer.Typer(help="Read the ledger (one record per request).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(departments_app, name="departments")
app.add_typer(users_app, name="users")
app.add_typer(teams_app, name="teams")
app.add_typer(ledger_app, name="ledger")
app.add_typer(report_app, name="report")
app.add_typer(policy_app, name="policy")
app.add_typer(quotas_app, name="quotas")
app.add_typer(audit_app, name="audit")
app.add_typer(console_app, name="console")
app.command("login")(login)
keys_app.command("front-end")(front_end)
app.add_typer(register_app, name="register")
app.command("scan")(scan)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Models YAML. Env: HYGIE_CONFIG.")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Ledger database URL. Env: HYGIE_DATABASE_URL.")
]


def _load(settings: Settings) -> Catalog:
    from gateway.catalog import ConfigError, load_catalog

    if settings.config is None:
        raise typer.BadParameter("no configuration: pass --config or set HYGIE_CONFIG")
    try:
        return load_catalog(settings.config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def run_server(settings: Settings, catalog: Catalog, *, migrate: bool) -> None:
    """Serve the gateway in the foreground until SIGINT/SIGTERM (graceful, then flush)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.observability.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    uvicorn.run(
        create_app(settings, catalog, migrate=migrate, freeze_startup_objects=True),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
        log_config=None,  # our handler (JSON or text, with request ids) stays in place
        timeout_graceful_shutdown=int(settings.graceful_shutdown_s),
        server_header=False,
        root_path=settings.root_path,
    )


@app.command()
def serve(
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    host: Annotated[str | None, typer.Option(help="Env: HYGIE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Env: HYGIE_PORT.")] = None,
) -> None:
    """Run the gateway."""
    from gateway.settings import settings_with

    settings = settings_with(config=config, database_url=database_url, host=host, port=port)
    run_server(settings, _load(settings), migrate=settings.auto_migrate)


@app.command()
def demo(
    port: Annotated[
        int, typer.Option(help="Gateway port. Env: HYGIE_PORT.", envvar="HYGIE_PORT")
    ] = 8080,
) -> None:
    """Run the gateway with a simulated vLLM, a fresh SQLite ledger and a sample key."""
    from gateway.cli.demo import SimulatorMissing, banner, prepare_demo

    try:
        settings, catalog, simulator, key = prepare_demo(port)
    except SimulatorMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(banner(settings, key, simulator.url))
    try:
        run_server(settings, catalog, migrate=False)
    finally:
        simulator.stop()


@app.command()
def migrate(database_url: DatabaseOpt = None) -> None:
    """Bring the ledger database to the latest schema."""
    from billing.db.migrate import upgrade_to_head
    from gateway.settings import settings_with

    settings = settings_with(database_url=database_url)
    upgrade_to_head(settings.database_url)
    typer.echo("database is up to date")


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate the configuration file; errors name the exact field."""
    from gateway.settings import settings_with

    settings = settings_with(config=config)
    catalog = _load(settings)
    for model in catalog.models:
        deployments = ", ".join(
            f"{d.name} ({d.hosting.hosting_class.value})" for d in model.deployments
        )
        typer.echo(f"model {model.name}: {deployments}")
    typer.echo(f"ok: {len(catalog.models)} models")


@app.command("simulate-vllm")
def simulate_vllm(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    model: Annotated[list[str] | None, typer.Option(help="Served chat model name(s).")] = None,
    ttft_ms: Annotated[float, typer.Option(help="Time to first token.")] = 50.0,
    itl_ms: Annotated[float, typer.Option(help="Delay between tokens.")] = 10.0,
) -> None:
    """Run the simulated vLLM server (same wire format as vLLM 0.32)."""
    from gateway.cli.demo import SimulatorMissing, serve_simulated_vllm

    config: dict[str, Any] = {"time_to_first_token_ms": ttft_ms, "inter_token_ms": itl_ms}
    if model:
        config["models"] = [{"name": name, "kind": "chat"} for name in model]
    try:
        serve_simulated_vllm(config, host, port)
    except SimulatorMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@ledger_app.command("list")
def ledger_list(
    database_url: DatabaseOpt = None,
    limit: Annotated[int, typer.Option(help="How many records, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the most recent ledger records."""
    from billing.db.database import make_engine
    from billing.ledger import repository as ledger
    from gateway.settings import settings_with

    settings = settings_with(database_url=database_url)

    async def fetch() -> list[dict[str, Any]]:
        engine = make_engine(settings.database_url)
        try:
            return [r.as_row() for r in await ledger.recent_records(engine, limit=limit)]
        finally:
            await engine.dispose()

    rows = asyncio.run(fetch())
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
        else:
            typer.echo(
                f"{row['started_at']:%Y-%m-%d %H:%M:%S} {row['request_id']} {row['status_code']} "
                f"{row['model'] or '-'} in={row['prompt_tokens']} out={row['completion_tokens']}"
                f"{' (estimated)' if row['tokens_estimated'] else ''} {row['latency_ms']:.1f}ms"
            )


@ledger_app.command("replay")
def ledger_replay(
    spool_dir: Annotated[
        Path | None,
        typer.Option(help="Journal directory of a stopped gateway. Env: HYGIE_SPOOL_DIR."),
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Store the records a stopped or killed gateway left in its journal (idempotent)."""
    from billing.db.database import make_engine
    from billing.ledger import repository as ledger
    from billing.ledger.journal import Journal
    from billing.ledger.writer import LedgerWriter
    from gateway.settings import settings_with

    settings = settings_with(spool_dir=spool_dir, database_url=database_url)

    async def replay() -> int:
        engine = make_engine(settings.database_url)
        try:
            writer = LedgerWriter(
                lambda records: ledger.insert_records(engine, records),
                Journal(settings.spool_dir),
                probe=lambda: ledger.check_reachable(engine),
            )
            return await writer.replay()
        finally:
            await engine.dispose()

    segments = asyncio.run(replay())
    typer.echo(f"replayed {segments} journal segment(s) from {settings.spool_dir}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="hygie")


if __name__ == "__main__":
    main()
