"""The live inventory of AI uses: every use case, what it is declared to be, and what its
traffic actually was over a period (JSON, CSV, printable HTML).

Produced from the register and the ledger, never from a survey: a use case that has traffic but
is not registered is listed too, as unregistered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.directory.use_cases import UseCase, list_use_cases
from billing.ledger.use_case_traffic import Traffic, traffic_by_use_case
from billing.money import MICROS_PER_EUR
from billing.reports.spreadsheet import safe_cell

UNREGISTERED = "unregistered"


@dataclass(frozen=True, slots=True)
class InventoryLine:
    name: str
    status: str
    department: str | None
    purpose: str
    declared_models: tuple[str, ...] | None
    declared_data_classes: tuple[str, ...]
    traffic: Traffic
    hosting_classes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        t = self.traffic
        return {
            "use_case": self.name,
            "status": self.status,
            "department": self.department,
            "purpose": self.purpose,
            "declared_models": None if self.declared_models is None else list(self.declared_models),
            "declared_data_classes": list(self.declared_data_classes),
            "models_used": sorted(t.models),
            "hosting_classes": list(self.hosting_classes),
            "data_classes_seen": sorted(t.data_classes),
            "requests": t.requests,
            "tokens": t.tokens,
            "cost_eur": str(_euros(t.cost_micro_eur)),
            "policy_refusals": t.refusals,
            "incidents": t.errors,
            "flagged": t.flagged,
            "mean_latency_ms": round(t.mean_latency_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class Inventory:
    start: datetime
    end: datetime
    lines: tuple[InventoryLine, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "use_cases": [line.as_dict() for line in self.lines],
        }


def _euros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS_PER_EUR).quantize(Decimal("0.01"))


async def build_inventory(
    engine: AsyncEngine,
    start: datetime,
    end: datetime,
    *,
    hosting_of: Mapping[str, str],
) -> Inventory:
    """The inventory over ``[start, end)``; ``hosting_of`` maps a deployment to its hosting
    class (from the catalogue)."""
    register = {u.name: u for u in await list_use_cases(engine)}
    traffic = await traffic_by_use_case(engine, start, end)
    names = sorted(set(register) | set(traffic))
    lines = tuple(_line(name, register.get(name), traffic.get(name), hosting_of) for name in names)
    return Inventory(start, end, lines)


def _line(
    name: str, use_case: UseCase | None, traffic: Traffic | None, hosting_of: Mapping[str, str]
) -> InventoryLine:
    seen = traffic or Traffic()
    hosting = tuple(sorted({hosting_of[d] for d in seen.deployments if d in hosting_of}))
    if use_case is None:
        return InventoryLine(name, UNREGISTERED, None, "", None, (), seen, hosting)
    return InventoryLine(
        name,
        use_case.status.value,
        use_case.department,
        use_case.purpose,
        use_case.allowed_models,
        use_case.data_classes,
        seen,
        hosting,
    )


CSV_COLUMNS = (
    "use_case",
    "status",
    "department",
    "purpose",
    "models_used",
    "hosting_classes",
    "data_classes_seen",
    "requests",
    "tokens",
    "cost_eur",
    "policy_refusals",
    "incidents",
    "flagged",
    "mean_latency_ms",
)


def inventory_csv(inventory: Inventory) -> str:
    """One line per use case; lists are joined with ``;``, text cells never run as formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in inventory.lines:
        row = line.as_dict()
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return safe_cell(";".join(value))
    if isinstance(value, str) or value is None:
        return safe_cell(value)
    return str(value)


def inventory_html(inventory: Inventory, *, title: str = "Inventaire des usages de l'IA") -> str:
    """A printable page (no script, every value escaped)."""
    head = "".join(f"<th scope='col'>{escape(c)}</th>" for c in CSV_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(line.as_dict()[c]))}</td>" for c in CSV_COLUMNS)
        for line in inventory.lines
    )
    period = f"{inventory.start:%Y-%m-%d} à {inventory.end:%Y-%m-%d}"
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #888;padding:4px;font-size:12px}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Période : {escape(period)} (UTC)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
