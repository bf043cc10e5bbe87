"""Policy: the sovereignty policy in force, and an "explain" form.

The explain form runs the request through the same decision as the gateway
(:meth:`SovereigntyGate.decide`: classification, identifier detection, rules) and shows the
data class, identifier types and counts, the deciding rule and where the request could go.
What is pasted is neither stored nor logged: it lives in this request's memory only.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing.directory import Principal
from gateway.console.context import change, visit
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import render
from gateway.errors import GatewayError

router = APIRouter()
PASTE_MAX_CHARS = 48 * 1024


@router.get("/policy")
async def policy(request: Request) -> Response:
    current = visit(request, "policy")
    services = current.services
    engine = services.sovereignty.holder.engine
    return render(
        request,
        "policy.html",
        session=current.session,
        page="policy",
        policy=engine.policy,
        models=[m.name for m in services.catalog.models],
        fixed_department=current.staff.scope,
    )


def _endpoint(body: dict[str, Any]) -> str:
    return "chat" if "messages" in body else "completions" if "prompt" in body else "embeddings"


@router.post("/policy/explain")
async def explain(request: Request) -> Response:
    """An htmx fragment: the decision for the pasted request (nothing kept)."""
    current, form = await change(request, "policy")
    services = current.services
    department = current.staff.scope or form.text("department", 64) or "-"
    pasted = form.text("request", PASTE_MAX_CHARS)
    try:
        body = orjson.loads(pasted)
    except orjson.JSONDecodeError:
        body = {"messages": [{"role": "user", "content": pasted}]}
    if not isinstance(body, dict):
        raise ConsoleProblem(400, "error.explain_body")
    chosen = form.text("model", 200)
    first = services.catalog.models[0].name if services.catalog.models else ""
    model = services.catalog.model(chosen or str(body.get("model") or first))
    if model is None:
        raise ConsoleProblem(404, "error.unknown_model")
    owner = Principal(
        key_id=None,
        credential="console",
        user_id=0,
        username=current.session.identity.username,
        role="member",
        department_id=0,
        department=department,
        default_data_class=form.optional("default_data_class", 16),
        use_case=form.optional("use_case", 128),
    )
    declared = form.optional("data_class", 16)
    try:
        decision = services.sovereignty.decide(_endpoint(body), body, owner, model, declared)
    except GatewayError as exc:
        raise ConsoleProblem(exc.status, "error.refused", detail=exc.message) from None
    return render(
        request, "explain_result.html", session=current.session, decision=decision.to_public_dict()
    )
