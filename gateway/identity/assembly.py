"""Building the token authenticator from the settings (None when no issuer is configured)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.directory import Department, User
from gateway.identity.claims import Identity
from gateway.identity.config import IdentityConfig
from gateway.identity.front_end_secrets import SecretBox
from gateway.identity.front_ends import FrontEnds
from gateway.identity.introspection import Introspector
from gateway.identity.provider_http import ProviderHttp
from gateway.identity.signing_keys import IssuerKeys
from gateway.identity.token_auth import SyncFn, TokenAuthenticator
from gateway.identity.tokens import TokenVerifier


def token_authenticator(
    config: IdentityConfig, engine: AsyncEngine, http: ProviderHttp
) -> TokenAuthenticator | None:
    """The authenticator of the configured issuers' tokens, or None without issuers."""
    if not config.issuers:
        return None

    async def sync(identity: Identity) -> tuple[User, Department]:
        return await sync_identity(engine, identity)

    return build_token_authenticator(config, http, sync)


async def sync_identity(engine: AsyncEngine, identity: Identity) -> tuple[User, Department]:
    """The directory's user for a provider-vouched ``identity``: created on first sight, kept
    in step with its claims (the API's tokens and the console's sign-in share this)."""
    return await directory.sync_user(
        engine,
        identity.username,
        department=identity.department,
        role=identity.role,
        display_name=identity.display_name,
    )


def front_ends(
    config: IdentityConfig,
    engine: AsyncEngine,
    tokens: TokenAuthenticator | None,
    *,
    ttl_s: float,
) -> FrontEnds:
    """The resolver of end users named by trusted front-ends."""

    async def place(username: str, department: str) -> tuple[User, Department]:
        return await directory.user_in_department(engine, username, default_department=department)

    return FrontEnds(
        place,
        tokens=tokens,
        secrets=secret_box(config),
        username_claim=config.front_end_username_claim,
        ttl_s=ttl_s,
    )


def secret_box(config: IdentityConfig) -> SecretBox | None:
    """The cipher of front-end secrets, when a key is configured."""
    key = config.front_end_secret_key
    return SecretBox(key.get_secret_value()) if key is not None else None


def build_token_authenticator(
    config: IdentityConfig, http: ProviderHttp, sync: SyncFn
) -> TokenAuthenticator:
    """The authenticator of ``config``'s issuers, syncing users with ``sync``."""
    keys = {
        issuer.issuer: IssuerKeys(
            issuer,
            http,
            min_refresh_s=config.jwks_min_refresh_s,
            max_age_s=config.jwks_max_age_s,
        )
        for issuer in config.issuers
    }

    return TokenAuthenticator(
        TokenVerifier(keys),
        Introspector(list(keys.values()), http, max_cache_s=config.introspection_cache_s),
        sync,
        cache_size=config.token_cache_size,
    )
