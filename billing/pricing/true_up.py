"""Month-end true-up of a GPU pool: what it really cost against what requests were charged.

For one pool and one calendar month in the organisation's time zone (a Paris March has 743
hours, an October 745), all amounts in EUR rounded half-even to the cent::

    pool_cost  = round(gpu_count * hours * C)
    dedicated  = the part of pool_cost for GPUs dedicated to departments, by GPU count
    shared     = pool_cost - sum(dedicated)
    transfers  = sum over departments of their transfer lines, in cents as their statements
                 show them (each department's usage is rounded once, see ledger_charges)
    difference = shared - transfers          # > 0: idle capacity, < 0: over-recovered

The difference is either shared across departments in proportion to their weighted tokens
(:attr:`TrueUpMode.SHARE`) or reported as one "unallocated capacity" line
(:attr:`TrueUpMode.UNALLOCATED`). When nobody used the shared GPUs at all there is no
proportion to share by, so the difference is reported as unallocated capacity in both modes.

Guarantee: every split uses the largest-remainder method (:func:`billing.money.allocate`), so
``sum(dedicated) + transfers + sum(true-ups) + unallocated == pool_cost`` exactly, to the
cent, for any usage (including none) and any sign of the difference.

Departments with dedicated GPUs pay for them whole (a ``gpu_time`` line); requests served by
dedicated deployments must not also be billed transfer prices, and are not passed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from billing.money import ZERO, allocate, to_cents
from billing.periods import Period
from billing.pricing.gpu_cost import HOURS_PER_MONTH, GpuPool, period_hours
from billing.reports.rows import ChargeLine, gpu_time_line, true_up_line

ON_PREMISE = "on_premise"


class TrueUpMode(StrEnum):
    """Where the month's idle or over-recovered capacity goes."""

    SHARE = "share"
    UNALLOCATED = "unallocated"


class InvalidTrueUp(ValueError):
    """The true-up inputs contradict each other (duplicate department, too many GPUs...)."""


@dataclass(frozen=True, slots=True)
class DepartmentUsage:
    """A department's use of the pool's shared GPUs during the month.

    ``transfer_charges_eur`` should be what the department's statement shows for the pool
    (the sum of its lines), so that statements add up to the pool's cost.
    """

    department_id: str
    weighted_tokens: Decimal
    transfer_charges_eur: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.weighted_tokens, Decimal) or self.weighted_tokens < 0:
            raise InvalidTrueUp("weighted_tokens must be a non-negative Decimal")
        if not isinstance(self.transfer_charges_eur, Decimal):
            raise InvalidTrueUp("transfer_charges_eur must be a Decimal")


@dataclass(frozen=True, slots=True)
class DepartmentTrueUp:
    """One department's part of the pool's month, every amount in cents."""

    department_id: str
    dedicated_gpus: int
    dedicated_eur: Decimal
    weighted_tokens: Decimal
    transfer_eur: Decimal
    true_up_eur: Decimal
    shares_difference: bool
    """True when this department takes part in sharing the difference."""

    @property
    def total_eur(self) -> Decimal:
        return self.dedicated_eur + self.transfer_eur + self.true_up_eur


@dataclass(frozen=True, slots=True)
class TrueUp:
    """The reconciled month of one pool."""

    pool: str
    pool_version: str
    period: Period
    mode: TrueUpMode
    hours: Decimal
    eur_per_gpu_hour: Decimal
    pool_cost_eur: Decimal
    shared_cost_eur: Decimal
    transfer_total_eur: Decimal
    difference_eur: Decimal
    departments: tuple[DepartmentTrueUp, ...]
    unallocated_eur: Decimal
    gpu_count: int = 0
    cost_breakdown_eur: Mapping[str, Decimal] = field(default_factory=dict)
    """The month's exact cost by component: ``amortisation``, ``energy`` (PUE included),
    ``hosting`` and ``staff``; they add up to the pool cost before it is rounded."""

    @property
    def allocated_total_eur(self) -> Decimal:
        """Sum of every part; equals :attr:`pool_cost_eur` by construction."""
        return sum((d.total_eur for d in self.departments), ZERO) + self.unallocated_eur

    def department(self, department_id: str) -> DepartmentTrueUp:
        """The part of ``department_id`` (KeyError when it has none)."""
        for part in self.departments:
            if part.department_id == department_id:
                return part
        raise KeyError(department_id)

    def charge_lines(
        self, names: Mapping[str, str] | None = None, *, provider: str
    ) -> list[ChargeLine]:
        """The month's dedicated-GPU and true-up lines, ready for statements and FOCUS.

        ``provider`` is the organisation running the pool; ``names`` maps department ids to
        display names (the id is used when absent). Transfer charges are not repeated here:
        they are the usage lines the ledger already produced.
        """
        labels = names or {}
        lines: list[ChargeLine] = []
        for part in self.departments:
            name = labels.get(part.department_id, part.department_id)
            if part.dedicated_gpus:
                lines.append(
                    gpu_time_line(
                        self.period,
                        department_id=part.department_id,
                        department_name=name,
                        model=None,
                        provider=provider,
                        hosting_class=ON_PREMISE,
                        gpu_hours=part.dedicated_gpus * self.hours,
                        eur_per_gpu_hour=self.eur_per_gpu_hour,
                        amount=part.dedicated_eur,
                        price_version=self.pool_version,
                        resource_id=self.pool,
                    )
                )
            if part.shares_difference:
                lines.append(
                    true_up_line(
                        self.period,
                        department_id=part.department_id,
                        department_name=name,
                        provider=provider,
                        hosting_class=ON_PREMISE,
                        amount=part.true_up_eur,
                        price_version=self.pool_version,
                        resource_id=self.pool,
                    )
                )
        if self.mode is TrueUpMode.UNALLOCATED or self.unallocated_eur != 0:
            lines.append(
                true_up_line(
                    self.period,
                    department_id=None,
                    department_name=None,
                    provider=provider,
                    hosting_class=ON_PREMISE,
                    amount=self.unallocated_eur,
                    price_version=self.pool_version,
                    resource_id=self.pool,
                )
            )
        return lines


def true_up(
    pool: GpuPool,
    period: Period,
    usage: Sequence[DepartmentUsage],
    *,
    dedicated: Mapping[str, int] | None = None,
    mode: TrueUpMode = TrueUpMode.SHARE,
    segments: Sequence[tuple[GpuPool, Decimal]] | None = None,
) -> TrueUp:
    """Reconcile ``pool`` over ``period`` (formulas in the module docstring).

    ``usage`` lists the departments that used the pool's shared GPUs; ``dedicated`` maps a
    department to the number of GPUs dedicated to it (see
    :meth:`billing.pricing.gpu_cost.OnPremCostModel.dedicated_gpus`). ``segments`` gives the
    versions of the pool's figures in effect during the month with their hours
    (:meth:`billing.pricing.gpu_cost.OnPremCostModel.pool_segments`); by default ``pool`` holds all
    month. The pool cost is the exact sum over segments, rounded once; segments that cover only
    the elapsed part of a month in progress give that part's cost.
    """
    dedicated_gpus = {dept: gpus for dept, gpus in (dedicated or {}).items() if gpus}
    if any(gpus < 0 for gpus in dedicated_gpus.values()):
        raise InvalidTrueUp("dedicated GPU counts are never negative")
    shared_gpus = pool.gpu_count - sum(dedicated_gpus.values())
    if shared_gpus < 0:
        raise InvalidTrueUp(f"more GPUs dedicated than pool {pool.name!r} has")
    ids = [u.department_id for u in usage]
    if len(set(ids)) != len(ids):
        raise InvalidTrueUp("a department appears twice in the usage")

    parts_of_month = list(segments) if segments else [(pool, period_hours(period))]
    # Hours actually covered: the whole month, or the part of it elapsed for a month in progress.
    hours = sum((h for _, h in parts_of_month), ZERO)
    gpu_hours = sum((Decimal(p.gpu_count) * h for p, h in parts_of_month), ZERO)
    breakdown = _breakdown(parts_of_month)
    exact_cost = sum(breakdown.values(), ZERO)
    rate = exact_cost / gpu_hours if gpu_hours else pool.cost_per_gpu_hour
    pool_cost = to_cents(exact_cost)

    dedicated_ids = sorted(dedicated_gpus)
    dedicated_hours = [dedicated_gpus[d] * hours for d in dedicated_ids]
    *dedicated_parts, shared_cost = allocate(
        pool_cost, [*dedicated_hours, gpu_hours - sum(dedicated_hours, ZERO)]
    )
    dedicated_eur = dict(zip(dedicated_ids, dedicated_parts, strict=True))

    by_id = {u.department_id: u for u in usage}
    transfers = {d: to_cents(u.transfer_charges_eur) for d, u in by_id.items()}
    transfer_total = sum(transfers.values(), ZERO)
    difference = shared_cost - transfer_total

    sharing = sorted(by_id)
    weights = [by_id[d].weighted_tokens for d in sharing]
    shares_by_usage = mode is TrueUpMode.SHARE and sum(weights, ZERO) > 0
    if shares_by_usage:
        true_ups = dict(zip(sharing, allocate(difference, weights), strict=True))
        unallocated = ZERO
    else:
        true_ups = {}
        unallocated = difference

    zero_cents = to_cents(ZERO)
    parts = tuple(
        DepartmentTrueUp(
            department_id=dept,
            dedicated_gpus=dedicated_gpus.get(dept, 0),
            dedicated_eur=dedicated_eur.get(dept, zero_cents),
            weighted_tokens=by_id[dept].weighted_tokens if dept in by_id else ZERO,
            transfer_eur=transfers.get(dept, zero_cents),
            true_up_eur=true_ups.get(dept, zero_cents),
            shares_difference=shares_by_usage and dept in by_id,
        )
        for dept in sorted(set(by_id) | set(dedicated_gpus))
    )
    return TrueUp(
        pool=pool.name,
        pool_version="+".join(dict.fromkeys(p.version_id for p, _ in parts_of_month)),
        period=period,
        mode=mode,
        hours=hours,
        eur_per_gpu_hour=rate,
        pool_cost_eur=pool_cost,
        shared_cost_eur=shared_cost,
        transfer_total_eur=transfer_total,
        difference_eur=difference,
        departments=parts,
        unallocated_eur=to_cents(unallocated),
        gpu_count=max(p.gpu_count for p, _ in parts_of_month),
        cost_breakdown_eur=breakdown,
    )


def _breakdown(segments: Sequence[tuple[GpuPool, Decimal]]) -> dict[str, Decimal]:
    """Exact cost of the segments by component (the terms of ``C``, times GPU-hours)."""
    totals = dict.fromkeys(("amortisation", "energy", "hosting", "staff"), ZERO)
    for pool, hours in segments:
        gpu_hours = Decimal(pool.gpu_count) * hours
        parts = pool.cost_breakdown()
        per_gpu_month = Decimal(pool.gpu_count) * HOURS_PER_MONTH
        totals["amortisation"] += gpu_hours * parts.hardware
        totals["energy"] += gpu_hours * parts.power
        totals["hosting"] += gpu_hours * pool.hosting_eur_per_month / per_gpu_month
        totals["staff"] += gpu_hours * pool.staff_eur_per_month / per_gpu_month
    return totals
