"""Key cache: verified keys skip the database; expired entries are re-checked off the path."""

from __future__ import annotations

import asyncio

import pytest

from billing.directory import Principal
from gateway.errors import InvalidApiKey
from gateway.steps.api_keys import hash_key
from gateway.steps.auth import Authenticator

OWNER = Principal("key_1", 1, "dr.a", "member", 1, "cardiologie", None, None)


def test_revocation_on_another_replica_is_noticed_after_the_ttl() -> None:
    async def run() -> list[str]:
        valid = {hash_key("hyg_sk_a")}
        lookups: list[str] = []

        async def lookup(digest: str) -> Principal | None:
            lookups.append(digest)
            return OWNER if digest in valid else None

        auth = Authenticator(lookup, ttl_s=0.05)
        assert await auth.authenticate("Bearer hyg_sk_a") == OWNER
        assert await auth.authenticate("Bearer hyg_sk_a") == OWNER  # cached
        assert len(lookups) == 1
        valid.clear()  # revoked elsewhere
        await asyncio.sleep(0.06)
        assert await auth.authenticate("Bearer hyg_sk_a") == OWNER  # served while re-checked
        await asyncio.sleep(0.01)  # the background check finds the key revoked
        with pytest.raises(InvalidApiKey):
            await auth.authenticate("Bearer hyg_sk_a")
        with pytest.raises(InvalidApiKey):
            await auth.authenticate(None)
        return lookups

    assert len(asyncio.run(run())) == 3
