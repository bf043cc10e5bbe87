"""The price book: what one token of an external model costs, version by version.

A price is a :class:`PriceVersion`: prices per million tokens for input, cached input and
output, in the currency the provider bills (EUR, or USD for prices seeded from litellm's map),
in effect from an instant onwards. Guarantees:

* A price change is a *new* version with a later ``effective_from``; versions are never edited,
  so a charge computed at an instant always finds the version it was computed with, and a
  stored ``version_id`` keeps meaning the same prices forever.
* ``version_id`` is derived from the version's content (model, currency, prices, start), so it
  is stable across restarts and machines; ``0.14`` and ``0.140`` give the same id.
* Charges are in EUR. A price in another currency is converted at the configured rate, and that
  rate is recorded on the :class:`Charge`, so a later change of rate rewrites nothing.
* All amounts are ``Decimal``; nothing here rounds. Rounding to the cent happens on statements,
  to the micro-euro in the quota counters (:attr:`Charge.amount_micros`).

Token accounting: ``TokenUsage.input`` counts the *uncached* input tokens only. OpenAI-style
usage reports ``prompt_tokens`` including the cached ones; :meth:`TokenUsage.from_openai` does
the subtraction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from billing.money import InvalidAmount, parse_amount, to_micros

BILLING_CURRENCY = "EUR"
_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)
TOKENS_PER_PRICE_UNIT = 1_000_000
"""Prices are quoted per million tokens."""


class PriceClass(StrEnum):
    """The token classes a price book prices separately."""

    INPUT = "input"
    CACHED_INPUT = "cached_input"
    OUTPUT = "output"


class PriceNotFound(LookupError):
    """No price is in effect for a model at an instant (unknown model, or before its first)."""

    def __init__(self, model: str, instant: datetime | None = None) -> None:
        self.model = model
        self.instant = instant
        when = f" at {instant.isoformat()}" if instant is not None else ""
        super().__init__(f"no price for model {model!r}{when}")


class InvalidPriceConfig(ValueError):
    """A price entry in the configuration is malformed (floats, missing fields, bad dates)."""


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens consumed by one request, by price class. ``input`` excludes cached input."""

    input: int = 0
    cached_input: int = 0
    output: int = 0

    def __post_init__(self) -> None:
        for name in ("input", "cached_input", "output"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} tokens must be a non-negative int, got {value!r}")

    @classmethod
    def from_openai(
        cls, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
    ) -> TokenUsage:
        """Usage from an OpenAI ``usage`` object, where ``prompt_tokens`` includes cached ones."""
        if cached_tokens > prompt_tokens:
            raise ValueError("cached_tokens cannot exceed prompt_tokens")
        return cls(
            input=prompt_tokens - cached_tokens,
            cached_input=cached_tokens,
            output=completion_tokens,
        )

    def of(self, price_class: PriceClass) -> int:
        """Token count of one price class."""
        return int(getattr(self, price_class.value))

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input + other.input,
            self.cached_input + other.cached_input,
            self.output + other.output,
        )


def _canonical(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text if text not in ("-0", "") else "0"


@dataclass(frozen=True, slots=True)
class PriceVersion:
    """Prices of one model per million tokens, in ``currency``, from ``effective_from`` on."""

    model: str
    input_per_million: Decimal
    cached_input_per_million: Decimal
    output_per_million: Decimal
    currency: str
    effective_from: datetime
    source: str = "config"

    def __post_init__(self) -> None:
        if self.effective_from.tzinfo is None:
            raise ValueError("effective_from must be timezone-aware")
        for name in ("input_per_million", "cached_input_per_million", "output_per_million"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a non-negative finite Decimal, got {value!r}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")

    @property
    def version_id(self) -> str:
        """Stable identifier of these exact prices, stored on every ledger record priced by it."""
        start = self.effective_from.astimezone(UTC)
        canonical = "|".join(
            [
                self.model,
                self.currency,
                _canonical(self.input_per_million),
                _canonical(self.cached_input_per_million),
                _canonical(self.output_per_million),
                start.isoformat(),
            ]
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
        return f"{self.model}@{start:%Y-%m-%d}.{digest}"

    def per_million(self, price_class: PriceClass) -> Decimal:
        """Price of one million tokens of ``price_class``, in ``currency``."""
        value: Decimal = getattr(self, f"{price_class.value}_per_million")
        return value


@dataclass(frozen=True, slots=True)
class Charge:
    """The price of one request, in EUR, with everything needed to explain it later."""

    model: str
    usage: TokenUsage
    version_id: str
    currency: str
    fx_rate: Decimal
    """EUR per unit of ``currency`` used for this charge (1 for EUR prices)."""
    unit_prices_eur: Mapping[PriceClass, Decimal]
    """EUR per million tokens of each class, after conversion."""
    amounts_eur: Mapping[PriceClass, Decimal]
    at: datetime

    @property
    def amount_eur(self) -> Decimal:
        """Exact total in EUR (not rounded)."""
        return sum(self.amounts_eur.values(), Decimal(0))

    @property
    def amount_micros(self) -> int:
        """Total in integer micro-euros (half-even), for the quota counters."""
        return to_micros(self.amount_eur)


@dataclass(frozen=True, slots=True)
class PriceBook:
    """All price versions of all external models, plus the exchange rates to EUR.

    ``fx_to_eur`` maps a currency code to the EUR value of one unit (e.g. ``{"USD":
    Decimal("0.92")}``); EUR itself is always 1.
    """

    versions: tuple[PriceVersion, ...]
    fx_to_eur: Mapping[str, Decimal] = field(default_factory=dict)
    fx_history: Mapping[str, tuple[tuple[datetime, Decimal], ...]] = field(default_factory=dict)
    """Dated exchange rates, ``currency -> ((effective_from, EUR per unit), ...)``; a currency
    absent here has the one rate of ``fx_to_eur`` from the beginning."""

    def __post_init__(self) -> None:
        seen: set[tuple[str, datetime]] = set()
        for version in self.versions:
            key = (version.model, version.effective_from)
            if key in seen:
                raise InvalidPriceConfig(
                    f"two prices for {version.model!r} from {version.effective_from.isoformat()}"
                )
            seen.add(key)
        for currency, rate in self.fx_to_eur.items():
            if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
                raise InvalidPriceConfig(f"exchange rate for {currency} must be a positive Decimal")
        for currency, dated in self.fx_history.items():
            if not dated or any(
                not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0
                for _, rate in dated
            ):
                raise InvalidPriceConfig(f"exchange rates for {currency} must be positive Decimals")
        ordered = sorted(self.versions, key=lambda v: (v.model, v.effective_from))
        object.__setattr__(self, "versions", tuple(ordered))
        object.__setattr__(
            self,
            "fx_history",
            {code: tuple(sorted(dated)) for code, dated in self.fx_history.items()},
        )

    def models(self) -> list[str]:
        """Every model with at least one price, sorted."""
        return sorted({v.model for v in self.versions})

    def history(self, model: str) -> list[PriceVersion]:
        """Every version of ``model``, oldest first."""
        return [v for v in self.versions if v.model == model]

    def price_at(self, model: str, instant: datetime) -> PriceVersion:
        """The version of ``model`` in effect at ``instant``: the latest started at or before it."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        in_effect = [v for v in self.history(model) if v.effective_from <= instant]
        if not in_effect:
            raise PriceNotFound(model, instant)
        return in_effect[-1]

    def fx_rate(self, currency: str) -> Decimal:
        """EUR per unit of ``currency`` (the latest dated rate, when rates are dated)."""
        if currency == BILLING_CURRENCY:
            return Decimal(1)
        if currency in self.fx_history:
            return self.fx_history[currency][-1][1]
        try:
            return self.fx_to_eur[currency]
        except KeyError:
            raise InvalidPriceConfig(f"no exchange rate configured for {currency}") from None

    def fx_rate_at(self, currency: str, instant: datetime) -> tuple[Decimal, datetime, datetime]:
        """EUR per unit of ``currency`` at ``instant``, with the interval that rate holds for.

        The first dated rate also applies before its start (there is no earlier figure), so
        every instant has a rate; a later rate never changes what an earlier instant got.
        """
        dated = self.fx_history.get(currency)
        if not dated:
            return self.fx_rate(currency), _BEGINNING, _END
        index = max(0, sum(1 for start, _ in dated if start <= instant) - 1)
        start = _BEGINNING if index == 0 else dated[index][0]
        until = dated[index + 1][0] if index + 1 < len(dated) else _END
        return dated[index][1], start, until

    def charge(self, model: str, usage: TokenUsage, instant: datetime) -> Charge:
        """Price ``usage`` of ``model`` with the version in effect at ``instant``, in EUR."""
        version = self.price_at(model, instant)
        rate = self.fx_rate_at(version.currency, instant)[0]
        unit_prices = {pc: version.per_million(pc) * rate for pc in PriceClass}
        amounts = {pc: unit_prices[pc] * usage.of(pc) / TOKENS_PER_PRICE_UNIT for pc in PriceClass}
        return Charge(
            model=model,
            usage=usage,
            version_id=version.version_id,
            currency=version.currency,
            fx_rate=rate,
            unit_prices_eur=unit_prices,
            amounts_eur=amounts,
            at=instant,
        )

    def with_versions(self, extra: Iterable[PriceVersion]) -> PriceBook:
        """A new book with ``extra`` versions; one with the same model and start replaces it."""
        replaced = {(v.model, v.effective_from): v for v in self.versions}
        for version in extra:
            replaced[(version.model, version.effective_from)] = version
        return PriceBook(tuple(replaced.values()), self.fx_to_eur, self.fx_history)

    @classmethod
    def from_config(
        cls,
        prices: Mapping[str, Mapping[str, object]],
        *,
        fx_to_eur: Mapping[str, object] | None = None,
        tz: ZoneInfo,
        seed: Iterable[PriceVersion] = (),
    ) -> PriceBook:
        """A book from ``seed`` versions (e.g. litellm's map) overridden by configured prices.

        ``prices`` has the configuration's shape: ``{model: {input, cached_input, output,
        currency, effective_from}}`` with amounts as text; ``effective_from`` is a date (local
        midnight in ``tz``) or an ISO 8601 instant with an offset. A configured price replaces a
        seeded one with the same start, and otherwise adds a version.
        """
        rates = {
            code: _amount(rate, f"fx_to_eur.{code}") for code, rate in (fx_to_eur or {}).items()
        }
        configured = [price_version_from_config(m, entry, tz) for m, entry in prices.items()]
        return cls(tuple(seed), rates).with_versions(configured)


def _amount(value: object, where: str) -> Decimal:
    if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
        raise InvalidPriceConfig(f"{where}: give amounts as text, not {type(value).__name__}")
    try:
        return parse_amount(value)
    except InvalidAmount as exc:
        raise InvalidPriceConfig(f"{where}: {exc}") from exc


def _instant(value: object, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day, tzinfo=tz)
    elif isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                day = date.fromisoformat(value.strip())
                parsed = datetime(day.year, day.month, day.day, tzinfo=tz)
            else:
                parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidPriceConfig(f"{where}: not an ISO 8601 date: {value!r}") from exc
    else:
        raise InvalidPriceConfig(f"{where}: effective_from must be a date, got {value!r}")
    if parsed.tzinfo is None:
        raise InvalidPriceConfig(f"{where}: an effective instant needs a UTC offset")
    return parsed.astimezone(UTC)


def price_version_from_config(
    model: str, entry: Mapping[str, object], tz: ZoneInfo
) -> PriceVersion:
    """One configured price (``{input, cached_input, output, currency, effective_from}``).

    ``cached_input`` defaults to the input price and ``currency`` to EUR; ``effective_from`` is
    required, because a price without a start date could silently reprice the past.
    """
    where = f"prices.{model}"
    unknown = set(entry) - {"input", "cached_input", "output", "currency", "effective_from"}
    if unknown:
        raise InvalidPriceConfig(f"{where}: unknown keys {sorted(unknown)}")
    for required in ("input", "output", "effective_from"):
        if required not in entry:
            raise InvalidPriceConfig(f"{where}: missing {required!r}")
    input_price = _amount(entry["input"], f"{where}.input")
    currency = str(entry.get("currency", BILLING_CURRENCY)).upper()
    try:
        return PriceVersion(
            model=model,
            input_per_million=input_price,
            cached_input_per_million=_amount(
                entry.get("cached_input", input_price), f"{where}.cached_input"
            ),
            output_per_million=_amount(entry["output"], f"{where}.output"),
            currency=currency,
            effective_from=_instant(entry["effective_from"], tz, f"{where}.effective_from"),
            source="config",
        )
    except ValueError as exc:
        if isinstance(exc, InvalidPriceConfig):
            raise
        raise InvalidPriceConfig(f"{where}: {exc}") from exc
