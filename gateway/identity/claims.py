"""From a validated token's claims to a person: username, department, roles, use case."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from gateway.errors import Forbidden, InvalidApiKey
from gateway.identity.config import HYGIE_ROLES, ClaimMapping, IssuerConfig

# Departments created on first sight become names in reports and quota paths: letters, digits
# and a few separators only, as an administrator would have typed them.
_DEPARTMENT = re.compile(r"^[^\W_][\w.\- ]{0,63}$")
_USERNAME_MAX = 128
_DISPLAY_MAX = 200


@dataclass(frozen=True, slots=True)
class Identity:
    """A person (or application) as the identity provider vouches for them."""

    issuer: str
    subject: str
    username: str
    display_name: str
    department: str
    role: str
    roles: tuple[str, ...]
    use_case: str | None
    expires_at: float
    """When the token stops being valid (Unix time)."""


def identity_of(claims: dict[str, Any], issuer: IssuerConfig) -> Identity:
    """The identity in ``claims``; raises :class:`InvalidApiKey` when the token names nobody
    usable and :class:`Forbidden` when it names no department."""
    mapping = issuer.claims
    subject = _text(claims.get("sub"))
    raw_username = _text(claims.get(mapping.username)) or subject
    if not subject or not raw_username:
        raise InvalidApiKey("The token names no user.")
    username = clean_text(issuer.username_prefix + raw_username, _USERNAME_MAX)
    if username is None:
        raise InvalidApiKey("The token's username is not usable.")
    granted = _granted_roles(claims, issuer)
    return Identity(
        issuer=issuer.issuer,
        subject=subject,
        username=username,
        display_name=clean_text(_text(claims.get(mapping.display_name)), _DISPLAY_MAX) or username,
        department=_department(claims, issuer),
        role=max(granted, key=HYGIE_ROLES.index),
        roles=tuple(sorted(granted, key=HYGIE_ROLES.index)),
        use_case=_use_case(claims, mapping),
        expires_at=float(claims["exp"]),
    )


def _use_case(claims: dict[str, Any], mapping: ClaimMapping) -> str | None:
    """The use-case claim's value, else the first mapped group's use case, else the default."""
    named = clean_text(_text(claims.get(mapping.use_case)), 128) if mapping.use_case else None
    if named:
        return named
    for group in _strings(claims.get(mapping.groups)):
        if group in mapping.group_use_cases:
            return mapping.group_use_cases[group]
    return mapping.default_use_case


def _granted_roles(claims: dict[str, Any], issuer: IssuerConfig) -> set[str]:
    mapping = issuer.claims
    values = _strings(claims.get(mapping.roles)) + _strings(claims.get(mapping.groups))
    granted = {mapping.role_values[v] for v in values if v in mapping.role_values}
    granted.add("member")
    return granted


def _department(claims: dict[str, Any], issuer: IssuerConfig) -> str:
    mapping = issuer.claims
    named = _text(claims.get(mapping.department)) if mapping.department else ""
    if not named:
        groups = _strings(claims.get(mapping.groups))
        named = next(
            (mapping.group_departments[g] for g in groups if g in mapping.group_departments), ""
        )
    named = named or (mapping.default_department or "")
    department = unicodedata.normalize("NFC", named)
    if not _DEPARTMENT.match(department):
        raise Forbidden(
            "Your identity names no valid department; ask the identity team to set one."
        )
    return department


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def clean_text(value: str, limit: int) -> str | None:
    """``value`` in NFC form when it is printable and fits ``limit``, else None."""
    value = unicodedata.normalize("NFC", value.strip())
    if not value or len(value) > limit or not value.isprintable():
        return None
    return value
