"""The one settings object. Environment variables (``HYGIE_*``) are read here and nowhere else.

Every CLI option has an environment twin: the CLI passes the options it was given as keyword
arguments, which take precedence over the environment.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.identity.config import IdentityConfig


class Settings(BaseSettings):
    """Process-wide settings, built once at start and passed to whoever needs them."""

    model_config = SettingsConfigDict(env_prefix="HYGIE_", extra="ignore", frozen=True)

    config: Path | None = Field(
        default=None, description="Models and deployments YAML (HYGIE_CONFIG)."
    )
    policy: Path | None = Field(default=None, description="Sovereignty policy YAML (HYGIE_POLICY).")
    database_url: str = Field(
        default="sqlite+aiosqlite:///hygie.db",
        description="SQLAlchemy async URL of the ledger database (HYGIE_DATABASE_URL).",
    )
    auto_migrate: bool = Field(
        default=True, description="Apply database migrations at start (HYGIE_AUTO_MIGRATE)."
    )
    redis_url: str | None = Field(default=None, description="Shared counters (HYGIE_REDIS_URL).")
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer credential of the admin API (HYGIE_ADMIN_TOKEN)."
    )
    openapi: Literal["admin", "off"] = Field(
        default="admin",
        description="GET /openapi.json: for administrators only (admin), or not served (off).",
    )
    auth_failure_burst: int = Field(
        default=30,
        ge=1,
        description="Failed authentications a client address may make at once before its "
        "requests are refused with 429 (HYGIE_AUTH_FAILURE_BURST).",
    )
    auth_failure_per_minute: float = Field(
        default=30.0, gt=0, description="How fast that allowance refills, per minute."
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks of reverse proxies whose X-Forwarded-For is "
        "believed, as JSON: '[\"10.0.0.0/8\"]' (HYGIE_TRUSTED_PROXIES). Empty: none.",
    )
    host: str = "127.0.0.1"
    port: int = 8080
    spool_dir: Path = Field(
        default=Path("hygie-spool"),
        description="The ledger journal: records are written here before the database (one "
        "directory per gateway process; keep it on a volume that survives restarts).",
    )
    ledger_flush_interval_s: float = Field(default=0.2, gt=0)
    ledger_batch_size: int = Field(default=500, ge=1)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_upstream_answer_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="A model server's complete answer larger than this is refused (502).",
    )
    upstream_keepalive_s: float = Field(
        default=4.0,
        gt=0,
        description="Idle connections to model servers are closed after this; keep it below "
        "the servers' own keep-alive (vLLM's is 5 s).",
    )
    scan_thread_min_bytes: int = Field(
        default=32 * 1024,
        ge=0,
        description="Request bodies of this size or more are scanned for identifiers on a "
        "worker thread, so that a long pasted record does not hold up other requests.",
    )
    key_cache_ttl_s: float = Field(
        default=5.0, ge=0, description="How long a verified API key is trusted without a lookup."
    )
    graceful_shutdown_s: float = Field(
        default=30.0, ge=0, description="How long in-flight streams may run on after SIGTERM."
    )
    default_max_tokens: int = Field(
        default=1024,
        ge=1,
        description="Output tokens per choice first held for a chat stream without max_tokens "
        "when a budget applies; the stream is topped up beyond it (the body is never changed).",
    )
    default_max_model_len: int = Field(
        default=32768,
        ge=1,
        le=10**8,
        description="Context length assumed for a model whose catalog entry has no "
        "max_model_len: the largest max_tokens accepted, and what a non-streamed chat request "
        "without max_tokens is held for under a budget.",
    )
    quota_top_up_tokens: int = Field(default=256, ge=1)
    quota_refresh_s: float = Field(default=5.0, gt=0)
    alert_webhook_url: str | None = Field(
        default=None, description="Where budget threshold alerts are POSTed (with retries)."
    )
    log_format: Literal["text", "json"] = "text"
    log_level: str = "info"
    otlp_endpoint: str | None = Field(
        default=None, description="OpenTelemetry collector (OTLP/HTTP), e.g. http://otel:4318."
    )
    trace_sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="Share of requests traced (a caller's choice wins)."
    )
    org_timezone: str = "Europe/Paris"
    # The console (gateway/console): sessions, sign-in links, the sub-path behind a proxy.
    console_enabled: bool = Field(default=True, description="Serve the console at /console.")
    console_secret: SecretStr | None = Field(
        default=None,
        description="Signs one-time sign-in links (HYGIE_CONSOLE_SECRET); derived from the "
        "admin token when unset. Links are refused when neither is set.",
    )
    console_cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie Secure (HTTPS only). Turn off only for a plain-HTTP "
        "demo on localhost.",
    )
    console_session_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 86_400)
    console_link_ttl_s: int = Field(default=300, ge=30, le=3600)
    console_public_url: str | None = Field(
        default=None,
        description="The address staff open, used in printed sign-in links, e.g. "
        "https://intranet.example/ia (HYGIE_CONSOLE_PUBLIC_URL).",
    )
    root_path: str = Field(
        default="",
        pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="The sub-path a reverse proxy serves Hygie under, e.g. /ia (HYGIE_ROOT_PATH).",
    )
    # Single sign-on (README "Single sign-on"): the identity provider's tokens and front-ends.
    identity: IdentityConfig = Field(
        default_factory=IdentityConfig,
        description="Trusted identity providers and claim mapping, as JSON (HYGIE_IDENTITY).",
    )
    identity_file: Path | None = Field(
        default=None,
        description="The same as YAML (HYGIE_IDENTITY_FILE); used when HYGIE_IDENTITY is unset.",
    )

    def identity_config(self) -> IdentityConfig:
        """The identity settings: ``identity`` if it names issuers, else ``identity_file``."""
        if self.identity.issuers or self.identity_file is None:
            return self.identity
        return IdentityConfig.model_validate(
            yaml.safe_load(self.identity_file.read_text(encoding="utf-8")) or {}
        )

    # Governance: the register of AI uses, model approvals, the patient page, drift alerts.
    use_case_pilot_mode: Literal["allow_and_flag", "allow", "refuse"] = Field(
        default="allow_and_flag",
        description="Requests of a use case in pilot: allowed and flagged in the ledger, "
        "allowed, or refused (HYGIE_USE_CASE_PILOT_MODE).",
    )
    use_case_proposed_mode: Literal["refuse", "allow_and_flag"] = Field(
        default="refuse", description="Requests of a use case still proposed (not approved)."
    )
    pilot_may_use_unapproved_models: bool = Field(
        default=False,
        description="Use cases in pilot may call models whose approval is pending (flagged).",
    )
    governance_refresh_s: float = Field(
        default=5.0, gt=0, description="How often the register and approvals are read again."
    )
    patient_page_contact: str = Field(
        default="le délégué à la protection des données (DPO) de l'établissement",
        max_length=500,
        description="Who patients contact to object or ask questions (patient page).",
    )
    hospital_name: str = Field(
        default="Centre hospitalier", max_length=200, description="Named on the patient page."
    )
    drift_ratio: float = Field(
        default=2.0,
        gt=1,
        description="A use case's error or refusal rate this many times last "
        "week's raises a drift alert.",
    )
    drift_min_requests: int = Field(
        default=50, ge=1, description="Requests a week needs before its rates are compared."
    )
    drift_check_interval_s: float = Field(default=3600.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            ipaddress.ip_network(address.strip(), strict=False)  # ValueError: refused at start
        return value


def upstream_secrets(names: list[str]) -> dict[str, str]:
    """Upstream credentials read from the environment variables the configuration names.

    They stay in the gateway: clients never see or send them.
    """
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the CLI options that were given (not None) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def prepare_litellm() -> None:
    """litellm reads its switches from the environment before it is first imported: make it
    use its bundled price map and never reach the network on its own."""
    from gateway.backends.litellm.client import prepare_litellm_environment

    prepare_litellm_environment(os.environ)
