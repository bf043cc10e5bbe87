"""The test OpenID provider for the console's sign-in: its people, the console's client, and what
a person does on the provider's pages (type a password, or cancel).

The provider runs from the vendored config (tests/identity/oidc/provider.config.json), so the
console's client and the administrator added there are used even by an older installed copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.identity.conftest import OIDC_HOME, OIDC_SRC, _installed, identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, running_provider

CONSOLE_CLIENT = "hygie-console"
CONSOLE_SECRET = "hygie-console-secret"
# username at the provider -> (password, department, Hygie role, console home page)
STAFF = {
    "hugo": ("hugo-password", "direction-numerique", "admin", "overview"),
    "claire": ("claire-password", "direction-financiere", "finance", "overview"),
    "bob": ("bob-password", "urgences", "department_admin", "overview"),
    "alice": ("alice-password", "cardiologie", "member", "me"),
}


@contextmanager
def console_provider(keys: Path) -> Iterator[RunningProvider]:
    """The provider, its signing keys written to ``keys``; skipped without Node.js (not in CI)."""
    if not _installed():
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is required under CI for the OpenID provider", pytrace=False)
        pytest.skip("Node.js/npm not found: the OpenID provider tests need them")
    with running_provider(OIDC_HOME, config=OIDC_SRC / "provider.config.json", jwks=keys) as op:
        yield op


def console_identity(issuer: str, **overrides: Any) -> dict[str, Any]:
    """Identity settings trusting ``issuer`` for the API and offering it on the sign-in page."""
    console = {
        "console_client_id": CONSOLE_CLIENT,
        "console_client_secret": CONSOLE_SECRET,
        # The test provider releases department and groups under scopes of those names.
        "console_scopes": "openid profile email department groups",
        "console_label": "CHU Test",
    }
    return identity_settings(issuer, **{**console, **overrides})


def provider_answer(
    authorize_url: str, redirect_uri: str, username: str, *, cancel: bool = False
) -> str:
    """What a person does at the provider: sign in (or press Cancel); the address the provider
    then sends the browser back to (the console's callback, with its query)."""
    password = STAFF[username][0] if username in STAFF else "wrong"
    with httpx.Client() as browser:
        response = browser.get(authorize_url)
        for _ in range(20):
            location = response.headers.get("location")
            if response.is_redirect and location is not None:
                target = str(response.url.join(location))
                if target.startswith(redirect_uri):
                    return target
                response = browser.get(target)
                continue
            response.raise_for_status()
            interaction = response.url.path.rstrip("/")
            if cancel:
                response = browser.get(response.url.join(interaction + "/abort"))
            else:
                form = {"username": username, "password": password}
                response = browser.post(response.url.join(interaction + "/login"), data=form)
    raise RuntimeError("the provider never sent the browser back")
