"""Turning a month's grouped ledger rows into charge lines, rounded once per department.

Used by :func:`billing.reports.ledger_charges.month_charges`, which reads the groups and checks the
result against the ledger; the rounding rules are described there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from billing.money import ZERO, allocate, from_micros, round_parts
from billing.periods import Period
from billing.pricing.costing import Costing, PricingKind, VersionPrices
from billing.pricing.gpu_cost import UnknownDeployment
from billing.pricing.price_book import TOKENS_PER_PRICE_UNIT, PriceClass
from billing.pricing.true_up import ON_PREMISE, DepartmentUsage, TrueUp, true_up
from billing.reports.rows import ChargeLine, token_line

MICRO = Decimal("0.000001")
UNKNOWN = "unknown"
USE_CASE_TAG = "use_case"
ONPREM_PREFIX = "onprem:"


@dataclass(frozen=True, slots=True)
class LedgerGroup:
    """The ledger rows of one department x use case x model x deployment x version x rate."""

    department: str
    model: str | None
    deployment: str | None
    version: str | None
    tokens: Mapping[PriceClass, int]
    cost_micros: int
    fx: Decimal | None = None
    requests: int = 0
    use_case: str | None = None


def _fx_of(
    group: LedgerGroup, prices: VersionPrices | None, costing: Costing, period: Period
) -> Decimal:
    """EUR per unit of the version's currency for this group: the rate stored on its rows."""
    if prices is None or prices.currency == "EUR":
        return Decimal(1)
    if group.fx is not None:
        return group.fx
    # Rows written before rates were stored: the rate in effect when the month began.
    return costing.book.fx_rate_at(prices.currency, period.start)[0]


def _class_amounts(
    group: LedgerGroup, unit_prices: Mapping[PriceClass, Decimal] | None
) -> list[tuple[PriceClass, Decimal]]:
    classes = [pc for pc in PriceClass if group.tokens[pc] > 0]
    if not classes:
        # A cost without tokens (Hygie never records one) still has to reach the export, or
        # the lines would not add up to the ledger: it goes on an input line of zero tokens.
        return [(PriceClass.INPUT, from_micros(group.cost_micros))]
    if unit_prices is None:
        weights = [Decimal(group.tokens[pc]) for pc in classes]
    else:
        weights = [unit_prices[pc] * group.tokens[pc] for pc in classes]
    amounts = allocate(from_micros(group.cost_micros), weights, quantum=MICRO)
    return list(zip(classes, amounts, strict=True))


def _blended_price(group: LedgerGroup) -> Decimal:
    """For a version no longer configured: the group's cost over all its tokens, per million."""
    tokens = sum(group.tokens.values())
    if tokens == 0:
        return ZERO
    blended = from_micros(group.cost_micros) * TOKENS_PER_PRICE_UNIT / tokens
    return blended.quantize(MICRO)


@dataclass(frozen=True, slots=True)
class _Pending:
    line: ChargeLine
    pool: str | None
    weighted: Decimal


class ChargeBuilder:
    """Collects the lines of one month and what the true-up needs from them."""

    def __init__(
        self,
        costing: Costing,
        period: Period,
        names: Mapping[str, str],
        cost_period: Period | None = None,
    ) -> None:
        self.costing = costing
        self.period = period
        self.cost_period = cost_period or period
        self.names = names
        self.pending: list[_Pending] = []
        self.unknown: set[str] = set()

    def where(self, group: LedgerGroup, prices: VersionPrices | None) -> tuple[str, str]:
        info = self.costing.deployment(group.deployment) if group.deployment else None
        if info is not None:
            return info.provider, info.hosting_class
        if prices is not None and prices.transfer is not None:
            return self.costing.organisation.name, ON_PREMISE
        return UNKNOWN, UNKNOWN

    def derived(self, group: LedgerGroup) -> VersionPrices | None:
        """For an on-premise version no longer configured (figures edited in place instead of
        dated): the deployment's current weights and pool, with unit prices derived from what
        the ledger charged, so its usage still takes part in the pool's true-up and the token
        classes keep their relative prices."""
        if not (group.version or "").startswith(ONPREM_PREFIX) or group.deployment is None:
            return None
        try:
            rate = self.costing.onprem.rate_at(group.deployment, self.period.start)[0]
        except UnknownDeployment:
            return None
        weights = rate.deployment.weights
        weighted = sum((weights.of(pc) * group.tokens[pc] for pc in PriceClass), ZERO)
        if weighted == 0:
            return None
        per_weighted = from_micros(group.cost_micros) / weighted * TOKENS_PER_PRICE_UNIT
        kind = (
            PricingKind.DEDICATED
            if rate.deployment.dedicated_to is not None
            else PricingKind.TRANSFER_PRICE
        )
        return VersionPrices(
            group.version or UNKNOWN,
            kind,
            {pc: (per_weighted * weights.of(pc)).quantize(MICRO) for pc in PriceClass},
            rate,
        )

    def add(self, group: LedgerGroup) -> None:
        prices = self.costing.prices_of(group.version) if group.version else None
        if prices is None and group.version is not None:
            self.unknown.add(group.version)
            prices = self.derived(group)
        provider, hosting_class = self.where(group, prices)
        rate = prices.transfer if prices is not None else None
        # Only shared (transfer-priced) usage takes part in its pool's true-up.
        pool = (
            rate.pool.name
            if rate and prices and prices.kind is PricingKind.TRANSFER_PRICE
            else None
        )
        fx = _fx_of(group, prices, self.costing, self.period)
        eur_prices = (
            None if prices is None else {pc: p * fx for pc, p in prices.unit_prices.items()}
        )
        foreign = prices is not None and prices.currency != "EUR"
        for price_class, amount in _class_amounts(group, eur_prices):
            tokens = group.tokens[price_class]
            weighted = ZERO if rate is None else rate.deployment.weights.of(price_class) * tokens
            line = token_line(
                self.period,
                department_id=group.department,
                department_name=self.names.get(group.department, group.department),
                model=group.model or UNKNOWN,
                provider=provider,
                hosting_class=hosting_class,
                price_class=price_class,
                tokens=tokens,
                unit_price_per_million=(
                    _blended_price(group) if eur_prices is None else eur_prices[price_class]
                ),
                price_version=group.version or UNKNOWN,
                amount=amount,
                gpu_seconds=ZERO if rate is None else weighted / rate.deployment.capacity,
                resource_id=group.deployment,
                pricing_currency=prices.currency if prices is not None else "EUR",
                pricing_unit_price=prices.unit_prices[price_class] if foreign and prices else None,
                fx_rate=fx if foreign else None,
                requests=group.requests,
                tags={USE_CASE_TAG: group.use_case} if group.use_case else None,
                price_from=prices.effective_from if prices is not None else None,
            )
            self.pending.append(_Pending(line, pool, weighted))

    def rounded(self) -> list[_Pending]:
        """The lines with cent amounts: each department's exact total rounded once, spread
        over its lines by largest remainder."""
        by_department: dict[str, list[int]] = {}
        for index, item in enumerate(self.pending):
            by_department.setdefault(str(item.line.department_id), []).append(index)
        result = list(self.pending)
        for indexes in by_department.values():
            cents = round_parts([self.pending[i].line.amount for i in indexes])
            for i, amount in zip(indexes, cents, strict=True):
                item = self.pending[i]
                result[i] = _Pending(replace(item.line, amount=amount), item.pool, item.weighted)
        return result

    def true_ups(self, lines: list[_Pending]) -> list[TrueUp]:
        # pool -> department -> (weighted tokens, transfer charges as the statement shows them)
        pool_usage: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
        for item in lines:
            if item.pool is None or item.line.department_id is None:
                continue
            by_dept = pool_usage.setdefault(item.pool, {})
            old_weighted, old_cents = by_dept.get(item.line.department_id, (ZERO, ZERO))
            by_dept[item.line.department_id] = (
                old_weighted + item.weighted,
                old_cents + item.line.amount,
            )
        onprem = self.costing.onprem
        results = []
        for name, pool in sorted(onprem.pools.items()):
            usage = [
                DepartmentUsage(dept, weighted, cents)
                for dept, (weighted, cents) in sorted(pool_usage.get(name, {}).items())
            ]
            results.append(
                true_up(
                    pool,
                    self.period,
                    usage,
                    dedicated=onprem.dedicated_gpus(name, self.period.start),
                    mode=self.costing.true_up_mode,
                    segments=onprem.pool_segments(name, self.cost_period),
                )
            )
        return results
