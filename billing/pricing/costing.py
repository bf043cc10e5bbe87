"""The price of one request, computed when it ends and stored on its ledger record.

:meth:`Costing.price_request` decides, per catalog deployment, which of the cost model's two
regimes applies (``billing/COST_MODEL.md``):

* ``token_price``: external deployments (anything but an on-premise vLLM deployment with GPUs)
  are priced from the price book, by the deployment's name if it has a price, else by the
  model's; the version in effect at the request's start is the one recorded.
* ``transfer_price``: on-premise vLLM deployments on a GPU pool pay the transfer price.
* ``dedicated``: on-premise deployments dedicated to a department cost nothing per request;
  the department pays the GPUs whole on the month's statement.
* ``unpriced``: an unknown model or deployment, or one without a price at that instant. The
  request costs 0 with version ``"unpriced"`` and is counted (:meth:`Costing.unpriced_counts`)
  so an operator can see that a price is missing.

Guarantees: the micro-euro amount equals :attr:`billing.pricing.price_book.Charge.amount_micros` and
``to_micros(TransferCharge.amount_eur)`` for the same usage (same operations in the same order,
rounded half-even once, to the micro-euro); a call never raises for unknown names. Speed: the
tariff of a (model, deployment) pair is cached with the interval in which its price version is
in effect, so a call is a dict lookup, two comparisons and a few ``Decimal`` products.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from billing.money import ZERO, to_micros
from billing.pricing.gpu_cost import SECONDS_PER_HOUR, OnPremCostModel, TransferRate
from billing.pricing.price_book import PriceBook, PriceClass, PriceVersion
from billing.pricing.true_up import TrueUpMode
from billing.reports.focus import FocusAccount
from billing.usage import Usage

UNPRICED_VERSION = "unpriced"
DEDICATED_PREFIX = "dedicated."
_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)


class PricingKind(StrEnum):
    """How a request was priced (see the module docstring)."""

    TOKEN_PRICE = "token_price"
    TRANSFER_PRICE = "transfer_price"
    DEDICATED = "dedicated"
    UNPRICED = "unpriced"


class RequestCost(NamedTuple):
    """The cost of one request: what the ledger stores (``micro_eur``, ``version`` and, for a
    price in another currency, the ``fx_rate`` to EUR it was converted at)."""

    micro_eur: int
    version: str
    kind: PricingKind
    fx_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Organisation:
    """The hospital running Hygie: provider of on-premise models, FOCUS billing account."""

    name: str
    billing_account_id: str
    billing_account_name: str
    invoice_issuer_name: str


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    """One catalog deployment as the cost reports see it."""

    model: str
    deployment: str
    hosting_class: str
    provider: str
    pricing: PricingKind


@dataclass(frozen=True, slots=True)
class VersionPrices:
    """What a price version stored on the ledger means, for the month's charge lines.

    ``unit_prices`` are per million tokens of each class in ``currency``; the month's lines
    convert them at the rate stored on each ledger row (a later rate rewrites nothing).
    ``transfer`` is set for on-premise versions (pool, weights, dedicated department).
    """

    version: str
    kind: PricingKind
    unit_prices: Mapping[PriceClass, Decimal]
    transfer: TransferRate | None = None
    currency: str = "EUR"
    effective_from: datetime | None = None
    """When the version took effect (None: from the beginning)."""


class _Tariff:
    """The price of a (model, deployment) pair during ``[valid_from, valid_until)``."""

    __slots__ = ("valid_from", "valid_until")

    def __init__(self, valid_from: datetime, valid_until: datetime) -> None:
        self.valid_from = valid_from
        self.valid_until = valid_until

    def cost(self, input_tokens: int, cached: int, output: int) -> RequestCost:
        raise NotImplementedError


class _Fixed(_Tariff):
    __slots__ = ("result",)

    def __init__(self, result: RequestCost, valid_from: datetime, valid_until: datetime) -> None:
        super().__init__(valid_from, valid_until)
        self.result = result

    def cost(self, input_tokens: int, cached: int, output: int) -> RequestCost:
        return self.result


class _TokenPrice(_Tariff):
    # EUR per million tokens is micro-euros per token, so the sum below is the charge in
    # micro-euros with no scaling, exactly as PriceBook.charge computes it in euros.
    __slots__ = ("cached", "fx", "input", "output", "version")

    def __init__(
        self, version: PriceVersion, fx: Decimal, valid_from: datetime, valid_until: datetime
    ) -> None:
        super().__init__(valid_from, valid_until)
        self.version = version.version_id
        self.fx = fx if version.currency != "EUR" else None
        self.input = version.input_per_million * fx
        self.cached = version.cached_input_per_million * fx
        self.output = version.output_per_million * fx

    def cost(self, input_tokens: int, cached: int, output: int) -> RequestCost:
        micros = self.input * input_tokens + self.cached * cached + self.output * output
        return RequestCost(
            int(micros.to_integral_value(rounding=ROUND_HALF_EVEN)),
            self.version,
            PricingKind.TOKEN_PRICE,
            self.fx,
        )


class _TransferPrice(_Tariff):
    # Same operations, in the same order, as TransferRate.price, so the amounts agree exactly.
    __slots__ = ("capacity", "cost_per_hour", "rate_id", "utilisation", "w_cached", "w_in", "w_out")

    def __init__(self, rate: TransferRate, valid_from: datetime, valid_until: datetime) -> None:
        super().__init__(valid_from, valid_until)
        d = rate.deployment
        self.rate_id = rate.version_id
        self.w_in, self.w_cached, self.w_out = (
            d.weights.input,
            d.weights.cached_input,
            d.weights.output,
        )
        self.capacity = d.capacity
        self.utilisation = d.target_utilisation
        self.cost_per_hour = rate.pool.cost_per_gpu_hour

    def cost(self, input_tokens: int, cached: int, output: int) -> RequestCost:
        weighted = ZERO + self.w_in * input_tokens + self.w_cached * cached + self.w_out * output
        gpu_seconds = weighted / self.capacity
        amount = gpu_seconds / self.utilisation * self.cost_per_hour / SECONDS_PER_HOUR
        return RequestCost(to_micros(amount), self.rate_id, PricingKind.TRANSFER_PRICE)


_UNPRICED = RequestCost(0, UNPRICED_VERSION, PricingKind.UNPRICED)


class Costing:
    """Prices requests and explains stored price versions; built by ``build_costing``.

    Holds a per-instance cache and unpriced counters (no module state); one instance lives in
    the gateway's services for the process's lifetime.
    """

    __slots__ = (
        "_by_model",
        "_by_pair",
        "_cache",
        "_unpriced",
        "_versions",
        "book",
        "cost_centres",
        "deployments",
        "onprem",
        "organisation",
        "true_up_mode",
        "tz",
    )

    def __init__(
        self,
        *,
        book: PriceBook,
        onprem: OnPremCostModel,
        deployments: Iterable[DeploymentInfo],
        organisation: Organisation,
        true_up_mode: TrueUpMode = TrueUpMode.SHARE,
        tz: ZoneInfo,
        cost_centres: Mapping[str, str] | None = None,
    ) -> None:
        self.book = book
        self.cost_centres: Mapping[str, str] = dict(cost_centres or {})
        self.onprem = onprem
        self.deployments: tuple[DeploymentInfo, ...] = tuple(deployments)
        self.organisation = organisation
        self.true_up_mode = true_up_mode
        self.tz = tz
        self._by_pair: dict[tuple[str | None, str | None], DeploymentInfo] = {
            (d.model, d.deployment): d for d in self.deployments
        }
        self._by_model: dict[str, list[DeploymentInfo]] = {}
        for info in self.deployments:
            self._by_model.setdefault(info.model, []).append(info)
        self._cache: dict[tuple[str | None, str | None], _Tariff] = {}
        self._unpriced: Counter[tuple[str | None, str | None]] = Counter()
        self._versions = self._index_versions()

    def price_request(
        self, model: str | None, deployment: str | None, usage: Usage, at: datetime
    ) -> RequestCost:
        """The cost of a request of ``model`` served by ``deployment`` that started ``at``.

        ``at`` must be timezone-aware. Cached tokens beyond the prompt are capped at the
        prompt (a server's inconsistent figures must not make a negative input count).
        """
        pair = (model, deployment)
        tariff = self._cache.get(pair)
        if tariff is None or not tariff.valid_from <= at < tariff.valid_until:
            info = self._by_pair.get(pair)
            if info is None:
                self._unpriced[(None, None)] += 1
                return _UNPRICED
            tariff = self._cache[pair] = self._tariff(info, at)
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cost = tariff.cost(usage.prompt_tokens - cached, cached, usage.completion_tokens)
        if cost.kind is PricingKind.UNPRICED:
            self._unpriced[pair] += 1
        return cost

    def worst_case_micro_eur(
        self, model: str, prompt_tokens: int, output_tokens: int, at: datetime | None = None
    ) -> int:
        """The most a request of ``model`` can cost on any of its deployments, for quota holds.

        Prompt tokens are priced as uncached. Rounding to the micro-euro is monotonic, so a
        request that uses no more tokens than this is never charged more. Not counted as
        unpriced when the model has no price (the hold is then 0).
        """
        instant = at if at is not None else datetime.now(UTC)
        worst = 0
        for info in self._by_model.get(model, ()):
            pair = (info.model, info.deployment)
            tariff = self._cache.get(pair)
            if tariff is None or not tariff.valid_from <= instant < tariff.valid_until:
                tariff = self._cache[pair] = self._tariff(info, instant)
            worst = max(worst, tariff.cost(prompt_tokens, 0, output_tokens).micro_eur)
        return worst

    def unpriced_counts(self) -> dict[tuple[str | None, str | None], int]:
        """Unpriced requests since start, by (model, deployment); ``(None, None)`` for names
        not in the catalog (lumped together so arbitrary names cannot grow the counter)."""
        return dict(self._unpriced)

    def deployment_view(self) -> dict[str, tuple[str, str]]:
        """Deployment name -> (provider, hosting class), for the usage reports."""
        return {d.deployment: (d.provider, d.hosting_class) for d in self.deployments}

    def deployment(self, name: str) -> DeploymentInfo | None:
        """The catalog deployment called ``name`` (the first one when models share a name)."""
        for info in self.deployments:
            if info.deployment == name:
                return info
        return None

    def prices_of(self, version: str) -> VersionPrices | None:
        """What a stored price version means, or None when it is no longer configured."""
        return self._versions.get(version)

    def version_ids(self) -> list[str]:
        """Every price version id this costing can record, sorted."""
        return sorted(self._versions)

    def focus_account(self) -> FocusAccount:
        """The constant columns of this organisation's FOCUS export."""
        return FocusAccount(
            billing_account_id=self.organisation.billing_account_id,
            billing_account_name=self.organisation.billing_account_name,
            invoice_issuer_name=self.organisation.invoice_issuer_name,
            tz=self.tz,
        )

    def _tariff(self, info: DeploymentInfo, at: datetime) -> _Tariff:
        if info.pricing is PricingKind.TRANSFER_PRICE:
            return _TransferPrice(*self.onprem.rate_at(info.deployment, at))
        if info.pricing is PricingKind.DEDICATED:
            rate, valid_from, valid_until = self.onprem.rate_at(info.deployment, at)
            dedicated = RequestCost(0, DEDICATED_PREFIX + rate.version_id, PricingKind.DEDICATED)
            return _Fixed(dedicated, valid_from, valid_until)
        if info.pricing is PricingKind.UNPRICED:
            return _Fixed(_UNPRICED, _BEGINNING, _END)
        history = self.book.history(info.deployment) or self.book.history(info.model)
        started = [v for v in history if v.effective_from <= at]
        later = [v.effective_from for v in history if v.effective_from > at]
        valid_until = later[0] if later else _END
        if not started:
            return _Fixed(_UNPRICED, _BEGINNING, valid_until)
        version = started[-1]
        fx, fx_from, fx_until = self.book.fx_rate_at(version.currency, at)
        return _TokenPrice(
            version, fx, max(version.effective_from, fx_from), min(valid_until, fx_until)
        )

    def _index_versions(self) -> dict[str, VersionPrices]:
        index: dict[str, VersionPrices] = {}
        for version in self.book.versions:
            index[version.version_id] = VersionPrices(
                version.version_id,
                PricingKind.TOKEN_PRICE,
                {pc: version.per_million(pc) for pc in PriceClass},
                currency=version.currency,
                effective_from=version.effective_from,
            )
        for rate in self.onprem.all_rates():
            prices = {pc: rate.unit_price_eur(pc) for pc in PriceClass}
            index[rate.version_id] = VersionPrices(
                rate.version_id, PricingKind.TRANSFER_PRICE, prices, rate
            )
            if rate.deployment.dedicated_to is not None:
                dedicated = DEDICATED_PREFIX + rate.version_id
                index[dedicated] = VersionPrices(dedicated, PricingKind.DEDICATED, prices, rate)
        return index
