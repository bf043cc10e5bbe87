"""OpenAI-compatible model listing (the inference endpoints are in ``hot_path``)."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.catalog import ModelSpec
from gateway.errors import InvalidRequest, ModelNotFound
from gateway.http.openai_request import parse_call, read_body
from gateway.services import Services

router = APIRouter()


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _model_card(model: ModelSpec, created: int, approval: str) -> dict[str, Any]:
    hosting = sorted({d.hosting.hosting_class.value for d in model.deployments})
    return {
        "id": model.name,
        "object": "model",
        "created": created,
        "owned_by": model.owner,
        "description": model.description,
        "approval": approval,
        "documentation_url": model.documentation_url,
        "endpoints": list(model.endpoints),
        "hosting_classes": hosting,
    }


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    """The models the caller's department may use, with what staff need to choose one."""
    services = _services(request)
    owner = await services.authenticator.authenticate(
        request.headers.get("authorization"), request.headers
    )
    cards = [
        _model_card(m, services.started_at, services.use_cases.approval(m.name))
        for m in services.catalog.models
        if m.allows(owner.department)
    ]
    return Response(orjson.dumps({"object": "list", "data": cards}), media_type="application/json")


@router.get("/v1/models/{model_id:path}")
async def retrieve_model(model_id: str, request: Request) -> Response:
    services = _services(request)
    owner = await services.authenticator.authenticate(
        request.headers.get("authorization"), request.headers
    )
    model = services.catalog.model(model_id)
    if model is None or not model.allows(owner.department):
        raise ModelNotFound(model_id)
    return Response(
        orjson.dumps(
            _model_card(model, services.started_at, services.use_cases.approval(model.name))
        ),
        media_type="application/json",
    )


def _endpoint_of(body: dict[str, Any]) -> str:
    for field, endpoint in (
        ("messages", "chat"),
        ("prompt", "completions"),
        ("input", "embeddings"),
    ):
        if field in body:
            return endpoint
    raise InvalidRequest("The request needs messages, prompt or input.", param="messages")


@router.post("/v1/policy/explain")
async def explain_policy(request: Request) -> Response:
    """Dry run of the sovereignty policy for a request body: nothing is forwarded or recorded."""
    services = _services(request)
    owner = await services.authenticator.authenticate(
        request.headers.get("authorization"), request.headers
    )
    raw = await read_body(request, services.settings.max_body_bytes)
    call = parse_call(_endpoint_of(_json_object(raw)), raw)
    model = services.catalog.model(call.model)
    if model is None or not model.allows(owner.department):
        raise ModelNotFound(call.model)
    decide = partial(
        services.sovereignty.decide,
        call.endpoint,
        call.body,
        owner,
        model,
        request.headers.get("x-hygie-data-class"),
    )
    decision = await services.scan_worker.run(len(raw), decide)
    return Response(orjson.dumps(decision.to_public_dict()), media_type="application/json")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return value
