"""Tokens made in tests with the test provider's own keys: valid ones, and every kind of bad."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "hygie-gateway"


def provider_key(jwks_file: Path, alg: str = "RS256") -> tuple[str, Any]:
    """(kid, private key) of the provider's key for ``alg``."""
    for entry in json.loads(jwks_file.read_text())["keys"]:
        if entry.get("alg") == alg:
            return str(entry["kid"]), jwt.PyJWK(entry).key
    raise LookupError(alg)


def claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    """An access token's claims for alice of cardiologie, valid for ten minutes."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "sub": "7f3c2a10-0000-4000-8000-00000000a11c",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "client_id": "hygie-cli",
        "scope": "llm",
        "preferred_username": "alice",
        "department": "cardiologie",
        "groups": ["cardiologie", "clinicians"],
        "roles": [],
    }
    values.update(overrides)
    return values


def signed(jwks_file: Path, payload: dict[str, Any], *, alg: str = "RS256", **header: Any) -> str:
    kid, key = provider_key(jwks_file, alg)
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt", **header})


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """An ``alg: none`` token (no signature at all)."""
    header = {"alg": "none", "typ": "at+jwt", "kid": kid}
    return f"{_b64(header)}.{_b64(payload)}."


def hs256_with_public_key(jwks_file: Path, payload: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC-signed with the provider's public key as secret."""
    kid, key = provider_key(jwks_file)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    signing_input = f"{_b64(header)}.{_b64(payload)}".encode()
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def with_unknown_key(payload: dict[str, Any]) -> str:
    """Signed by a key the provider never published."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, stranger, algorithm="RS256", headers={"kid": "not-a-known-kid"})


def tampered(token: str) -> str:
    """The same token with its payload changed (department), signature kept."""
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["department"] = "direction-generale"
    return f"{header}.{_b64(body)}.{signature}"


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
