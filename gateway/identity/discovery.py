"""OpenID Connect discovery: where an issuer publishes its keys and introspection endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.identity.config import IssuerConfig
from gateway.identity.provider_http import ProviderHttp, ProviderUnavailable


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    jwks_uri: str
    introspection_endpoint: str | None
    token_endpoint: str | None
    device_authorization_endpoint: str | None
    authorization_endpoint: str | None
    end_session_endpoint: str | None = None


async def discover(http: ProviderHttp, issuer: IssuerConfig) -> ProviderMetadata:
    """The issuer's metadata; refuses a document that names another issuer (OIDC Discovery
    §4.3: a document for another issuer could point at an attacker's keys)."""
    document = await http.get_json(issuer.discovery)
    if document.get("issuer") != issuer.issuer:
        raise ProviderUnavailable(
            f"discovery names issuer {document.get('issuer')!r}, expected {issuer.issuer!r}"
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ProviderUnavailable("discovery document has no jwks_uri")
    return ProviderMetadata(
        issuer=issuer.issuer,
        jwks_uri=jwks_uri,
        introspection_endpoint=_optional(document, "introspection_endpoint"),
        token_endpoint=_optional(document, "token_endpoint"),
        device_authorization_endpoint=_optional(document, "device_authorization_endpoint"),
        authorization_endpoint=_optional(document, "authorization_endpoint"),
        end_session_endpoint=_optional(document, "end_session_endpoint"),
    )


def _optional(document: dict[str, object], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) else None
