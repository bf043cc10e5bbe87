"""A month's charges as a JSON document, and back, exactly.

A closed month is stored as this document (``closed_months.snapshot``). Guarantee:
``from_snapshot(to_snapshot(m)) == m`` for every :class:`MonthCharges` (decimals are written as
their exact text, instants in UTC ISO 8601), so every report of a closed month is rendered
from the stored figures and never recomputed from the ledger or today's configuration.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from billing.periods import Period, PeriodKind
from billing.pricing.costing import Costing
from billing.pricing.true_up import DepartmentTrueUp, TrueUp, TrueUpMode
from billing.reports.focus import FocusAccount
from billing.reports.ledger_charges import MonthCharges
from billing.reports.rows import ChargeLine, TokenClass

FORMAT = 1
_LINE_DECIMALS = frozenset(
    {
        "quantity",
        "unit_price",
        "amount",
        "gpu_seconds",
        "consumed_quantity",
        "pricing_unit_price",
        "fx_rate",
    }
)
_TRUE_UP_DECIMALS = frozenset(
    {
        "hours",
        "eur_per_gpu_hour",
        "pool_cost_eur",
        "shared_cost_eur",
        "transfer_total_eur",
        "difference_eur",
        "unallocated_eur",
    }
)
_PART_DECIMALS = frozenset({"dedicated_eur", "weighted_tokens", "transfer_eur", "true_up_eur"})


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _period(period: Period) -> dict[str, str]:
    return {
        "kind": str(period.kind),
        "key": period.key,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _unperiod(data: dict[str, str]) -> Period:
    return Period(
        kind=PeriodKind(data["kind"]),
        key=data["key"],
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
    )


def _line(line: ChargeLine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(line):
        value = getattr(line, f.name)
        if f.name in _LINE_DECIMALS:
            out[f.name] = _dec(value)
        elif isinstance(value, datetime):
            out[f.name] = value.isoformat()
        elif f.name == "tags":
            out[f.name] = dict(value)
        elif f.name == "token_class":
            out[f.name] = str(value)
        else:
            out[f.name] = value
    return out


def _unline(data: dict[str, Any]) -> ChargeLine:
    values = dict(data)
    for name in _LINE_DECIMALS:
        values[name] = _undec(values.get(name))
    values["period_start"] = datetime.fromisoformat(values["period_start"])
    values["period_end"] = datetime.fromisoformat(values["period_end"])
    if values.get("price_from") is not None:
        values["price_from"] = datetime.fromisoformat(values["price_from"])
    values["token_class"] = TokenClass(values["token_class"])
    return ChargeLine(**values)


def _true_up(result: TrueUp) -> dict[str, Any]:
    out: dict[str, Any] = {name: _dec(getattr(result, name)) for name in _TRUE_UP_DECIMALS}
    out.update(
        pool=result.pool,
        pool_version=result.pool_version,
        period=_period(result.period),
        mode=str(result.mode),
        gpu_count=result.gpu_count,
        cost_breakdown_eur={k: str(v) for k, v in result.cost_breakdown_eur.items()},
        departments=[
            {
                **{name: _dec(getattr(part, name)) for name in _PART_DECIMALS},
                "department_id": part.department_id,
                "dedicated_gpus": part.dedicated_gpus,
                "shares_difference": part.shares_difference,
            }
            for part in result.departments
        ],
    )
    return out


def _untrue_up(data: dict[str, Any]) -> TrueUp:
    parts = tuple(
        DepartmentTrueUp(
            department_id=part["department_id"],
            dedicated_gpus=part["dedicated_gpus"],
            shares_difference=part["shares_difference"],
            **{name: Decimal(part[name]) for name in _PART_DECIMALS},
        )
        for part in data["departments"]
    )
    return TrueUp(
        pool=data["pool"],
        pool_version=data["pool_version"],
        period=_unperiod(data["period"]),
        mode=TrueUpMode(data["mode"]),
        departments=parts,
        gpu_count=data["gpu_count"],
        cost_breakdown_eur={k: Decimal(v) for k, v in data["cost_breakdown_eur"].items()},
        **{name: Decimal(data[name]) for name in _TRUE_UP_DECIMALS},
    )


def _account(account: FocusAccount) -> dict[str, str]:
    return {
        "billing_account_id": account.billing_account_id,
        "billing_account_name": account.billing_account_name,
        "invoice_issuer_name": account.invoice_issuer_name,
        "tz": account.tz.key,
        "service_name": account.service_name,
        "billing_currency": account.billing_currency,
    }


def _unaccount(data: dict[str, str]) -> FocusAccount:
    return FocusAccount(
        billing_account_id=data["billing_account_id"],
        billing_account_name=data["billing_account_name"],
        invoice_issuer_name=data["invoice_issuer_name"],
        tz=ZoneInfo(data["tz"]),
        service_name=data["service_name"],
        billing_currency=data["billing_currency"],
    )


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def versions_used(charges: MonthCharges) -> list[str]:
    """Every price, rate and pool version the month's figures were computed with."""
    used = {line.price_version for line in charges.lines if line.price_version}
    used.update(result.pool_version for result in charges.true_ups)
    return sorted(used)


def figures_used(charges: MonthCharges, costing: Costing) -> dict[str, Any]:
    """The cost figures behind the month: every pool version of its true-ups with its
    parameters, and the exchange rates its lines were converted at."""
    wanted = {v for result in charges.true_ups for v in result.pool_version.split("+")}
    pools = {
        pool.version_id: {
            "pool": pool.name,
            "effective_from": None
            if pool.effective_from is None
            else pool.effective_from.isoformat(),
            "gpu_count": pool.gpu_count,
            **{
                name: str(getattr(pool, name))
                for name in (
                    "hardware_eur",
                    "amortisation_years",
                    "watts_per_gpu",
                    "pue",
                    "eur_per_kwh",
                    "hosting_eur_per_month",
                    "staff_eur_per_month",
                )
            },
        }
        for history in costing.onprem.pool_history.values()
        for pool in history
        if pool.version_id in wanted
    }
    rates = sorted(
        {(line.pricing_currency, str(line.fx_rate)) for line in charges.lines if line.fx_rate}
    )
    return {"pools": pools, "exchange_rates": [list(rate) for rate in rates]}


def to_snapshot(
    charges: MonthCharges, account: FocusAccount, figures: dict[str, Any] | None = None
) -> str:
    """The month as canonical JSON text (sorted keys: the same month gives the same bytes),
    with the ``figures`` it was computed from (:func:`figures_used`) kept for the record."""
    document = {
        "format": FORMAT,
        "period": _period(charges.period),
        "account": _account(account),
        "lines": [_line(line) for line in charges.lines],
        "true_ups": [_true_up(result) for result in charges.true_ups],
        "ledger_cost_micros": charges.ledger_cost_micros,
        "usage_line_micros": charges.usage_line_micros,
        "unpriced_requests": charges.unpriced_requests,
        "dedicated_requests": charges.dedicated_requests,
        "unknown_versions": list(charges.unknown_versions),
        "department_names": dict(charges.department_names),
        "department_ledger_micros": dict(charges.department_ledger_micros),
        "versions_used": versions_used(charges),
        "figures_used": figures or {},
        "issuer": charges.issuer,
        "tz": charges.tz_key,
        "cost_centres": dict(charges.cost_centres),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def from_snapshot(text: str) -> tuple[MonthCharges, FocusAccount]:
    """The month and the FOCUS account stored by :func:`to_snapshot`."""
    document = json.loads(text)
    if document.get("format") != FORMAT:
        raise ValueError(f"unknown closed-month format {document.get('format')!r}")
    charges = MonthCharges(
        period=_unperiod(document["period"]),
        lines=tuple(_unline(line) for line in document["lines"]),
        true_ups=tuple(_untrue_up(result) for result in document["true_ups"]),
        ledger_cost_micros=document["ledger_cost_micros"],
        usage_line_micros=document["usage_line_micros"],
        unpriced_requests=document["unpriced_requests"],
        dedicated_requests=document["dedicated_requests"],
        unknown_versions=tuple(document["unknown_versions"]),
        department_names=document["department_names"],
        department_ledger_micros=document["department_ledger_micros"],
        issuer=document["issuer"],
        tz_key=document["tz"],
        cost_centres=document["cost_centres"],
    )
    return charges, _unaccount(document["account"])
