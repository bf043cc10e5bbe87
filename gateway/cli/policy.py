"""``hygie scan`` and ``hygie policy …``: the sovereignty tools, usable without a server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.settings import Settings, settings_with
from policies.phi import PhiDetector, scan_jsonl
from policies.policy_file import DEFAULT_POLICY_PATH, PolicyError, load_policy
from policies.reload import PolicyHolder

policy_app = typer.Typer(help="The data-sovereignty policy.", no_args_is_help=True)


def scan(
    file: Annotated[
        Path | None, typer.Argument(help="JSONL file; standard input when absent.")
    ] = None,
) -> None:
    """Find patient identifiers: reads {"id", "text"} lines, writes {"id", "spans"} lines.

    Needs no server, database or network. Offsets are characters, end exclusive.
    """
    from gateway.catalog import load_catalog

    settings = Settings()
    config = load_catalog(settings.config).detector if settings.config else None
    detector = PhiDetector(config)
    with file.open(encoding="utf-8") if file else sys.stdin as lines:
        for out in scan_jsonl(lines, detector):
            sys.stdout.write(out + "\n")


@policy_app.command("check")
def policy_check(path: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Validate a policy file; errors name the field at fault."""
    try:
        loaded = load_policy(path)
    except PolicyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"ok: policy {loaded.document.name} version {loaded.version}")


@policy_app.command("explain")
def policy_explain(
    request: Annotated[Path, typer.Argument(help="A request body (JSON), as a client sends it.")],
    department: Annotated[str, typer.Option(help="Caller's department.")],
    use_case: Annotated[str | None, typer.Option(help="Caller's use case.")] = None,
    role: Annotated[str, typer.Option(help="Caller's role.")] = "member",
    default_data_class: Annotated[str | None, typer.Option(help="Department default.")] = None,
    data_class: Annotated[str | None, typer.Option(help="Declared x-hygie-data-class.")] = None,
    config: Annotated[Path | None, typer.Option(help="Models YAML. Env: HYGIE_CONFIG.")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML. Env: HYGIE_POLICY.")] = None,
) -> None:
    """Dry run: how the policy in force would treat this request, and why."""
    from billing.directory import Principal
    from gateway.catalog import ConfigError, load_catalog
    from gateway.errors import GatewayError
    from gateway.steps.sovereignty import SovereigntyGate

    settings = settings_with(config=config, policy=policy)
    if settings.config is None:
        raise typer.BadParameter("no configuration: pass --config or set HYGIE_CONFIG")
    try:
        catalog = load_catalog(settings.config)
        holder = PolicyHolder(settings.policy or DEFAULT_POLICY_PATH)
    except (ConfigError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    body = json.loads(request.read_text(encoding="utf-8"))
    endpoint = "chat" if "messages" in body else "completions" if "prompt" in body else "embeddings"
    model = catalog.model(str(body.get("model")))
    if model is None:
        typer.echo(f"error: model {body.get('model')!r} is not in the configuration", err=True)
        raise typer.Exit(2)
    owner = Principal(
        key_id="cli",
        user_id=0,
        username="cli",
        role=role,
        department_id=0,
        department=department,
        default_data_class=default_data_class,
        use_case=use_case,
    )
    gate = SovereigntyGate(holder, PhiDetector(catalog.detector), catalog)
    try:
        decision = gate.decide(endpoint, body, owner, model, data_class)
    except GatewayError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(decision.to_public_dict(), indent=2, ensure_ascii=False))
