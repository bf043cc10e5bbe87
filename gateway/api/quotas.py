"""Quota administration (``/admin/quotas``, ``/admin/alerts``) and a caller's view (``/v1/me``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from billing.directory import Principal
from billing.ledger.reconcile import reconcile as reconcile_counters
from billing.limits import repo
from billing.limits.nodes import Node, UnknownNode, department_of_node, resolve_node
from billing.money import from_micros, to_cents, to_micros
from billing.periods import PeriodKind, period_containing
from billing.quotas import (
    FailMode,
    FailPolicy,
    Level,
    NodeLimits,
    NodeUsage,
    QuotaStoreUnavailable,
    RollingWindow,
)
from billing.quotas.amounts import MAX_EUR, MAX_EUR_DECIMALS, MAX_UNITS
from gateway.api import quota_scope
from gateway.api.admin import admin_context, change
from gateway.api.admin_auth import AdminPrincipal
from gateway.api.admin_input import DepartmentName, KeyId, UseCase, Username
from gateway.api.audit import audited, record_change
from gateway.errors import InvalidRequest, NotFound, QuotaUnavailable
from gateway.services import Services

router = APIRouter()

_INT32_MAX = 2**31 - 1


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value, default=str), status, media_type="application/json")


class QuotaSpec(BaseModel):
    """The limits of one node, as an administrator writes them."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    department: DepartmentName | None = None
    use_case: UseCase | None = None
    username: Username | None = None
    key_id: KeyId | None = None
    # Bounded before any arithmetic and inside every database column (PostgreSQL's 32/64-bit
    # integers); the counters hold at most MAX_UNITS of anything.
    budget_eur: Decimal | None = Field(
        default=None,
        ge=0,
        le=MAX_EUR,
        decimal_places=MAX_EUR_DECIMALS,
        allow_inf_nan=False,
        description='e.g. "1500.00"',
    )
    budget_tokens: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    period: PeriodKind | None = None
    rolling_window_s: int | None = Field(default=None, ge=1, le=10 * 366 * 86_400)
    thresholds_pct: tuple[Annotated[int, Field(ge=0, le=1000)], ...] = Field(
        default=(50, 80, 100), max_length=20
    )
    rpm: int | None = Field(default=None, ge=1, le=_INT32_MAX)
    tpm: int | None = Field(default=None, ge=1, le=_INT32_MAX)
    max_concurrent: int | None = Field(default=None, ge=1, le=_INT32_MAX)
    budget_fail_mode: FailMode = FailMode.CLOSED
    rate_fail_mode: FailMode = FailMode.OPEN


def _unknown(spec: QuotaSpec) -> NotFound:
    """The one answer for a node that does not exist or lies outside the caller's scope."""
    if spec.level is Level.USER:
        return NotFound(f"user {spec.username!r} does not exist")
    if spec.level is Level.KEY:
        return NotFound(f"key {spec.key_id!r} does not exist")
    return NotFound(f"department {spec.department!r} does not exist")


def _window(limits: NodeLimits, now: datetime, services: Services) -> Any:
    if limits.period is not None:
        return period_containing(limits.period, now, services.timezone)
    if limits.rolling_window_s is not None:
        return RollingWindow(limits.rolling_window_s)
    return None


def _figures(limits: NodeLimits, usage: NodeUsage | None, window: Any) -> dict[str, Any]:
    """A node's limits and consumption, in euros and tokens (only this node's own figures)."""
    figures: dict[str, Any] = {
        "level": limits.level.value,
        "period": getattr(window, "key", None)
        or (f"rolling {limits.rolling_window_s}s" if limits.rolling_window_s else None),
        "budget_eur": str(to_cents(from_micros(limits.budget_micro_eur)))
        if limits.budget_micro_eur is not None
        else None,
        "budget_tokens": limits.budget_tokens,
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "max_concurrent": limits.max_concurrent,
    }
    if usage is not None:
        spent, held = usage.committed, usage.reserved
        figures |= {
            "spent_eur": str(from_micros(spent.micro_eur)),
            "reserved_eur": str(from_micros(held.micro_eur)),
            "spent_tokens": spent.tokens,
            "reserved_tokens": held.tokens,
            "in_flight": usage.in_flight,
        }
        if limits.budget_micro_eur is not None:
            left = limits.budget_micro_eur - spent.micro_eur - held.micro_eur
            figures["remaining_eur"] = str(from_micros(max(0, left)))
        if limits.budget_tokens is not None:
            figures["remaining_tokens"] = max(0, limits.budget_tokens - spent.tokens - held.tokens)
    return figures


async def _usage(services: Services, limits: NodeLimits, now: datetime) -> tuple[Any, Any]:
    window = _window(limits, now, services)
    if window is None:
        return None, None
    try:
        return window, await services.quotas.store.read(limits.node_id, window, now)
    except QuotaStoreUnavailable:
        raise QuotaUnavailable("Quota counters are unavailable; retry shortly.") from None


@router.get("/v1/me")
async def me(request: Request) -> Response:
    """The caller's identity (whatever the credential: key, token or a front-end acting for
    them), limits and consumption at every level above it."""
    services: Services = request.app.state.services
    owner = await services.authenticator.authenticate(
        request.headers.get("authorization"), request.headers
    )
    return _json(
        {
            "user": owner.username,
            "department": owner.department,
            "use_case": owner.use_case,
            "use_case_standing": services.use_cases.standing_of(owner.use_case),
            "key_id": owner.key_id,
            "role": owner.role,
            "credential": owner.credential.partition(":")[0],
            "front_end_key_id": owner.front_end_key_id,
            "end_user_verified": owner.end_user_verified,
            "limits": await limits_above(services, owner),
        }
    )


async def limits_above(services: Services, owner: Principal) -> list[dict[str, Any]]:
    """The limits and consumption of every configured level above ``owner``'s key."""
    now = datetime.now(UTC)
    levels = []
    for limits in services.quotas.chain_for(owner):
        window, usage = await _usage(services, limits, now)
        levels.append(_figures(limits, usage, window))
    return levels


@router.put("/admin/quotas", openapi_extra=audited("quota.set"))
async def set_quota(body: QuotaSpec, request: Request) -> Response:
    """Create or replace a node's limits; they apply to new requests within seconds."""
    services, principal = await admin_context(request)
    node, limits = await save_quota(request, services, principal, body)
    return _json({"node_id": node.node_id, "label": node.label, **_figures(limits, None, None)})


async def save_quota(
    request: Request, services: Services, principal: AdminPrincipal, body: QuotaSpec
) -> tuple[Node, NodeLimits]:
    """Check and store a node's limits, then reload them (the API's and the console's path)."""
    try:
        node = await resolve_node(
            services.engine,
            body.level,
            department=body.department,
            use_case=body.use_case,
            username=body.username,
            key_id=body.key_id,
        )
    except UnknownNode:
        raise _unknown(body) from None
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="level") from None
    quota_scope.in_scope(principal, node, _unknown(body))
    try:
        limits = NodeLimits(
            node_id=node.node_id,
            level=node.level,
            budget_micro_eur=to_micros(body.budget_eur) if body.budget_eur is not None else None,
            budget_tokens=body.budget_tokens,
            period=body.period,
            rolling_window_s=body.rolling_window_s,
            thresholds_pct=body.thresholds_pct,
            rpm=body.rpm,
            tpm=body.tpm,
            max_concurrent=body.max_concurrent,
            fail_policy=FailPolicy(
                budget_eur=body.budget_fail_mode,
                budget_tokens=body.budget_fail_mode,
                rpm=body.rate_fail_mode,
                tpm=body.rate_fail_mode,
                concurrency=body.rate_fail_mode,
            ),
        )
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    await quota_scope.check_setting(services.engine, principal, node, limits)
    department = await department_of_node(services.engine, node.node_id)
    async with change(
        services,
        request,
        principal,
        "quota.set",
        node.node_id,
        after={"label": node.label, **_figures(limits, None, None)},
        department=department,
    ) as made:
        previous = await repo.get_limits(made.connection, node.node_id)
        made.before = None if previous is None else _figures(previous.limits, None, None)
        await repo.save_limits(made.connection, limits, label=node.label)
    await services.quotas.reload_limits()
    # The counters are rebuilt from the ledger: records not yet stored would be forgotten.
    await services.ledger.flush()
    await services.quotas.rebuild_from_ledger()
    return node, limits


@router.get("/admin/quotas")
async def list_quotas(request: Request) -> Response:
    """Configured limits with the current consumption of each node."""
    services, principal = await admin_context(request)
    return _json({"data": await quota_rows(services, principal)})


async def quota_rows(services: Services, principal: AdminPrincipal) -> list[dict[str, Any]]:
    """The limits the principal may see, each with its node's current consumption."""
    now = datetime.now(UTC)
    rows = []
    for node_id, stored in sorted((await repo.all_limits(services.engine)).items()):
        if not principal.can_read(await department_of_node(services.engine, node_id)):
            continue
        window, usage = await _usage(services, stored.limits, now)
        rows.append(
            {"node_id": node_id, "label": stored.label, **_figures(stored.limits, usage, window)}
        )
    return rows


@router.delete("/admin/quotas/{node_id}", openapi_extra=audited("quota.delete"))
async def delete_quota(node_id: str, request: Request) -> Response:
    services, principal = await admin_context(request)
    if not repo.is_node_id(node_id):
        raise InvalidRequest("not a quota node id", param="node_id")
    await quota_scope.check_removal(services.engine, principal, node_id)
    department = await department_of_node(services.engine, node_id)
    async with change(
        services, request, principal, "quota.delete", node_id, department=department
    ) as made:
        previous = await repo.get_limits(made.connection, node_id)
        if previous is None or not await repo.delete_limits(made.connection, node_id):
            raise quota_scope.no_limits(node_id)
        made.before = {"label": previous.label, **_figures(previous.limits, None, None)}
    await services.quotas.reload_limits()
    return _json({"node_id": node_id, "deleted": True})


@router.get("/admin/quotas/reconcile")
async def reconcile(request: Request) -> Response:
    """Drift between the live counters and the ledger (the source of truth), per node."""
    services, principal = await admin_context(request)
    principal.require_read(None)
    await services.ledger.flush()
    limits = await repo.all_limits(services.engine)
    try:
        drifts = await reconcile_counters(
            services.engine, services.quotas.store, limits, services.timezone, datetime.now(UTC)
        )
    except QuotaStoreUnavailable:
        raise QuotaUnavailable("Quota counters are unavailable; retry shortly.") from None
    rows = [
        {
            **{name: getattr(d, name) for name in d.__slots__},
            "drift_micro_eur": d.drift_micro_eur,
            "drift_tokens": d.drift_tokens,
        }
        for d in drifts
    ]
    return _json({"data": rows, "in_sync": all(d.in_sync for d in drifts)})


@router.post("/admin/quotas/rebuild", openapi_extra=audited("quota.rebuild"))
async def rebuild(request: Request) -> Response:
    """Reset the counters of the current periods to what the ledger says."""
    services, principal = await admin_context(request)
    principal.require_write(None)
    await services.ledger.flush()
    await services.quotas.rebuild_from_ledger()
    await record_change(request, principal, "quota.rebuild", "counters", after={"rebuilt": True})
    return _json({"rebuilt": True})


@router.get("/admin/alerts")
async def alerts(request: Request, limit: int = 100) -> Response:
    """Budget threshold alerts, newest first (one per threshold, node and period)."""
    services, principal = await admin_context(request)
    rows = []
    for alert in await repo.list_alerts(services.engine, limit=max(1, min(limit, 1000))):
        if principal.can_read(await department_of_node(services.engine, alert.node_id)):
            rows.append(alert)
    return _json({"data": [_alert_dict(a) for a in rows]})


def _alert_dict(alert: repo.Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in alert.__slots__}
