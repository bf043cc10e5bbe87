"""Overview: this month's spend against budget per department, on-premise share, daily use."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing import directory
from billing.limits import repo
from billing.limits.nodes import department_of_node
from billing.money import from_micros
from billing.reports.report import SPLIT_EXTERNAL, SPLIT_ON_PREMISE, Dimension, usage_report
from gateway.api.admin_auth import AdminPrincipal
from gateway.api.reports import deployment_view
from gateway.console.charts import columns, every_day, share_pct
from gateway.console.context import visit
from gateway.console.periods import this_month
from gateway.console.rendering import render
from gateway.services import Services

router = APIRouter()


@dataclass(frozen=True, slots=True)
class DepartmentSpend:
    name: str
    spent: Decimal
    budget: Decimal | None

    @property
    def used_pct(self) -> int:
        return share_pct(self.spent, self.budget) if self.budget else 0


def scope_of(principal: AdminPrincipal) -> str | None:
    """The department a principal's figures are limited to (None: the whole organisation)."""
    return None if principal.can_read(None) else principal.department


async def department_budgets(services: Services) -> dict[str, Decimal]:
    """Department name -> its configured budget in euros (departments with one only)."""
    limits = await repo.all_limits(services.engine)
    budgets: dict[str, Decimal] = {}
    for department in await directory.list_departments(services.engine):
        stored = limits.get(repo.department_node(department.id))
        if stored is not None and stored.limits.budget_micro_eur is not None:
            budgets[department.name] = from_micros(stored.limits.budget_micro_eur)
    return budgets


async def visible_alerts(services: Services, principal: AdminPrincipal) -> list[repo.Alert]:
    alerts = await repo.list_alerts(services.engine, limit=20)
    return [
        a
        for a in alerts
        if principal.can_read(await department_of_node(services.engine, a.node_id))
    ]


@router.get("/overview")
async def overview(request: Request) -> Response:
    current = visit(request, "overview")
    services, principal = current.services, current.staff
    department = scope_of(principal)
    period = this_month(services)
    view = deployment_view(services)
    by_department = await usage_report(
        services.engine,
        period=period,
        group_by=(Dimension.DEPARTMENT,),
        department=department,
        deployments=view,
    )
    by_day = await usage_report(
        services.engine, period=period, group_by=(Dimension.DAY,), department=department
    )
    budgets = await department_budgets(services)
    spent = {b.key["department"]: b.figures.cost_eur for b in by_department.buckets}
    names = sorted({n for n in (*spent, *budgets) if department is None or n == department})
    split = by_department.split
    total_tokens = by_department.total.prompt_tokens + by_department.total.completion_tokens
    return render(
        request,
        "overview.html",
        session=current.session,
        page="overview",
        period=period,
        departments=[DepartmentSpend(n, spent.get(n, Decimal(0)), budgets.get(n)) for n in names],
        total=by_department.total,
        total_tokens=total_tokens,
        on_premise_pct=share_pct(split[SPLIT_ON_PREMISE].requests, by_department.total.requests),
        external_pct=share_pct(split[SPLIT_EXTERNAL].requests, by_department.total.requests),
        requests_per_day=columns(
            every_day(
                period.first,
                period.last,
                {b.key["day"]: b.figures.requests for b in by_day.buckets},
            )
        ),
        tokens_per_day=columns(
            every_day(
                period.first,
                period.last,
                {
                    b.key["day"]: b.figures.prompt_tokens + b.figures.completion_tokens
                    for b in by_day.buckets
                },
            )
        ),
        alerts=await visible_alerts(services, principal),
    )
