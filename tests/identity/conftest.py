"""A real OpenID Connect provider (tests/identity/oidc, panva's oidc-provider on Node.js).

``make test`` installs it (npm ci) into ``.oidc-test-provider``; without Node.js the tests that
need it are skipped with the reason shown, and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.identity.oidc.oidc_provider import RunningProvider, running_provider

ROOT = Path(__file__).resolve().parents[2]
OIDC_SRC = Path(__file__).parent / "oidc"
OIDC_HOME = ROOT / ".oidc-test-provider"
AUDIENCE = "hygie-gateway"


def _installed() -> bool:
    if (OIDC_HOME / "node_modules" / "oidc-provider").is_dir():
        return True
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    subprocess.run(
        ["bash", str(OIDC_SRC / "install.sh"), str(OIDC_HOME)],
        check=True,
        env={**os.environ, "OIDC_USE_SYSTEM_NODE": os.environ.get("OIDC_USE_SYSTEM_NODE", "1")},
    )
    return True


@pytest.fixture(scope="session")
def oidc_home() -> Path:
    """Where the provider is installed (installing it when node is there)."""
    if not _installed():
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is required under CI for the OpenID provider", pytrace=False)
        pytest.skip("Node.js/npm not found: the OpenID provider tests need them")
    return OIDC_HOME


@pytest.fixture(scope="session")
def oidc_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The provider's signing keys (private parts included), to forge tokens in tests."""
    return tmp_path_factory.mktemp("oidc") / "jwks.json"


@pytest.fixture(scope="session")
def oidc(oidc_home: Path, oidc_keys: Path) -> Iterator[RunningProvider]:
    """One provider for the session (its keys written to ``oidc_keys``)."""
    with running_provider(oidc_home, jwks=oidc_keys) as provider:
        yield provider


def identity_settings(issuer: str, **issuer_overrides: Any) -> dict[str, Any]:
    """The ``identity`` settings trusting ``issuer`` as the test provider issues tokens."""
    return {
        "issuers": [
            {
                "issuer": issuer,
                "audience": AUDIENCE,
                "client_ids": ["hygie-cli", "open-webui", "batch-coding"],
                "claims": {
                    "default_use_case": "tests",  # registered by every test gateway's seed
                    "role_values": {
                        "department_admin": "department_admin",
                        "finance": "finance",
                        "hygie-admins": "admin",
                    },
                },
                **issuer_overrides,
            }
        ],
        "jwks_min_refresh_s": 0,
    }


Signer = Callable[..., str]
