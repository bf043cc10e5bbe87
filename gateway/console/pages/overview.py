"""Overview: this month's spend against budget per department, on-premise share, daily use."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from billing import directory
from billing.limits import repo
from billing.limits.nodes import department_of_node
from billing.money import from_micros
from billing.reports.report import Dimension, UsageReport, usage_report
from billing.reports.rollup_reads import SPLIT_EXTERNAL, SPLIT_ON_PREMISE
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


def _sums(report: UsageReport, dim: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Cost (micro-euros), requests and tokens per value of ``dim`` across the buckets."""
    cost: dict[str, int] = defaultdict(int)
    requests: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    for bucket in report.buckets:
        key, figures = bucket.key[dim], bucket.figures
        cost[key] += figures.cost_micro_eur
        requests[key] += figures.requests
        tokens[key] += figures.prompt_tokens + figures.completion_tokens
    return cost, requests, tokens


@router.get("/overview")
async def overview(request: Request) -> Response:
    current = visit(request, "overview")
    services, principal = current.services, current.staff
    department = principal.scope
    period = this_month(services)
    # One report (department x day) feeds every figure of the page: one pass over the data.
    report = await usage_report(
        services.engine,
        period=period,
        group_by=(Dimension.DEPARTMENT, Dimension.DAY),
        department=department,
        deployments=deployment_view(services),
        active_users=False,  # not shown here; counting them was most of the page's time
    )
    cost, _, _ = _sums(report, "department")
    _, requests_per_day, tokens_per_day = _sums(report, "day")
    budgets = await department_budgets(services)
    spent = {name: from_micros(micros) for name, micros in cost.items()}
    names = sorted({n for n in (*spent, *budgets) if department is None or n == department})
    split, total = report.split, report.total
    return render(
        request,
        "overview.html",
        session=current.session,
        page="overview",
        period=period,
        departments=[DepartmentSpend(n, spent.get(n, Decimal(0)), budgets.get(n)) for n in names],
        total=total,
        total_tokens=total.prompt_tokens + total.completion_tokens,
        on_premise_pct=share_pct(split[SPLIT_ON_PREMISE].requests, total.requests),
        external_pct=share_pct(split[SPLIT_EXTERNAL].requests, total.requests),
        requests_per_day=columns(every_day(period.first, period.last, requests_per_day)),
        tokens_per_day=columns(every_day(period.first, period.last, tokens_per_day)),
        alerts=await visible_alerts(services, principal),
    )
