"""``hygie demo``: the gateway with embedded defaults, a simulated vLLM and a sample key.

The simulated vLLM is a separate distribution (``hygie-simulator``, the ``demo`` extra), not part
of the gateway: this module is the only one that imports it, inside the functions that need it.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.settings import Settings
from policies.governance.register import AiActCategory, DpiaStatus, Lifecycle

if TYPE_CHECKING:
    from billing.directory.use_cases import UseCase
    from gateway.catalog import Catalog
    from gateway.http.local_server import BackgroundServer

if TYPE_CHECKING:
    from hygie_simulator import SimulatorConfig

DEMO_CHAT_MODEL = "llama-3.1-8b-instruct"
DEMO_EMBEDDING_MODEL = "bge-m3"
DEMO_DEPARTMENT = "cardiologie"
DEMO_USER = "dr.martin"
DEMO_ADMIN = "admin.dsn"


def demo_catalog(simulator_url: str) -> Catalog:
    """Two on-premise models served by the simulated vLLM."""
    from gateway.catalog import parse_catalog

    hosting = {
        "class": "on_premise",
        "cleared_for": ["public", "internal", "personal", "health"],
        "retention": "zero",
        "region": "fr",
        "legal_basis": "Hébergement interne (démonstration)",
    }
    return parse_catalog(
        {
            "models": [
                {
                    "name": DEMO_CHAT_MODEL,
                    "description": "Assistant généraliste hébergé sur site (simulé)",
                    "owner": "DSN - plateforme IA",
                    "documentation_url": "https://intranet.example/ia/llama",
                    "card": _card("Meta Llama 3.1 8B Instruct", "Llama 3.1 Community License"),
                    "deployments": [
                        {
                            "name": "vllm-demo",
                            "replicas": [f"{simulator_url}/v1"],
                            "hosting": hosting,
                        }
                    ],
                },
                {
                    "name": DEMO_EMBEDDING_MODEL,
                    "description": "Embeddings multilingues hébergés sur site (simulé)",
                    "owner": "DSN - plateforme IA",
                    "endpoints": ["embeddings"],
                    "card": _card("BAAI bge-m3", "MIT"),
                    "deployments": [
                        {
                            "name": "vllm-demo-emb",
                            "replicas": [f"{simulator_url}/v1"],
                            "hosting": hosting,
                        }
                    ],
                },
            ],
            # The demo hospital's patient numbers: ten digits opening with 80, no keyword needed.
            "detector": {"ipp_shapes": [r"80\d{8}"]},
        },
        source="demo configuration",
    )


def _card(provenance: str, licence: str) -> dict[str, str]:
    """The model card of a demo model: approved, so that the demo answers out of the box."""
    return {
        "provenance": provenance,
        "version": "demo",
        "licence": licence,
        "runs_at": "Serveurs de l'établissement (simulés pour la démonstration)",
        "intended_use": "Démonstration de la passerelle",
        "limitations": "Réponses simulées : aucune valeur clinique",
        "evaluation_notes": "Non évalué (modèle simulé)",
        "evaluated_on": "2026-01-15",
        "approved_by": "Comité IA (démonstration)",
        "approved_on": "2026-01-20",
    }


def demo_use_case() -> UseCase:
    """The demo's one registered use, in production."""
    from billing.directory.use_cases import UseCase

    return UseCase(
        "demo",
        purpose="Aide à la rédaction des courriers de sortie en cardiologie",
        department=DEMO_DEPARTMENT,
        responsible="Dr Martin, chef de service",
        population="Patients hospitalisés en cardiologie",
        legal_basis="Mission d'intérêt public (RGPD art. 6.1.e, 9.2.h)",
        data_classes=("health",),
        dpia_status=DpiaStatus.DONE,
        dpia_date=date(2026, 1, 10),
        ai_act_category=AiActCategory.LIMITED,
        ai_act_reason=(
            "Assistance à la rédaction, relue par un médecin ; pas de décision automatisée"
        ),
        status=Lifecycle.PRODUCTION,
        allowed_models=(DEMO_CHAT_MODEL, DEMO_EMBEDDING_MODEL),
        documentation_url="https://intranet.example/ia/courriers",
    )


class SimulatorMissing(RuntimeError):
    """The simulated vLLM is not installed; the message says how to install it."""

    def __init__(self) -> None:
        super().__init__(
            "the simulated vLLM (package hygie-simulator) is not installed. From a clone of "
            "Hygie run `make demo`, which installs it; with pip: pip install 'hygie[demo]'."
        )


def _simulator_config(patch: dict[str, Any]) -> SimulatorConfig:
    try:
        from hygie_simulator import SimulatorConfig
    except ModuleNotFoundError as exc:
        if exc.name != "hygie_simulator":
            raise
        raise SimulatorMissing from None
    return SimulatorConfig.model_validate(patch)


def start_simulator(config: SimulatorConfig) -> BackgroundServer:
    """Serve the simulated vLLM on a free local port, in a background thread."""
    from gateway.http.local_server import BackgroundServer
    from hygie_simulator import create_simulator_app

    return BackgroundServer(create_simulator_app(config)).start()


def serve_simulated_vllm(patch: dict[str, Any], host: str, port: int) -> None:
    """Serve the simulated vLLM in the foreground (``hygie simulate-vllm``)."""
    config = _simulator_config(patch)
    from hygie_simulator import serve_simulator

    serve_simulator(config, host, port)


def simulator_config() -> SimulatorConfig:
    """The demo's two models; raises ``SimulatorMissing`` when the simulator is not installed."""
    return _simulator_config(
        {
            "models": [
                {"name": DEMO_CHAT_MODEL, "kind": "chat", "max_model_len": 8192},
                {"name": DEMO_EMBEDDING_MODEL, "kind": "embedding", "max_model_len": 8192},
            ]
        }
    )


async def seed_demo_key(database_url: str) -> str:
    """Create the sample department, user and key; return the key's secret."""
    from billing import directory
    from billing.db.database import make_engine
    from billing.directory.use_cases import register_use_case
    from gateway.steps.key_issuing import issue_key

    engine = make_engine(database_url)
    try:
        await directory.create_department(
            engine, DEMO_DEPARTMENT, display_name="Cardiologie", default_data_class="health"
        )
        await register_use_case(engine, demo_use_case())
        key = await issue_key(
            engine, DEMO_USER, department=DEMO_DEPARTMENT, use_case="demo", name="demo"
        )
        await directory.create_user(
            engine, DEMO_ADMIN, department=DEMO_DEPARTMENT, display_name="DSN", role="admin"
        )
    finally:
        await engine.dispose()
    return key.secret


def prepare_demo(
    port: int, workdir: Path | None = None
) -> tuple[Settings, Catalog, BackgroundServer, str]:
    """Start the simulated vLLM and prepare a fresh database; return what ``serve`` needs."""
    from billing.db.migrate import upgrade_to_head

    config = simulator_config()  # before anything is created: fails fast when not installed
    base = workdir or Path(tempfile.mkdtemp(prefix="hygie-demo-"))
    simulator = start_simulator(config)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{base / 'hygie.db'}",
        spool_dir=base / "spool",
        host="127.0.0.1",
        port=port,
        admin_token=secrets.token_urlsafe(24),
        console_cookie_secure=False,  # the demo is plain HTTP on localhost
    )
    upgrade_to_head(settings.database_url)
    secret = asyncio.run(seed_demo_key(settings.database_url))
    return settings, demo_catalog(simulator.url), simulator, secret


def banner(settings: Settings, key: str, simulator_url: str) -> str:
    """What the demo prints: shell-ready variables and a curl line."""
    from gateway.cli.console import sign_in_link

    base = f"http://{settings.host}:{settings.port}/v1"
    admin = settings.admin_token.get_secret_value() if settings.admin_token else ""
    body = (
        '{"model":"' + DEMO_CHAT_MODEL + '","messages":[{"role":"user",'
        '"content":"Bonjour, que peux-tu faire pour un service de cardiologie ?"}]}'
    )
    return "\n".join(
        [
            f"Hygie demo: simulated vLLM at {simulator_url}, ledger in {settings.database_url}",
            f"Department '{DEMO_DEPARTMENT}', user '{DEMO_USER}'; admin token: {admin}",
            "Paste these two lines into your shell (then `export OPENAI_BASE_URL OPENAI_API_KEY`):",
            f"OPENAI_BASE_URL={base}",
            f"OPENAI_API_KEY={key}",
            f"curl -s {base}/chat/completions -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d '{body}'",
            f"Console: open this single-use link within the hour to sign in as '{DEMO_ADMIN}' "
            "(more with `hygie console link --user NAME`):",
            sign_in_link(settings, DEMO_ADMIN, ttl_s=3600),
            "Press Ctrl-C to stop.",
        ]
    )
