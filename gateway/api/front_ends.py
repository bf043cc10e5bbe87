"""Marking an API key as a trusted chat front-end (administrators only).

Trusting a front-end lets its key name any user of the organisation, so only an ``admin`` may
grant it; department admins and finance may not.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from billing import directory
from gateway.api.admin import admin_context, change
from gateway.api.admin_auth import AdminRole
from gateway.api.admin_input import KEY_ID_MAX, valid_text
from gateway.api.audit import audited
from gateway.errors import Forbidden, InvalidRequest, NotFound
from gateway.identity.assembly import secret_box

router = APIRouter(prefix="/admin")

# Open WebUI signs with a secret of its own choosing; below 32 bytes HS256 is guessable offline.
_SECRET_MIN, _SECRET_MAX = 32, 256


class FrontEndSpec(BaseModel):
    """How a key's front-end may name its end users (``mode`` None: a plain key again)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["token", "signed", "headers"] | None
    secret: Annotated[str, Field(min_length=_SECRET_MIN, max_length=_SECRET_MAX)] | None = None
    required: bool = False


@router.put("/keys/{key_id}/front-end", openapi_extra=audited("key.front_end"))
async def set_front_end(key_id: str, body: FrontEndSpec, request: Request) -> Response:
    """Mark ``key_id`` as a trusted front-end; the secret is stored encrypted, never shown."""
    services, principal = await admin_context(request)
    if principal.role is not AdminRole.ADMIN:
        raise Forbidden("Only an administrator may trust a front-end to name its users.")
    if not valid_text(key_id, KEY_ID_MAX):
        raise InvalidRequest("not a key id", param="key_id")
    sealed = None
    if body.secret is not None:
        box = secret_box(services.settings.identity_config())
        if box is None:
            raise InvalidRequest(
                "Set identity.front_end_secret_key before giving a front-end a secret.",
                param="secret",
            )
        sealed = box.seal(body.secret)
    elif body.mode == "signed":
        raise InvalidRequest("A front-end that signs its users needs its secret.", param="secret")
    answer = {"id": key_id, "front_end": body.mode, "required": body.required}
    # The secret is never in the trail: only whether one was set.
    after = answer | {"secret_set": body.secret is not None}
    async with change(services, request, principal, "key.front_end", key_id, after=after) as made:
        key = await directory.find_key(made.connection, key_id)
        if key is None or not await directory.set_front_end(
            made.connection,
            key_id,
            mode=body.mode,
            encrypted_secret=sealed,
            required=body.required,
        ):
            raise NotFound(f"No active key {key_id!r}.")  # nothing changed, nothing recorded
        made.department = key.department
    services.authenticator.forget(key_id)
    return Response(orjson.dumps(answer), media_type="application/json")
