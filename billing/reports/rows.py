"""Charge lines: the plain rows every finance export is built from.

One :class:`ChargeLine` is one charge period x department x model x token class, as the
ledger queries aggregate them. The FOCUS export (:mod:`billing.reports.focus`) and the chargeback
statement (:mod:`billing.reports.chargeback`) both read these rows and nothing else.

Guarantees checked on construction:

* periods are timezone-aware with ``start < end`` (stored in UTC);
* amounts, quantities and prices are ``Decimal`` (never float);
* a usage line (input, cached input, output, GPU time) has a quantity, a unit and a unit price;
  a true-up line is an adjustment and may have none.

Quantities are in *pricing units*: millions of tokens (``"1000000 Tokens"``, because the price
book quotes per million) or GPU-hours; the raw count travels in ``consumed_quantity``
(tokens, GPU-seconds). ``amount`` is exact, as summed from the ledger; statements round it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from billing.periods import Period
from billing.pricing.price_book import TOKENS_PER_PRICE_UNIT, Charge, PriceClass

TOKEN_PRICING_UNIT = f"{TOKENS_PER_PRICE_UNIT} Tokens"
TOKEN_CONSUMED_UNIT = "Tokens"
GPU_PRICING_UNIT = "GPU-Hours"
GPU_CONSUMED_UNIT = "GPU-Seconds"


class TokenClass(StrEnum):
    """What a line charges for."""

    INPUT = "input"
    CACHED_INPUT = "cached_input"
    OUTPUT = "output"
    GPU_TIME = "gpu_time"
    """GPUs dedicated to one department, charged whole."""
    TRUE_UP = "true_up"
    """The department's share of the month's idle or over-recovered capacity."""
    CORRECTION = "correction"
    """An amount that corrects a closed month, booked in a later open month."""

    @property
    def is_usage(self) -> bool:
        """True for every class but the adjustments (true-up, correction)."""
        return self not in (TokenClass.TRUE_UP, TokenClass.CORRECTION)

    @classmethod
    def of(cls, price_class: PriceClass) -> TokenClass:
        """The line class for a price-book token class."""
        return cls(price_class.value)


def _check_decimal(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, got {value!r}")


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One aggregated charge (see the module docstring for units)."""

    period_start: datetime
    period_end: datetime
    department_id: str | None
    """None only for the "unallocated capacity" line of a true-up."""
    department_name: str | None
    model: str | None
    provider: str
    """Who provides the service: the provider's name, or the hospital for on-premise models."""
    hosting_class: str
    token_class: TokenClass
    quantity: Decimal | None
    unit: str | None
    unit_price: Decimal | None
    """EUR per ``unit``."""
    amount: Decimal
    """EUR, exact."""
    price_version: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    gpu_seconds: Decimal = Decimal(0)
    consumed_quantity: Decimal | None = None
    consumed_unit: str | None = None
    publisher: str | None = None
    """Who made the model (e.g. "Mistral AI"); defaults to ``provider`` in exports."""
    resource_id: str | None = None
    """The deployment or GPU pool behind the line."""
    description: str | None = None
    pricing_currency: str = "EUR"
    """The currency the price is quoted in (USD for some external providers)."""
    pricing_unit_price: Decimal | None = None
    """``unit_price`` in ``pricing_currency`` (None: the same as ``unit_price``, in EUR)."""
    fx_rate: Decimal | None = None
    """EUR per unit of ``pricing_currency`` used for this line (None for EUR prices)."""
    requests: int | None = None
    """How many requests the line aggregates (usage lines from the ledger)."""
    corrects: str | None = None
    """For a correction: the key (``YYYY-MM``) of the closed month it corrects."""
    price_from: datetime | None = None
    """When the line's price version took effect (shown on statements as its date)."""

    def __post_init__(self) -> None:
        for name in ("period_start", "period_end"):
            instant = getattr(self, name)
            if not isinstance(instant, datetime) or instant.tzinfo is None:
                raise ValueError(f"{name} must be a timezone-aware datetime")
            object.__setattr__(self, name, instant.astimezone(UTC))
        if self.period_start >= self.period_end:
            raise ValueError("a charge period must end after it starts")
        if not isinstance(self.token_class, TokenClass):
            object.__setattr__(self, "token_class", TokenClass(self.token_class))
        _check_decimal("amount", self.amount, optional=False)
        _check_decimal("gpu_seconds", self.gpu_seconds, optional=False)
        for name in ("quantity", "unit_price", "consumed_quantity"):
            _check_decimal(name, getattr(self, name), optional=True)
        if self.token_class.is_usage:
            if self.quantity is None or self.unit is None or self.unit_price is None:
                raise ValueError("a usage line needs a quantity, a unit and a unit price")
            if self.quantity < 0 or self.unit_price < 0:
                raise ValueError("usage quantities and unit prices are never negative")
        if self.department_id is None and self.token_class is not TokenClass.TRUE_UP:
            raise ValueError("only a true-up line may have no department")
        if (self.corrects is not None) != (self.token_class is TokenClass.CORRECTION):
            raise ValueError("a correction line, and only one, names the month it corrects")

    @property
    def is_usage(self) -> bool:
        return self.token_class.is_usage


def token_line(
    period: Period,
    *,
    department_id: str,
    department_name: str,
    model: str,
    provider: str,
    hosting_class: str,
    price_class: PriceClass,
    tokens: int,
    unit_price_per_million: Decimal,
    price_version: str,
    amount: Decimal | None = None,
    gpu_seconds: Decimal = Decimal(0),
    tags: Mapping[str, str] | None = None,
    publisher: str | None = None,
    resource_id: str | None = None,
    pricing_currency: str = "EUR",
    pricing_unit_price: Decimal | None = None,
    fx_rate: Decimal | None = None,
    requests: int | None = None,
    price_from: datetime | None = None,
) -> ChargeLine:
    """A line for ``tokens`` tokens of one class, priced per million tokens.

    ``amount`` defaults to quantity x unit price; pass the ledger's sum when it differs (e.g.
    per-request amounts stored in micro-euros). A price quoted in another currency gives its
    ``pricing_currency``, ``pricing_unit_price`` and the ``fx_rate`` to EUR used.
    """
    quantity = Decimal(tokens) / TOKENS_PER_PRICE_UNIT
    return ChargeLine(
        period_start=period.start,
        period_end=period.end,
        department_id=department_id,
        department_name=department_name,
        model=model,
        provider=provider,
        hosting_class=hosting_class,
        token_class=TokenClass.of(price_class),
        quantity=quantity,
        unit=TOKEN_PRICING_UNIT,
        unit_price=unit_price_per_million,
        amount=quantity * unit_price_per_million if amount is None else amount,
        price_version=price_version,
        tags=dict(tags or {}),
        gpu_seconds=gpu_seconds,
        consumed_quantity=Decimal(tokens),
        consumed_unit=TOKEN_CONSUMED_UNIT,
        publisher=publisher,
        resource_id=resource_id,
        pricing_currency=pricing_currency,
        pricing_unit_price=pricing_unit_price,
        fx_rate=fx_rate,
        requests=requests,
        price_from=price_from,
    )


def token_lines_from_charges(
    period: Period,
    charges: Iterable[Charge],
    *,
    department_id: str,
    department_name: str,
    provider: str,
    hosting_class: str,
    publisher: str | None = None,
) -> list[ChargeLine]:
    """Aggregate one department's price-book charges into lines, in memory.

    One line per model x price version x EUR unit price x token class (a price or exchange
    rate change within the month gives separate lines); classes without tokens are left out.
    The database path should group the same way in SQL.
    """
    groups: dict[tuple[str, str, PriceClass, Decimal], list[Charge]] = {}
    for charge in charges:
        if not period.contains(charge.at):
            raise ValueError(f"charge at {charge.at.isoformat()} is outside {period.key}")
        for price_class in PriceClass:
            key = (
                charge.model,
                charge.version_id,
                price_class,
                charge.unit_prices_eur[price_class],
            )
            groups.setdefault(key, []).append(charge)
    lines: list[ChargeLine] = []
    for (model, version, price_class, unit_price), members in sorted(groups.items()):
        tokens = sum(c.usage.of(price_class) for c in members)
        if tokens == 0:
            continue
        lines.append(
            token_line(
                period,
                department_id=department_id,
                department_name=department_name,
                model=model,
                provider=provider,
                hosting_class=hosting_class,
                price_class=price_class,
                tokens=tokens,
                unit_price_per_million=unit_price,
                price_version=version,
                amount=sum((c.amounts_eur[price_class] for c in members), Decimal(0)),
                publisher=publisher,
            )
        )
    return lines


def gpu_time_line(
    period: Period,
    *,
    department_id: str,
    department_name: str,
    model: str | None,
    provider: str,
    hosting_class: str,
    gpu_hours: Decimal,
    eur_per_gpu_hour: Decimal,
    amount: Decimal,
    price_version: str,
    resource_id: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ChargeLine:
    """A line for GPUs dedicated to a department: ``gpu_hours`` at the pool's hourly cost.

    ``amount`` is the cent-exact share computed by the true-up, so statements reconcile.
    """
    return ChargeLine(
        period_start=period.start,
        period_end=period.end,
        department_id=department_id,
        department_name=department_name,
        model=model,
        provider=provider,
        hosting_class=hosting_class,
        token_class=TokenClass.GPU_TIME,
        quantity=gpu_hours,
        unit=GPU_PRICING_UNIT,
        unit_price=eur_per_gpu_hour,
        amount=amount,
        price_version=price_version,
        tags=dict(tags or {}),
        gpu_seconds=gpu_hours * 3600,
        consumed_quantity=gpu_hours * 3600,
        consumed_unit=GPU_CONSUMED_UNIT,
        resource_id=resource_id,
        description=f"Dedicated GPU time, {resource_id or 'pool'}",
    )


def true_up_line(
    period: Period,
    *,
    department_id: str | None,
    department_name: str | None,
    provider: str,
    hosting_class: str,
    amount: Decimal,
    price_version: str,
    resource_id: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ChargeLine:
    """The month-end adjustment: a share of idle (positive) or over-recovered (negative) cost.

    With ``department_id=None`` it is the pool's "unallocated capacity" line.
    """
    what = "Unallocated capacity" if department_id is None else "Capacity true-up"
    return ChargeLine(
        period_start=period.start,
        period_end=period.end,
        department_id=department_id,
        department_name=department_name,
        model=None,
        provider=provider,
        hosting_class=hosting_class,
        token_class=TokenClass.TRUE_UP,
        quantity=None,
        unit=None,
        unit_price=None,
        amount=amount,
        price_version=price_version,
        tags=dict(tags or {}),
        resource_id=resource_id,
        description=f"{what}, {resource_id or 'GPU pool'}",
    )


def correction_line(
    period: Period,
    *,
    department_id: str,
    department_name: str,
    provider: str,
    amount: Decimal,
    corrects: str,
    reason: str,
) -> ChargeLine:
    """A correction of closed month ``corrects`` (``YYYY-MM``), booked in ``period``."""
    return ChargeLine(
        period_start=period.start,
        period_end=period.end,
        department_id=department_id,
        department_name=department_name,
        model=None,
        provider=provider,
        hosting_class="correction",
        token_class=TokenClass.CORRECTION,
        quantity=None,
        unit=None,
        unit_price=None,
        amount=amount,
        price_version=None,
        corrects=corrects,
        description=f"Correction of {corrects}: {reason}",
    )
