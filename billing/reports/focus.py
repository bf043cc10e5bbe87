"""FOCUS 1.2 export: charge lines as a FinOps Open Cost and Usage Specification CSV.

Every Mandatory column of FOCUS 1.2 is written, plus the Conditional and Recommended columns
Hygie can fill, plus ``x_`` custom columns for what FOCUS has no column for (token classes,
GPU-seconds, the price-book version). Value rules followed (from the FOCUS 1.2 column pages):

* Date/Time values are UTC, ``YYYY-MM-DDTHH:mm:ssZ``. The billing period is the calendar month
  in the organisation's time zone, expressed in UTC (Paris March 2026 starts
  ``2026-02-28T23:00:00Z``).
* Decimals are plain (no exponent, no ``+``, no thousands separator) and exact: costs are not
  rounded to the cent here, so ``ListCost = ListUnitPrice x PricingQuantity`` holds exactly.
* Nulls are empty CSV fields and appear only in columns that allow them; no placeholder text.
* ``ChargeCategory`` is ``Usage`` for token and GPU-time lines and ``Adjustment`` for the
  true-up and corrections; ``ChargeClass`` is ``Correction`` on a line that corrects a closed
  month (named in ``x_CorrectedBillingPeriod``), null otherwise.
* ``PricingCurrency`` and the ``PricingCurrency*`` columns are filled on every row, because
  some prices are quoted in USD and billed in EUR: unit prices in the currency of the price,
  ``PricingCurrencyEffectiveCost`` = ``EffectiveCost`` / the rate used (``x_ExchangeRate``, EUR
  per unit), to the micro-unit.
* ``BilledCost`` is the statement's cent amount (one rounding per department, see
  :mod:`billing.reports.ledger_charges`), so the file and the statements agree to the cent.
* No text cell can start a spreadsheet formula (``=``, ``+``, ``-``, ``@``...): such a value
  gets a leading apostrophe (:func:`billing.reports.spreadsheet.safe_cell`), display names included.
* ``InvoiceId`` is the department's statement number (``2026-10-cardiologie``), so each row
  points at the statement it is on.
* ``x_ChargeStatus`` says whether the month is ``closed`` (final) or ``provisional``.
* Usage rows carry ``PricingQuantity``/``PricingUnit`` (``"1000000 Tokens"`` or
  ``"GPU-Hours"``), ``ConsumedQuantity``/``ConsumedUnit``, ``SkuId``, ``SkuPriceId`` and unit
  prices; adjustment rows leave them null and set ``ListCost`` equal to ``BilledCost``.
* ``Tags`` is a JSON object of string values.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TextIO
from zoneinfo import ZoneInfo

from billing.money import InvalidAmount, format_plain
from billing.periods import PeriodKind, period_containing
from billing.reports.rows import ChargeLine, TokenClass
from billing.reports.spreadsheet import safe_cell

FOCUS_VERSION = "1.2"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"

COLUMNS: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_HostingClass",
    "x_Model",
    "x_TokenClass",
    "x_InputTokens",
    "x_CachedInputTokens",
    "x_OutputTokens",
    "x_GpuSeconds",
    "x_PriceVersionId",
    "x_ExchangeRate",
    "x_CorrectedBillingPeriod",
    "x_ChargeStatus",
)
"""Column order of the export (FOCUS columns, then custom ``x_`` columns)."""

_TOKEN_COLUMNS = {
    TokenClass.INPUT: "x_InputTokens",
    TokenClass.CACHED_INPUT: "x_CachedInputTokens",
    TokenClass.OUTPUT: "x_OutputTokens",
}

_POOL_CLASSES = frozenset({TokenClass.GPU_TIME, TokenClass.TRUE_UP})
_NOT_TEXT = frozenset(
    {
        "BilledCost",
        "BillingPeriodEnd",
        "BillingPeriodStart",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "ConsumedQuantity",
        "ContractedCost",
        "ContractedUnitPrice",
        "EffectiveCost",
        "ListCost",
        "ListUnitPrice",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
        "PricingQuantity",
        "Tags",
        "x_InputTokens",
        "x_CachedInputTokens",
        "x_OutputTokens",
        "x_GpuSeconds",
        "x_ExchangeRate",
    }
)
"""Numeric, date and JSON columns: every other column is text and is neutralised."""
_MICRO = Decimal("0.000001")

FocusRow = dict[str, str | None]


class ExportError(ValueError):
    """A line cannot be exported (e.g. its charge period straddles two billing periods)."""


@dataclass(frozen=True, slots=True)
class FocusAccount:
    """Who bills whom: the constant columns of an export."""

    billing_account_id: str
    billing_account_name: str
    invoice_issuer_name: str
    tz: ZoneInfo
    service_name: str = "Hygie generative AI gateway"
    billing_currency: str = "EUR"


def format_decimal(value: Decimal) -> str:
    """A Decimal in FOCUS numeric format: plain digits, ``-`` only when negative, no exponent."""
    try:
        return format_plain(value)
    except InvalidAmount as exc:
        raise ExportError(str(exc)) from exc


def format_instant(instant: datetime) -> str:
    """An instant as FOCUS Date/Time: UTC, ``YYYY-MM-DDTHH:mm:ssZ``."""
    if instant.tzinfo is None:
        raise ExportError("instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(line: ChargeLine) -> str:
    if line.description:
        return line.description
    what = {
        TokenClass.INPUT: "Input tokens",
        TokenClass.CACHED_INPUT: "Cached input tokens",
        TokenClass.OUTPUT: "Output tokens",
        TokenClass.GPU_TIME: "Dedicated GPU time",
        TokenClass.TRUE_UP: "Capacity true-up",
        TokenClass.CORRECTION: "Correction",
    }[line.token_class]
    subject = f" of {line.model}" if line.model else ""
    return f"{what}{subject} ({line.hosting_class})"


def focus_row(line: ChargeLine, account: FocusAccount, status: str = "provisional") -> FocusRow:
    """One FOCUS row for ``line`` (values as text, ``None`` for null, text neutralised)."""
    billing = period_containing(PeriodKind.MONTH, line.period_start, account.tz)
    if line.period_end > billing.end:
        raise ExportError(
            f"charge period {line.period_start.isoformat()} to {line.period_end.isoformat()} "
            f"straddles two billing months in {account.tz.key}"
        )
    usage = line.is_usage
    billed = format_decimal(line.amount)
    if usage:
        assert line.quantity is not None and line.unit_price is not None  # checked by ChargeLine
        list_cost = format_decimal(line.quantity * line.unit_price)
        unit_price: str | None = format_decimal(line.unit_price)
        sku: str | None = (
            f"{line.hosting_class}/{line.model or line.resource_id}/{line.token_class}"
        )
        sku_price: str | None = f"{line.price_version}/{line.token_class}"
    else:
        list_cost = billed
        unit_price = sku = sku_price = None
    correction = line.token_class is TokenClass.CORRECTION
    fx = line.fx_rate or Decimal(1)
    pricing_unit_price = (
        None if line.unit_price is None else (line.pricing_unit_price or line.unit_price)
    )
    pricing_unit = None if pricing_unit_price is None else format_decimal(pricing_unit_price)
    resource = line.resource_id or line.model
    consumed = line.consumed_quantity if line.consumed_quantity is not None else line.quantity
    row: FocusRow = {
        "BilledCost": billed,
        "BillingAccountId": account.billing_account_id,
        "BillingAccountName": account.billing_account_name,
        "BillingCurrency": account.billing_currency,
        "BillingPeriodEnd": format_instant(billing.end),
        "BillingPeriodStart": format_instant(billing.start),
        "ChargeCategory": "Usage" if usage else "Adjustment",
        "ChargeClass": "Correction" if correction else None,
        "ChargeDescription": _describe(line),
        "ChargeFrequency": "Usage-Based" if usage else ("One-Time" if correction else "Recurring"),
        "ChargePeriodEnd": format_instant(line.period_end),
        "ChargePeriodStart": format_instant(line.period_start),
        "ConsumedQuantity": format_decimal(consumed) if usage and consumed is not None else None,
        "ConsumedUnit": (line.consumed_unit or line.unit) if usage else None,
        "ContractedCost": list_cost,
        "ContractedUnitPrice": unit_price,
        "EffectiveCost": billed,
        "InvoiceId": (
            f"{billing.key}-{line.department_id}" if line.department_id is not None else None
        ),
        "InvoiceIssuerName": account.invoice_issuer_name,
        "ListCost": list_cost,
        "ListUnitPrice": unit_price,
        "PricingCategory": "Standard" if usage else None,
        "PricingCurrency": line.pricing_currency,
        "PricingCurrencyContractedUnitPrice": pricing_unit,
        "PricingCurrencyEffectiveCost": format_decimal((line.amount / fx).quantize(_MICRO)),
        "PricingCurrencyListUnitPrice": pricing_unit,
        "PricingQuantity": format_decimal(line.quantity) if line.quantity is not None else None,
        "PricingUnit": line.unit,
        "ProviderName": line.provider,
        "PublisherName": line.publisher or line.provider,
        "ResourceId": resource,
        "ResourceName": resource,
        "ResourceType": (
            None
            if resource is None
            else ("GPU Pool" if line.token_class in _POOL_CLASSES else "Model Deployment")
        ),
        "ServiceCategory": SERVICE_CATEGORY,
        "ServiceName": account.service_name,
        "ServiceSubcategory": SERVICE_SUBCATEGORY,
        "SkuId": sku,
        "SkuPriceId": sku_price,
        "SubAccountId": line.department_id,
        "SubAccountName": line.department_name if line.department_id is not None else None,
        "SubAccountType": "Department" if line.department_id is not None else None,
        "Tags": json.dumps(dict(sorted(line.tags.items())), ensure_ascii=False, sort_keys=True),
        "x_HostingClass": line.hosting_class,
        "x_Model": line.model,
        "x_TokenClass": str(line.token_class),
        "x_InputTokens": None,
        "x_CachedInputTokens": None,
        "x_OutputTokens": None,
        "x_GpuSeconds": format_decimal(line.gpu_seconds),
        "x_PriceVersionId": line.price_version,
        "x_ExchangeRate": None if line.fx_rate is None else format_decimal(line.fx_rate),
        "x_CorrectedBillingPeriod": line.corrects,
        "x_ChargeStatus": status,
    }
    token_column = _TOKEN_COLUMNS.get(line.token_class)
    if token_column is not None and line.consumed_quantity is not None:
        row[token_column] = format_decimal(line.consumed_quantity)
    return {column: _clean(column, row[column]) for column in COLUMNS}


def _clean(column: str, value: str | None) -> str | None:
    # FOCUS forbids empty strings standing for absent values: an empty text is a null.
    if not value:
        return None
    return value if column in _NOT_TEXT else safe_cell(value)


def focus_rows(
    lines: Iterable[ChargeLine], account: FocusAccount, status: str = "provisional"
) -> list[FocusRow]:
    """FOCUS rows for ``lines``, in the given order."""
    return [focus_row(line, account, status) for line in lines]


def write_focus_csv(
    lines: Iterable[ChargeLine], account: FocusAccount, out: TextIO, status: str = "provisional"
) -> int:
    """Write the CSV (header + one row per line) to ``out``; returns the number of rows.

    Nulls are empty fields. Fields are quoted only when needed (RFC 4180, ``\\r\\n`` endings).
    """
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for line in lines:
        row = focus_row(line, account, status)
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        count += 1
    return count


def focus_csv(
    lines: Iterable[ChargeLine], account: FocusAccount, status: str = "provisional"
) -> str:
    """The FOCUS CSV as text (``status``: ``closed`` or ``provisional``, on every row)."""
    buffer = io.StringIO()
    write_focus_csv(lines, account, buffer, status)
    return buffer.getvalue()
