"""What an hour of an on-premise GPU costs, and the transfer price of one request.

Cost per GPU-hour of a pool of ``G`` GPUs (all amounts in EUR, ``Y`` = 8,766 hours, the mean
Julian year of 365.25 days, and ``M = Y / 12`` = 730.5 hours, the mean month)::

    hardware = hardware_eur / (G * amortisation_years * Y)
    power    = watts_per_gpu / 1000 * pue * eur_per_kwh
    fixed    = (hosting_eur_per_month + staff_eur_per_month) / (G * M)
    C        = hardware + power + fixed                      # EUR per GPU-hour

Monthly costs are spread over the *mean* month so that ``C`` is one number all year; the
actual cost of a calendar month is then ``G * hours_in_month * C``, so a 745-hour October
costs two hours more than a 743-hour March (see :mod:`billing.pricing.true_up`).

Transfer price of a request on a deployment (set at request time and stored on the ledger
record with :attr:`TransferRate.version_id`)::

    W     = w_input * input + w_cached * cached_input + w_output * output   # weighted tokens
    s     = W / K                      # GPU-seconds the request used at declared capacity K
                                       # (weighted tokens per GPU-second)
    price = s / u * C / 3600           # u = target utilisation, 0 < u <= 1

Dividing by ``u`` makes the requests of a pool that runs exactly at its target utilisation pay
for the whole pool, idle time included; the monthly true-up settles the difference between
that estimate and the real month. ``billing/COST_MODEL.md`` works one example by hand.

Nothing here rounds: amounts are exact ``Decimal`` values (28 significant digits).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from billing.money import ZERO
from billing.periods import Period
from billing.pricing.price_book import TOKENS_PER_PRICE_UNIT, PriceClass, TokenUsage

HOURS_PER_YEAR = Decimal("8766")
"""Mean Julian year (365.25 days), so leap years need no special case in amortisation."""
HOURS_PER_MONTH = HOURS_PER_YEAR / 12
SECONDS_PER_HOUR = Decimal(3600)
BEGINNING = datetime.min.replace(tzinfo=UTC)
END = datetime.max.replace(tzinfo=UTC)


class InvalidCostModel(ValueError):
    """The on-premise cost configuration is inconsistent (e.g. more GPUs deployed than owned)."""


class UnknownDeployment(LookupError):
    """No on-premise deployment (or pool) with this name is configured."""


def _positive(name: str, value: Decimal, *, allow_zero: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidCostModel(f"{name} must be a finite Decimal, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidCostModel(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def _digest(*parts: object) -> str:
    text = "|".join(format(p, "f") if isinstance(p, Decimal) else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class GpuHourCost:
    """The three components of a pool's cost per GPU-hour, in EUR."""

    hardware: Decimal
    power: Decimal
    fixed: Decimal

    @property
    def total(self) -> Decimal:
        return self.hardware + self.power + self.fixed


@dataclass(frozen=True, slots=True)
class GpuPool:
    """A set of identical GPUs bought, powered, hosted and run together.

    ``hardware_eur`` is the purchase price of everything in the pool (servers, GPUs, network);
    ``watts_per_gpu`` the average draw of one GPU including its share of the host.
    """

    name: str
    gpu_count: int
    hardware_eur: Decimal
    amortisation_years: Decimal
    watts_per_gpu: Decimal
    pue: Decimal
    eur_per_kwh: Decimal
    hosting_eur_per_month: Decimal = ZERO
    staff_eur_per_month: Decimal = ZERO
    effective_from: datetime | None = None
    """When these figures take effect; None for the first version (in effect from the start)."""

    def __post_init__(self) -> None:
        _check_start(self.effective_from)
        if isinstance(self.gpu_count, bool) or not isinstance(self.gpu_count, int):
            raise InvalidCostModel("gpu_count must be an int")
        if self.gpu_count <= 0:
            raise InvalidCostModel(f"pool {self.name!r} needs at least one GPU")
        _positive("amortisation_years", self.amortisation_years)
        _positive("pue", self.pue)
        if self.pue < 1:
            raise InvalidCostModel("a PUE is at least 1")
        for name in (
            "hardware_eur",
            "watts_per_gpu",
            "eur_per_kwh",
            "hosting_eur_per_month",
            "staff_eur_per_month",
        ):
            _positive(name, getattr(self, name), allow_zero=True)

    def cost_breakdown(self) -> GpuHourCost:
        """Hardware, power and fixed cost of one GPU-hour (formulas in the module docstring)."""
        gpus = Decimal(self.gpu_count)
        return GpuHourCost(
            hardware=self.hardware_eur / (gpus * self.amortisation_years * HOURS_PER_YEAR),
            power=self.watts_per_gpu / 1000 * self.pue * self.eur_per_kwh,
            fixed=(self.hosting_eur_per_month + self.staff_eur_per_month)
            / (gpus * HOURS_PER_MONTH),
        )

    @property
    def cost_per_gpu_hour(self) -> Decimal:
        """``C``: EUR per GPU-hour."""
        return self.cost_breakdown().total

    @property
    def version_id(self) -> str:
        """Stable id of this pool's cost parameters."""
        return f"pool:{self.name}." + _digest(
            self.name,
            self.gpu_count,
            self.hardware_eur,
            self.amortisation_years,
            self.watts_per_gpu,
            self.pue,
            self.eur_per_kwh,
            self.hosting_eur_per_month,
            self.staff_eur_per_month,
            *_start_part(self.effective_from),
        )

    def cost_of(self, period: Period, gpus: int | None = None) -> Decimal:
        """Exact cost of ``gpus`` (default: the whole pool) during ``period``."""
        count = self.gpu_count if gpus is None else gpus
        return Decimal(count) * period_hours(period) * self.cost_per_gpu_hour


def _check_start(start: datetime | None) -> None:
    if start is not None and start.tzinfo is None:
        raise InvalidCostModel("effective_from must be timezone-aware")


def _start_part(start: datetime | None) -> tuple[str, ...]:
    # Versions without a start keep the ids they had before figures were dated.
    return () if start is None else (start.astimezone(UTC).isoformat(),)


def period_hours(period: Period) -> Decimal:
    """Length of ``period`` in hours (743 for March 2026 in Paris, 745 for October)."""
    seconds = int((period.end - period.start).total_seconds())
    return Decimal(seconds) / SECONDS_PER_HOUR


@dataclass(frozen=True, slots=True)
class TokenWeights:
    """How much GPU work one token of each class represents, relative to the others."""

    input: Decimal = Decimal(1)
    cached_input: Decimal = Decimal("0.1")
    output: Decimal = Decimal(4)

    def __post_init__(self) -> None:
        for name in ("input", "cached_input", "output"):
            _positive(f"weight {name}", getattr(self, name), allow_zero=True)

    def of(self, price_class: PriceClass) -> Decimal:
        value: Decimal = getattr(self, price_class.value)
        return value

    def weigh(self, usage: TokenUsage) -> Decimal:
        """``W``: the weighted tokens of ``usage``."""
        return sum((self.of(pc) * usage.of(pc) for pc in PriceClass), ZERO)


@dataclass(frozen=True, slots=True)
class Deployment:
    """A model served on ``gpus`` GPUs of a pool, with its declared throughput.

    ``capacity`` is in weighted tokens per GPU-second at full load; ``target_utilisation`` the
    share of time the deployment is expected to be busy. A deployment ``dedicated_to`` a
    department is charged to it whole each month, used or not.
    """

    name: str
    model: str
    pool: str
    gpus: int
    capacity: Decimal
    target_utilisation: Decimal
    weights: TokenWeights = field(default_factory=TokenWeights)
    dedicated_to: str | None = None
    effective_from: datetime | None = None
    """When this capacity and these weights take effect; None for the first version."""

    def __post_init__(self) -> None:
        _check_start(self.effective_from)
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus <= 0:
            raise InvalidCostModel(f"deployment {self.name!r} must occupy at least one GPU")
        _positive("capacity", self.capacity)
        _positive("target_utilisation", self.target_utilisation)
        if self.target_utilisation > 1:
            raise InvalidCostModel("target_utilisation is a fraction in (0, 1]")


@dataclass(frozen=True, slots=True)
class TransferCharge:
    """The transfer price of one request, with what it was computed from."""

    amount_eur: Decimal
    weighted_tokens: Decimal
    gpu_seconds: Decimal
    """GPU-seconds the request used at declared capacity (before dividing by utilisation)."""
    eur_per_gpu_hour: Decimal
    unit_prices_eur: Mapping[PriceClass, Decimal]
    """EUR per million tokens of each class, so a statement line is quantity x unit price."""
    rate_id: str


@dataclass(frozen=True, slots=True)
class TransferRate:
    """The transfer pricing of one deployment on its pool."""

    pool: GpuPool
    deployment: Deployment

    @property
    def eur_per_weighted_token(self) -> Decimal:
        """``C / (3600 * K * u)``."""
        d = self.deployment
        return self.pool.cost_per_gpu_hour / (SECONDS_PER_HOUR * d.capacity * d.target_utilisation)

    def unit_price_eur(self, price_class: PriceClass) -> Decimal:
        """EUR per million tokens of ``price_class``."""
        return (
            self.deployment.weights.of(price_class)
            * self.eur_per_weighted_token
            * (TOKENS_PER_PRICE_UNIT)
        )

    @property
    def version_id(self) -> str:
        """Stable id of the pool cost and deployment parameters behind this rate."""
        d = self.deployment
        return f"onprem:{d.name}." + _digest(
            self.pool.version_id,
            d.name,
            d.model,
            d.gpus,
            d.capacity,
            d.target_utilisation,
            d.weights.input,
            d.weights.cached_input,
            d.weights.output,
            *_start_part(d.effective_from),
        )

    def price(self, usage: TokenUsage) -> TransferCharge:
        """Transfer price of ``usage`` on this deployment (formulas in the module docstring)."""
        d = self.deployment
        weighted = d.weights.weigh(usage)
        gpu_seconds = weighted / d.capacity
        cost_per_hour = self.pool.cost_per_gpu_hour
        amount = gpu_seconds / d.target_utilisation * cost_per_hour / SECONDS_PER_HOUR
        return TransferCharge(
            amount_eur=amount,
            weighted_tokens=weighted,
            gpu_seconds=gpu_seconds,
            eur_per_gpu_hour=cost_per_hour,
            unit_prices_eur={pc: self.unit_price_eur(pc) for pc in PriceClass},
            rate_id=self.version_id,
        )


V = TypeVar("V", GpuPool, Deployment)


def _start(version: GpuPool | Deployment) -> datetime:
    return version.effective_from or BEGINNING


def _in_effect(history: tuple[V, ...], at: datetime) -> tuple[V, datetime, datetime]:
    """The version of ``history`` in effect at ``at`` and the interval it holds for.

    The first version holds from the beginning, whatever its date: there is no earlier figure.
    """
    index = max(0, sum(1 for v in history if _start(v) <= at) - 1)
    start = BEGINNING if index == 0 else _start(history[index])
    until = _start(history[index + 1]) if index + 1 < len(history) else END
    return history[index], start, until


def _histories(versions: Iterable[V]) -> dict[str, tuple[V, ...]]:
    grouped: dict[str, list[V]] = {}
    for version in versions:
        grouped.setdefault(version.name, []).append(version)
    histories: dict[str, tuple[V, ...]] = {}
    for name, group in grouped.items():
        ordered = sorted(group, key=_start)
        starts = [_start(v) for v in ordered]
        if len(set(starts)) != len(starts):
            raise InvalidCostModel(f"two versions of {name!r} take effect at the same instant")
        histories[name] = tuple(ordered)
    return histories


@dataclass(frozen=True, slots=True)
class OnPremCostModel:
    """All GPU pools and the deployments placed on them, checked for consistency.

    ``pools`` and ``deployments`` hold the latest version of each; ``pool_history`` and
    ``deployment_history`` every dated version, oldest first (built from the latest alone when
    not given). Requests are priced with the versions in effect when they started, and a
    month's true-up with the versions in effect during the month, so a new version never
    changes an earlier month.
    """

    pools: Mapping[str, GpuPool]
    deployments: Mapping[str, Deployment]
    pool_history: Mapping[str, tuple[GpuPool, ...]] = field(default_factory=dict)
    deployment_history: Mapping[str, tuple[Deployment, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pools = {**{n: (p,) for n, p in self.pools.items()}, **self.pool_history}
        deployments = {
            **{n: (d,) for n, d in self.deployments.items()},
            **self.deployment_history,
        }
        object.__setattr__(self, "pool_history", pools)
        object.__setattr__(self, "deployment_history", deployments)
        used: dict[str, int] = {}
        for history in deployments.values():
            for deployment in history:
                if deployment.pool not in pools:
                    raise InvalidCostModel(
                        f"deployment {deployment.name!r} is on unknown pool {deployment.pool!r}"
                    )
            latest = history[-1]
            used[latest.pool] = used.get(latest.pool, 0) + max(d.gpus for d in history)
        for name, count in used.items():
            smallest = min(p.gpu_count for p in pools[name])
            if count > smallest:
                raise InvalidCostModel(
                    f"pool {name!r} has {smallest} GPUs, deployments use {count}"
                )

    @classmethod
    def of(cls, pools: Iterable[GpuPool], deployments: Iterable[Deployment]) -> OnPremCostModel:
        """Build from lists, keyed by name; several versions of one name form its history."""
        pool_history = _histories(pools)
        deployment_history = _histories(deployments)
        return cls(
            {n: h[-1] for n, h in pool_history.items()},
            {n: h[-1] for n, h in deployment_history.items()},
            pool_history,
            deployment_history,
        )

    def rate(self, deployment: str) -> TransferRate:
        """The transfer rate of a deployment, with its latest figures."""
        try:
            d = self.deployments[deployment]
        except KeyError:
            raise UnknownDeployment(deployment) from None
        return TransferRate(self.pools[d.pool], d)

    def rate_at(self, deployment: str, at: datetime) -> tuple[TransferRate, datetime, datetime]:
        """The transfer rate of a deployment at ``at``, and the interval it holds for."""
        try:
            history = self.deployment_history[deployment]
        except KeyError:
            raise UnknownDeployment(deployment) from None
        d, d_start, d_until = _in_effect(history, at)
        pool, p_start, p_until = _in_effect(self.pool_history[d.pool], at)
        return TransferRate(pool, d), max(d_start, p_start), min(d_until, p_until)

    def all_rates(self) -> list[TransferRate]:
        """Every rate a request may have been priced with (each pool x deployment version)."""
        return [
            TransferRate(pool, d)
            for history in self.deployment_history.values()
            for d in history
            for pool in self.pool_history[d.pool]
        ]

    def pool_segments(self, pool: str, period: Period) -> list[tuple[GpuPool, Decimal]]:
        """The versions of ``pool`` in effect during ``period``, each with its hours in it."""
        segments: list[tuple[GpuPool, Decimal]] = []
        history = self.pool_history[pool]
        for index, version in enumerate(history):
            start = BEGINNING if index == 0 else _start(version)
            until = _start(history[index + 1]) if index + 1 < len(history) else END
            lo, hi = max(start, period.start), min(until, period.end)
            if lo < hi:
                seconds = Decimal(int((hi - lo).total_seconds()))
                segments.append((version, seconds / SECONDS_PER_HOUR))
        return segments

    def transfer_price(self, deployment: str, usage: TokenUsage) -> TransferCharge:
        """Transfer price of one request served by ``deployment`` (latest figures)."""
        return self.rate(deployment).price(usage)

    def dedicated_gpus(self, pool: str, at: datetime | None = None) -> dict[str, int]:
        """GPUs of ``pool`` dedicated to each department at ``at`` (default: latest figures);
        departments without any are absent."""
        dedicated: dict[str, int] = {}
        for history in self.deployment_history.values():
            d = history[-1] if at is None else _in_effect(history, at)[0]
            if d.pool == pool and d.dedicated_to is not None:
                dedicated[d.dedicated_to] = dedicated.get(d.dedicated_to, 0) + d.gpus
        return dedicated

    def shared_deployments(self, pool: str) -> list[str]:
        """Names of the deployments of ``pool`` whose requests pay transfer prices."""
        return sorted(
            d.name for d in self.deployments.values() if d.pool == pool and d.dedicated_to is None
        )
