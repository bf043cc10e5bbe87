"""``hygie keys front-end``: the CLI twin of PUT /admin/keys/{id}/front-end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.fernet import Fernet

from billing import directory
from billing.db.database import make_engine
from billing.directory import Principal
from gateway.identity.front_end_secrets import SecretBox
from gateway.steps.api_keys import hash_key
from tests.audit.trail import entries
from tests.conftest import seed_key
from tests.gateway.cli.test_cli import hygie


def _owner(url: str, secret: str) -> Principal | None:
    async def read() -> Principal | None:
        engine = make_engine(url)
        try:
            return await directory.owner_of_key_hash(engine, hash_key(secret))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_marking_a_front_end_stores_its_secret_encrypted(sqlite_url: str, tmp_path: Path) -> None:
    key, key_id = asyncio.run(seed_key(sqlite_url, department="dsn", user="open-webui"))
    fernet_key = Fernet.generate_key().decode()
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 40 + "\n")
    env = {"HYGIE_IDENTITY": f'{{"front_end_secret_key": "{fernet_key}"}}'}
    args = ["keys", "front-end", key_id, "--database-url", sqlite_url]
    done = hygie(
        *args, "--mode", "signed", "--secret-file", str(secret_file), "--required", env=env
    )
    assert "front-end signed (required)" in done.stdout
    owner = _owner(sqlite_url, key)
    assert owner is not None and owner.front_end is not None
    sealed = owner.front_end.encrypted_secret
    assert sealed is not None and "s" * 40 not in sealed
    assert SecretBox(fernet_key).open(sealed) == "s" * 40
    # A short secret, or no encryption key configured, is refused.
    secret_file.write_text("short")
    hygie(*args, "--mode", "signed", "--secret-file", str(secret_file), env=env, code=2)
    hygie(*args, "--mode", "none")
    plain = _owner(sqlite_url, key)
    assert plain is not None and plain.front_end is None
    # Each change is in the audit trail, the secret never; an unknown key changes nothing.
    hygie(
        "keys", "front-end", "no-such-key", "--mode", "none", "--database-url", sqlite_url, code=1
    )
    trail = entries(sqlite_url, action="key.front_end")
    assert [(e.target, e.after["front_end"], e.after["secret_set"]) for e in trail] == [
        (key_id, "signed", True),
        (key_id, None, False),
    ]
    assert all("s" * 40 not in str(e.after) for e in trail) and trail[0].department == "dsn"
