"""Staff minting, listing and revoking their own keys (``hygie login`` calls these).

A personal key is minted only with a single sign-on token: a key cannot mint further keys, or a
stolen key could outlive its own revocation. Its lifetime and the number a user may hold are
set by the administrator (``identity.personal_key_max_days``, ``personal_keys_per_user``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from billing import audit, directory
from billing.audit import Actor
from billing.directory import Principal
from gateway.api.admin_input import KEY_ID_MAX, KeyName, valid_text
from gateway.errors import Forbidden, InvalidRequest, NotFound
from gateway.services import Services
from gateway.steps.api_keys import generate_key

router = APIRouter(prefix="/v1/keys/self")


class PersonalKeySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName = ""
    lifetime_days: Annotated[int, Field(ge=1, le=3660)] | None = None


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


async def _caller(request: Request) -> tuple[Services, Principal]:
    services: Services = request.app.state.services
    principal = await services.authenticator.authenticate(request.headers.get("authorization"))
    return services, principal


@router.post("")
async def mint(body: PersonalKeySpec, request: Request) -> Response:
    """A new personal key for the signed-in user; its secret is in this answer only."""
    services, principal = await _caller(request)
    if not principal.credential.startswith("token:"):
        raise Forbidden("Personal keys are minted with a single sign-on token (hygie login).")
    limits = services.settings.identity_config()
    days = body.lifetime_days or limits.personal_key_max_days
    if days > limits.personal_key_max_days:
        raise InvalidRequest(
            f"A personal key lives at most {limits.personal_key_max_days} days.",
            param="lifetime_days",
        )
    held = await directory.count_active_personal_keys(services.engine, principal.user_id)
    if held >= limits.personal_keys_per_user:
        raise Forbidden(
            f"You hold {held} personal keys, the most allowed; revoke one first "
            "(DELETE /v1/keys/self/{id})."
        )
    key = generate_key()
    expires_at = datetime.now(UTC) + timedelta(days=days)
    after = {"id": key.key_id, "display_prefix": key.display_prefix, "personal": True}
    after |= {"expires_at": expires_at}
    async with _change(services, principal, "key.create", key.key_id, after) as made:
        await directory.store_key(
            made.connection,
            key_id=key.key_id,
            key_hash=key.key_hash,
            display_prefix=key.display_prefix,
            username=principal.username,
            name=body.name or "hygie login",
            use_case=principal.use_case,
            expires_at=expires_at,
            personal=True,
        )
    answer = {"id": key.key_id, "key": key.secret, "expires_at": expires_at.isoformat()}
    return _json(answer, 201)


@router.get("")
async def list_own(request: Request) -> Response:
    """The caller's keys (prefixes only, never secrets)."""
    services, principal = await _caller(request)
    keys = await directory.list_user_keys(services.engine, principal.user_id)
    return _json({"data": [asdict(k) for k in keys]})


@router.delete("/{key_id}")
async def revoke_own(key_id: str, request: Request) -> Response:
    """Revoke one of the caller's own keys; anyone else's is 'not found'."""
    services, principal = await _caller(request)
    if not valid_text(key_id, KEY_ID_MAX):
        raise InvalidRequest("not a key id", param="key_id")
    after = {"revoked": True, "personal": True}
    async with _change(services, principal, "key.revoke", key_id, after) as made:
        if not await directory.revoke_user_key(made.connection, key_id, principal.user_id):
            raise NotFound(f"No active key {key_id!r} of yours.")  # nothing recorded
    services.authenticator.forget(key_id)
    return _json({"id": key_id, "revoked": True})


def _change(
    services: Services, principal: Principal, action: str, key_id: str, after: object
) -> AbstractAsyncContextManager[audit.Change]:
    """A person's own key change and its audit entry, in one transaction, like an
    administrator's."""
    return audit.audited_change(
        services.engine,
        Actor(principal.username, principal.role),
        action,
        key_id,
        after=after,
        department=principal.department,
    )
