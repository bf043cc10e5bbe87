"""My usage: what I consumed this month, my limits and what remains, my keys, my models."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing import directory
from billing.directory import Principal
from billing.reports.report import Dimension, usage_report
from gateway.api.quotas import limits_above
from gateway.console.context import change, visit
from gateway.console.pages.models import models_for
from gateway.console.pages.organisation import revoke
from gateway.console.periods import this_month
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.errors import QuotaUnavailable
from gateway.services import Services

router = APIRouter()


async def owner_of(services: Services, username: str) -> Principal:
    """The signed-in user as the quota chain sees a caller (without a particular key)."""
    user = await directory.find_user(services.engine, username)
    if user is None:
        raise ConsoleProblem(404, "error.not_found")
    name = await directory.department_name(services.engine, user.department_id) or ""
    department = await directory.find_department(services.engine, name)
    return Principal(
        key_id=None,
        user_id=user.id,
        username=user.username,
        role=user.role,
        department_id=user.department_id,
        department=name,
        default_data_class=department.default_data_class if department else None,
        use_case=None,
    )


@router.get("/me")
async def my_usage(request: Request) -> Response:
    current = visit(request, "me")
    services = current.services
    identity = current.session.identity
    if identity.method == "break-glass":
        return render(request, "me.html", session=current.session, page="me", owner=None)
    owner = await owner_of(services, identity.username)
    report = await usage_report(
        services.engine,
        period=this_month(services),
        group_by=(Dimension.USER, Dimension.MODEL),
        department=owner.department,
    )
    mine = [b for b in report.buckets if b.key["user"] == owner.username]
    try:
        limits = await limits_above(services, owner)
    except QuotaUnavailable:
        limits = []
    keys = [
        k
        for k in await directory.list_keys(services.engine, department=owner.department)
        if k.username == owner.username and k.revoked_at is None
    ]
    return render(
        request,
        "me.html",
        session=current.session,
        page="me",
        owner=owner,
        usage=mine,
        limits=limits,
        keys=keys,
        models=models_for(services.catalog, owner.department),
        done=request.query_params.get("done") == "revoked",
    )


@router.post("/me/keys/revoke")
async def revoke_my_key(request: Request) -> Response:
    """Anyone may revoke their own key (a leaked key must be stoppable by its owner)."""
    current, form = await change(request, "me")
    key = await directory.find_key(current.services.engine, form.text("key_id", 32))
    if key is None or key.username != current.session.identity.username:
        raise ConsoleProblem(404, "error.not_found")
    await revoke(current, key)
    return with_security_headers(RedirectResponse(f"{console_base(request)}/me?done=revoked", 303))
