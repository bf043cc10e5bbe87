"""What the identity team configures: trusted issuers, and how their claims map to Hygie.

Held by :class:`gateway.settings.Settings` (``HYGIE_IDENTITY`` as JSON, or a YAML file named by
``HYGIE_IDENTITY_FILE``); nothing here reads the environment.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# Asymmetric algorithms only: a shared-secret (HS*) algorithm would let anyone holding the
# provider's public key forge tokens, and "none" is no signature at all.
SAFE_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
HYGIE_ROLES = ("member", "department_admin", "finance", "admin")


class ClaimMapping(BaseModel):
    """Where a token says who the user is, and how its groups and roles become Hygie's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(default="preferred_username", description="Claim naming the user.")
    display_name: str = "name"
    department: str | None = Field(
        default="department", description="Claim holding the department (None: groups only)."
    )
    groups: str = Field(default="groups", description="Claim listing groups (or roles).")
    roles: str = Field(default="roles", description="Claim listing application roles.")
    use_case: str | None = Field(default=None, description="Claim naming the use case.")
    group_departments: dict[str, str] = Field(
        default_factory=dict, description="Group → department, for providers with no claim."
    )
    role_values: dict[str, str] = Field(
        default_factory=dict,
        description="A value of the roles or groups claim → one of admin, finance, "
        "department_admin, member. Values not listed grant nothing (member).",
    )
    default_department: str | None = Field(
        default=None, description="Department of a user whose token names none (None: refused)."
    )
    group_use_cases: dict[str, str] = Field(
        default_factory=dict,
        description="Group → registered use case, for tokens whose use-case claim names none.",
    )
    default_use_case: str | None = Field(
        default=None,
        description="Registered use case of a token that names none and has no mapped group.",
    )

    def use_case_targets(self) -> set[str]:
        """The use cases this mapping names: each must be in the register."""
        targets = set(self.group_use_cases.values())
        if self.default_use_case:
            targets.add(self.default_use_case)
        return targets

    @field_validator("role_values")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for role in value.values():
            if role not in HYGIE_ROLES:
                raise ValueError(f"role {role!r} is not one of {', '.join(HYGIE_ROLES)}")
        return value


class IssuerConfig(BaseModel):
    """One trusted identity provider (an OpenID Connect issuer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(description="Exact `iss` value, e.g. https://sso.chu.fr/realms/chu.")
    audience: str = Field(description="Required `aud` value: the gateway's client id.")
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    client_ids: tuple[str, ...] = Field(
        default=(), description="Clients (`azp`/`client_id`) whose tokens are accepted; empty: any."
    )
    leeway_s: float = Field(default=30.0, ge=0, le=300)
    discovery_url: str | None = Field(
        default=None, description="Default: <issuer>/.well-known/openid-configuration."
    )
    introspection_client_id: str | None = None
    introspection_client_secret: SecretStr | None = None
    username_prefix: str = Field(
        default="", description="Prefixed to usernames, to keep two issuers' users apart."
    )
    claims: ClaimMapping = Field(default_factory=ClaimMapping)
    # Signing in to the console (README "Console"): the console's own client at this provider.
    console_client_id: str | None = Field(
        default=None, description="Client id of the console; None: no console sign-in button."
    )
    console_client_secret: SecretStr | None = Field(
        default=None, description="Its secret, for a confidential client (never logged)."
    )
    console_scopes: str = Field(
        default="openid profile email", description="Scopes the console asks for."
    )
    console_label: str = Field(
        default="", max_length=80, description="Text of the sign-in button (default: issuer)."
    )

    @field_validator("algorithms")
    @classmethod
    def _asymmetric(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unsafe = [alg for alg in value if alg not in SAFE_ALGORITHMS]
        if unsafe or not value:
            raise ValueError(f"algorithms must be among {sorted(SAFE_ALGORITHMS)}: {unsafe}")
        return value

    @field_validator("issuer")
    @classmethod
    def _no_trailing_space(cls, value: str) -> str:
        if value != value.strip() or not value:
            raise ValueError("the issuer is compared exactly: no surrounding spaces")
        return value

    @property
    def discovery(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


class IdentityConfig(BaseModel):
    """Single sign-on settings; no issuer configured means API keys only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuers: tuple[IssuerConfig, ...] = ()
    jwks_min_refresh_s: float = Field(
        default=30.0, ge=0, description="Least time between two JWKS fetches of one issuer."
    )
    jwks_max_age_s: float = Field(default=3600.0, gt=0, description="JWKS refreshed after this.")
    token_cache_size: int = Field(default=50_000, ge=1)
    introspection_cache_s: float = Field(default=60.0, ge=0)
    http_timeout_s: float = Field(default=5.0, gt=0)
    front_end_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts front-ends' signing secrets in the database "
        "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())').",
    )
    front_end_username_claim: str = Field(
        default="email", description="Claim of a front-end's signed user JWT naming the user."
    )
    personal_key_max_days: int = Field(
        default=90, ge=1, description="Longest lifetime of a key minted by `hygie login`."
    )
    personal_keys_per_user: int = Field(default=5, ge=0)

    def use_case_targets(self) -> frozenset[str]:
        """Every use case the issuers' claim mappings name (checked against the register)."""
        return frozenset(name for i in self.issuers for name in i.claims.use_case_targets())
