"""FOCUS 1.2 export, checked against the column list by a reusable conformance checker."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from billing.periods import Period, PeriodKind, month_period
from billing.pricing.gpu_cost import GpuPool
from billing.pricing.price_book import PriceClass
from billing.pricing.true_up import DepartmentUsage, TrueUpMode, true_up
from billing.reports.focus import COLUMNS, ExportError, FocusAccount, focus_csv, focus_rows
from billing.reports.rows import ChargeLine, token_line

PARIS = ZoneInfo("Europe/Paris")
COLUMNS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "focus-1.2-columns.txt"

# Allowed values, from the FOCUS 1.2 column pages.
CHARGE_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
CHARGE_FREQUENCIES = {"One-Time", "Recurring", "Usage-Based"}
SERVICE_CATEGORIES = {
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
}
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    feature_level: str
    kind: str
    data_type: str
    nullable: bool


def load_column_specs(path: Path = COLUMNS_FILE) -> dict[str, ColumnSpec]:
    """The FOCUS 1.2 column list (``name | level | kind | type | nulls=...`` lines)."""
    specs: dict[str, ColumnSpec] = {}
    # Split on "\n" only: the reference file has stray carriage returns inside some lines,
    # which universal newlines and str.splitlines() would treat as line breaks.
    for raw in path.read_bytes().decode("utf-8").split("\n"):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        name, level, kind, data_type, nulls = (part.strip() for part in raw.split("|"))
        specs[name] = ColumnSpec(name, level, kind, data_type, nulls == "nulls=True")
    return specs


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def focus_problems(csv_text: str, specs: dict[str, ColumnSpec] | None = None) -> list[str]:
    """Every way ``csv_text`` breaks the FOCUS 1.2 rules this project relies on (empty: none).

    Checks the header (every Mandatory column present, no unknown column without ``x_``), each
    value by type (Decimal parses in numeric format, Date/Time is ISO 8601 UTC with ``Z``, JSON
    is an object of scalars, nulls only where allowed) and the cross-column rules of the
    Usage/Adjustment rows Hygie writes.
    """
    specs = specs or load_column_specs()
    reader = csv.DictReader(io.StringIO(csv_text, newline=""))
    header = list(reader.fieldnames or [])
    problems: list[str] = []
    if len(set(header)) != len(header):
        problems.append("duplicate columns")
    for spec in specs.values():
        if spec.feature_level == "Mandatory" and spec.name not in header:
            problems.append(f"missing mandatory column {spec.name}")
    for name in header:
        if name not in specs and not name.startswith("x_"):
            problems.append(f"unknown column {name} (custom columns need the x_ prefix)")

    for number, raw_row in enumerate(reader, start=2):
        row: dict[str, str | None] = {k: (v if v != "" else None) for k, v in raw_row.items()}
        where = f"line {number}"
        for name, value in row.items():
            column = specs.get(name)
            if column is None:
                continue
            if value is None:
                if not column.nullable:
                    problems.append(f"{where}: {name} is null but must not be")
                continue
            problems.extend(_type_problems(where, column, value))
        problems.extend(_rule_problems(where, row))
    return problems


def _type_problems(where: str, spec: ColumnSpec, value: str) -> list[str]:
    if spec.data_type == "Decimal":
        if not DECIMAL_RE.match(value):
            return [f"{where}: {spec.name}={value!r} is not a plain decimal"]
        try:
            Decimal(value)
        except InvalidOperation:
            return [f"{where}: {spec.name}={value!r} does not parse"]
    elif spec.data_type == "Date/Time":
        if not DATETIME_RE.match(value):
            return [f"{where}: {spec.name}={value!r} is not YYYY-MM-DDTHH:mm:ssZ"]
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if parsed.year < 2000:
            return [f"{where}: {spec.name}={value!r} is implausible"]
    elif spec.data_type == "JSON":
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            return [f"{where}: {spec.name} is not JSON"]
        if not isinstance(loaded, dict):
            return [f"{where}: {spec.name} is not a JSON object"]
        if any(isinstance(v, dict | list) for v in loaded.values()):
            return [f"{where}: {spec.name} values must be scalars"]
    elif value != value.strip():
        return [f"{where}: {spec.name} has surrounding whitespace"]
    return []


def _rule_problems(where: str, row: dict[str, str | None]) -> list[str]:
    problems: list[str] = []
    category = row.get("ChargeCategory")
    if category not in CHARGE_CATEGORIES:
        problems.append(f"{where}: ChargeCategory {category!r} not allowed")
    if row.get("ChargeClass") not in (None, "Correction"):
        problems.append(f"{where}: ChargeClass must be null or Correction")
    if row.get("ServiceCategory") not in SERVICE_CATEGORIES:
        problems.append(f"{where}: ServiceCategory {row.get('ServiceCategory')!r} not allowed")
    if "ChargeFrequency" in row and row["ChargeFrequency"] not in CHARGE_FREQUENCIES:
        problems.append(f"{where}: ChargeFrequency {row['ChargeFrequency']!r} not allowed")
    if not re.fullmatch(r"[A-Z]{3}", row.get("BillingCurrency") or ""):
        problems.append(f"{where}: BillingCurrency is not an ISO 4217 code")
    correction = row.get("ChargeClass") == "Correction"
    if category == "Usage" and not correction:
        for name in (
            "PricingQuantity",
            "PricingUnit",
            "ConsumedQuantity",
            "ConsumedUnit",
            "SkuId",
            "SkuPriceId",
            "ListUnitPrice",
            "ContractedUnitPrice",
        ):
            if name in row and row[name] is None:
                problems.append(f"{where}: {name} must not be null on a Usage row")
    if category != "Usage" and row.get("ConsumedQuantity") is not None:
        problems.append(f"{where}: ConsumedQuantity must be null outside Usage rows")
    if category == "Tax" and row.get("PricingQuantity") is not None:
        problems.append(f"{where}: PricingQuantity must be null on Tax rows")
    quantity = _decimal(row.get("PricingQuantity"))
    for price, cost in (("ListUnitPrice", "ListCost"), ("ContractedUnitPrice", "ContractedCost")):
        unit_price = _decimal(row.get(price))
        if unit_price is not None and unit_price < 0:
            problems.append(f"{where}: {price} is negative")
        if unit_price is None:
            if row.get(cost) != row.get("BilledCost"):
                problems.append(f"{where}: without {price}, {cost} must equal BilledCost")
            continue
        if (
            quantity is not None
            and not correction
            and unit_price * quantity != _decimal(row.get(cost))
        ):
            problems.append(f"{where}: {cost} != {price} x PricingQuantity")
    if row.get("SkuPriceId") is not None and row.get("SkuId") is None:
        problems.append(f"{where}: SkuPriceId without SkuId")
    problems.extend(_pricing_currency_problems(where, row))
    for start, end in (
        ("ChargePeriodStart", "ChargePeriodEnd"),
        ("BillingPeriodStart", "BillingPeriodEnd"),
    ):
        if (row.get(start) or "") >= (row.get(end) or ""):
            problems.append(f"{where}: {start} is not before {end}")
    if (row.get("ChargePeriodStart") or "") < (row.get("BillingPeriodStart") or "") or (
        row.get("ChargePeriodEnd") or ""
    ) > (row.get("BillingPeriodEnd") or ""):
        problems.append(f"{where}: charge period outside the billing period")
    return problems


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PRICING_CURRENCY_COLUMNS = (
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
)


def _pricing_currency_problems(where: str, row: dict[str, str | None]) -> list[str]:
    """FOCUS 1.2: a price in another currency than the bill needs the PricingCurrency columns,
    and the pricing-currency unit price times the rate used gives the billing-currency one."""
    currency = row.get("PricingCurrency")
    if currency is None:
        return []
    problems: list[str] = []
    if not re.fullmatch(r"[A-Z]{3}", currency):
        problems.append(f"{where}: PricingCurrency is not an ISO 4217 code")
    for name in PRICING_CURRENCY_COLUMNS[1:]:
        if name not in row:
            problems.append(f"{where}: {name} missing although PricingCurrency is set")
    if row.get("PricingCurrencyEffectiveCost") is None:
        problems.append(f"{where}: PricingCurrencyEffectiveCost is null")
    if currency == row.get("BillingCurrency"):
        if row.get("PricingCurrencyListUnitPrice") != row.get("ListUnitPrice"):
            problems.append(f"{where}: same currency, different list unit prices")
        return problems
    rate = _decimal(row.get("x_ExchangeRate"))
    listed = _decimal(row.get("PricingCurrencyListUnitPrice"))
    if rate is None:
        problems.append(f"{where}: a {currency} price without the exchange rate used")
    elif listed is not None and listed * rate != _decimal(row.get("ListUnitPrice")):
        problems.append(f"{where}: PricingCurrencyListUnitPrice x rate != ListUnitPrice")
    return problems


def formula_problems(csv_text: str) -> list[str]:
    """Text cells a spreadsheet would run as a formula (numbers may be negative)."""
    specs = load_column_specs()
    problems: list[str] = []
    for number, row in enumerate(csv.DictReader(io.StringIO(csv_text, newline="")), start=2):
        for name, value in row.items():
            spec = specs.get(name)
            numeric = spec is not None and spec.data_type in ("Decimal", "Date/Time", "JSON")
            if value and not numeric and value.startswith(FORMULA_STARTS):
                if name.startswith("x_") and DECIMAL_RE.match(value):
                    continue
                problems.append(f"line {number}: {name}={value!r} starts a formula")
    return problems


def assert_focus_conformant(csv_text: str) -> None:
    """Fail with every problem found when ``csv_text`` is not a conformant FOCUS 1.2 file."""
    problems = focus_problems(csv_text) + formula_problems(csv_text)
    assert not problems, "\n".join(problems)


def make_account() -> FocusAccount:
    return FocusAccount(
        billing_account_id="chu-exemple",
        billing_account_name="CHU Exemple",
        invoice_issuer_name="CHU Exemple - DSI",
        tz=PARIS,
    )


def make_token_lines(period: Period) -> list[ChargeLine]:
    common = {
        "department_id": "cardiologie",
        "department_name": 'Cardiologie, "Unité" 2',
        "model": "mistral-medium",
        "provider": "Mistral AI",
        "hosting_class": "eu_cloud",
        "price_version": "mistral-medium@2026-01-01.abc",
        "tags": {"cost_center": "CC-1234", "projet": "résumés"},
    }
    return [
        token_line(
            period,
            price_class=PriceClass.INPUT,
            tokens=10_000,
            unit_price_per_million=Decimal("0.14"),
            **common,  # type: ignore[arg-type]
        ),
        token_line(
            period,
            price_class=PriceClass.CACHED_INPUT,
            tokens=2_000,
            unit_price_per_million=Decimal("0.07"),
            **common,  # type: ignore[arg-type]
        ),
        token_line(
            period,
            price_class=PriceClass.OUTPUT,
            tokens=1_500,
            unit_price_per_million=Decimal("0.55"),
            **common,  # type: ignore[arg-type]
        ),
    ]


def make_true_up_lines(period: Period, mode: TrueUpMode) -> list[ChargeLine]:
    pool = GpuPool(
        name="h100-a",
        gpu_count=8,
        hardware_eur=Decimal(350640),
        amortisation_years=Decimal(5),
        watts_per_gpu=Decimal(1000),
        pue=Decimal("1.5"),
        eur_per_kwh=Decimal("0.20"),
        hosting_eur_per_month=Decimal("1753.20"),
        staff_eur_per_month=Decimal("4090.80"),
    )
    result = true_up(
        pool,
        period,
        [DepartmentUsage("cardiologie", Decimal(10), Decimal("100.00"))],
        dedicated={"radiologie": 2},
        mode=mode,
    )
    return result.charge_lines({"cardiologie": "Cardiologie"}, provider="CHU Exemple")


def rows_of(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text, newline="")))


def test_the_column_list_fixture_is_the_shared_reference() -> None:
    specs = load_column_specs()
    mandatory = {n for n, s in specs.items() if s.feature_level == "Mandatory"}
    assert len(specs) == 57
    assert all(re.fullmatch(r"[A-Za-z]+", name) for name in specs)
    assert specs["ChargeClass"] == ColumnSpec(
        "ChargeClass", "Mandatory", "Dimension", "String", True
    )
    assert len(mandatory) == 21
    assert mandatory <= set(COLUMNS)


@pytest.mark.parametrize("month", [1, 3, 10])
@pytest.mark.parametrize("mode", list(TrueUpMode))
def test_every_export_conforms(month: int, mode: TrueUpMode) -> None:
    period = month_period(2026, month, PARIS)
    text = focus_csv(make_token_lines(period) + make_true_up_lines(period, mode), make_account())
    assert_focus_conformant(text)


def test_billing_period_is_the_paris_month_in_utc() -> None:
    period = month_period(2026, 3, PARIS)
    (row, *_) = rows_of(focus_csv(make_token_lines(period), make_account()))
    assert row["BillingPeriodStart"] == "2026-02-28T23:00:00Z"
    assert row["BillingPeriodEnd"] == "2026-03-31T22:00:00Z"
    assert row["ChargePeriodStart"] == "2026-02-28T23:00:00Z"


def test_token_row_values() -> None:
    period = month_period(2026, 1, PARIS)
    rows = rows_of(focus_csv(make_token_lines(period), make_account()))
    first = rows[0]
    assert first["ChargeCategory"] == "Usage"
    assert first["ChargeClass"] == ""
    assert first["ChargeFrequency"] == "Usage-Based"
    assert first["ServiceCategory"] == "AI and Machine Learning"
    assert first["PricingUnit"] == "1000000 Tokens"
    assert first["PricingQuantity"] == "0.01"
    assert first["ListUnitPrice"] == "0.14"
    assert first["BilledCost"] == "0.0014"
    assert first["ConsumedQuantity"] == "10000"
    assert first["ConsumedUnit"] == "Tokens"
    assert first["SubAccountId"] == "cardiologie"
    assert first["SubAccountName"] == 'Cardiologie, "Unité" 2'
    assert first["x_InputTokens"] == "10000"
    assert first["x_OutputTokens"] == ""
    assert first["x_TokenClass"] == "input"
    assert first["SkuPriceId"] == "mistral-medium@2026-01-01.abc/input"
    assert json.loads(first["Tags"]) == {"cost_center": "CC-1234", "projet": "résumés"}
    assert rows[2]["x_OutputTokens"] == "1500"
    total = sum(Decimal(r["BilledCost"]) for r in rows)
    assert total == Decimal("0.002365")  # the hand-priced request of test_price_book


def test_true_up_rows_are_adjustments() -> None:
    period = month_period(2026, 1, PARIS)
    rows = rows_of(focus_csv(make_true_up_lines(period, TrueUpMode.UNALLOCATED), make_account()))
    by_class = {r["x_TokenClass"] + ":" + r["SubAccountId"]: r for r in rows}
    unallocated = by_class["true_up:"]
    assert unallocated["ChargeCategory"] == "Adjustment"
    assert unallocated["SubAccountName"] == ""
    assert unallocated["PricingQuantity"] == ""
    assert unallocated["ListCost"] == unallocated["BilledCost"]
    dedicated = by_class["gpu_time:radiologie"]
    assert dedicated["ChargeCategory"] == "Usage"
    assert dedicated["PricingUnit"] == "GPU-Hours"
    assert dedicated["BilledCost"] == "3422.4"
    # Every row's cost adds up to the pool's month (13,689.60) minus the transfer charges
    # (100.00) that the token rows of the ledger carry.
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("13589.60")


def test_export_refuses_a_charge_period_spanning_two_months() -> None:
    start = datetime(2026, 1, 31, 12, tzinfo=UTC)
    period = Period(PeriodKind.DAY, "x", start, datetime(2026, 2, 1, 12, tzinfo=UTC))
    with pytest.raises(ExportError):
        focus_rows(make_token_lines(period), make_account())


def _break(text: str, column: str, value: str, row: int = 0) -> str:
    rows = rows_of(text)
    rows[row][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _drop(text: str, column: str) -> str:
    rows = rows_of(text)
    names = [n for n in rows[0] if n != column]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("BilledCost", "1e-3", "not a plain decimal"),
        ("BilledCost", "", "is null but must not be"),
        ("ListCost", "+1", "not a plain decimal"),
        ("ChargePeriodStart", "2026-01-01T00:00:00+01:00", "YYYY-MM-DDTHH:mm:ssZ"),
        ("Tags", "not json", "is not JSON"),
        ("Tags", '{"a": {"b": 1}}', "scalars"),
        ("ChargeCategory", "Fee", "not allowed"),
        ("ServiceCategory", "AI", "not allowed"),
        ("PricingUnit", "", "must not be null on a Usage row"),
        ("ListUnitPrice", "0.15", "ListCost != ListUnitPrice"),
        ("BillingAccountId", "", "is null but must not be"),
        ("ChargeClass", "Regular", "null or Correction"),
    ],
)
def test_the_checker_catches_broken_files(column: str, value: str, expected: str) -> None:
    text = focus_csv(make_token_lines(month_period(2026, 1, PARIS)), make_account())
    assert focus_problems(text) == []
    problems = focus_problems(_break(text, column, value))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("column", ["InvoiceIssuerName", "PublisherName", "ChargeClass"])
def test_the_checker_catches_missing_mandatory_columns(column: str) -> None:
    text = focus_csv(make_token_lines(month_period(2026, 1, PARIS)), make_account())
    assert f"missing mandatory column {column}" in focus_problems(_drop(text, column))


def test_the_checker_requires_the_x_prefix_for_custom_columns() -> None:
    text = focus_csv(make_token_lines(month_period(2026, 1, PARIS)), make_account())
    rows = rows_of(text)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0], "Department"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({**r, "Department": "x"} for r in rows)
    assert any("unknown column Department" in p for p in focus_problems(out.getvalue()))


HOSTILE_NAMES = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_display_names_cannot_become_formulas(name: str) -> None:
    period = month_period(2026, 3, PARIS)
    line = token_line(
        period,
        department_id="=cmd|' /C calc'!A0",
        department_name=name,
        model="@model",
        provider="-provider",
        hosting_class="eu_cloud",
        price_class=PriceClass.INPUT,
        tokens=1000,
        unit_price_per_million=Decimal("0.14"),
        price_version="+v",
    )
    text = focus_csv([line], make_account())
    assert_focus_conformant(text)
    [row] = csv.DictReader(io.StringIO(text, newline=""))
    assert row["SubAccountName"] == "'" + name
    assert row["SubAccountId"].startswith("'=")


def test_a_usd_price_fills_the_pricing_currency_columns_with_the_rate_used() -> None:
    period = month_period(2026, 3, PARIS)
    line = token_line(
        period,
        department_id="urgences",
        department_name="Urgences",
        model="gpt-4o-mini",
        provider="azure",
        hosting_class="non_eu",
        price_class=PriceClass.OUTPUT,
        tokens=1_000_000,
        unit_price_per_million=Decimal("0.6") * Decimal("0.92"),
        price_version="gpt-4o-mini@2025-01-01.abc",
        amount=Decimal("0.55"),
        pricing_currency="USD",
        pricing_unit_price=Decimal("0.6"),
        fx_rate=Decimal("0.92"),
    )
    text = focus_csv([line], make_account())
    assert_focus_conformant(text)
    [row] = csv.DictReader(io.StringIO(text, newline=""))
    assert row["PricingCurrency"] == "USD" and row["BillingCurrency"] == "EUR"
    assert row["InvoiceId"] == "2026-03-urgences"  # the statement the row is on
    assert row["PricingCurrencyListUnitPrice"] == "0.6"
    assert row["ListUnitPrice"] == "0.552" and row["x_ExchangeRate"] == "0.92"
    assert row["BilledCost"] == "0.55"
    assert row["PricingCurrencyEffectiveCost"] == "0.597826"  # 0.55 / 0.92, to the micro-dollar


def test_the_checker_catches_a_usd_row_without_its_rate() -> None:
    period = month_period(2026, 3, PARIS)
    line = token_line(
        period,
        department_id="urgences",
        department_name="Urgences",
        model="gpt-4o-mini",
        provider="azure",
        hosting_class="non_eu",
        price_class=PriceClass.OUTPUT,
        tokens=1_000_000,
        unit_price_per_million=Decimal("0.552"),
        price_version="v",
        pricing_currency="USD",
        pricing_unit_price=Decimal("0.6"),
    )
    problems = focus_problems(focus_csv([line], make_account()))
    assert any("without the exchange rate" in p for p in problems)
