"""Chargeback statements: rounded lines that add up, budget variance, CSV and HTML."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.periods import Period, month_period
from billing.pricing.price_book import PriceBook, PriceClass, TokenUsage
from billing.reports.chargeback import StatementError, build_statement, render_csv
from billing.reports.rows import ChargeLine, token_line, token_lines_from_charges, true_up_line
from billing.reports.statement_html import render_html

PARIS = ZoneInfo("Europe/Paris")
MARCH = month_period(2026, 3, PARIS)
NAME = 'Cardio <script>alert("x")</script> & co'


def make_token_line(
    *,
    period: Period = MARCH,
    department_id: str = "cardiologie",
    price_class: PriceClass = PriceClass.INPUT,
    tokens: int = 1_000_000,
    unit_price: str = "0.14",
    model: str = "mistral-medium",
) -> ChargeLine:
    return token_line(
        period,
        department_id=department_id,
        department_name=NAME,
        model=model,
        provider="Mistral AI",
        hosting_class="eu_cloud",
        price_class=price_class,
        tokens=tokens,
        unit_price_per_million=Decimal(unit_price),
        price_version="v1",
    )


def make_lines() -> list[ChargeLine]:
    return [
        make_token_line(tokens=12_345_678, unit_price="0.14"),  # 1.72839492 -> 1.73
        make_token_line(price_class=PriceClass.OUTPUT, tokens=1_000, unit_price="5"),  # 0.005
        make_token_line(price_class=PriceClass.CACHED_INPUT, tokens=3_000, unit_price="5"),  # 0.015
        true_up_line(
            MARCH,
            department_id="cardiologie",
            department_name=NAME,
            provider="CHU",
            hosting_class="on_premise",
            amount=Decimal("-12.345"),
            price_version="pool:h100-a",
            resource_id="h100-a",
        ),
    ]


def test_lines_are_rounded_and_totals_are_their_sums() -> None:
    statement = build_statement("cardiologie", NAME, MARCH, make_lines(), budget=Decimal("100"))
    amounts = [line.amount for line in statement.lines]
    # Half-even to the cent: 0.005 -> 0.00 and 0.015 -> 0.02; -12.345 -> -12.34.
    assert amounts == [Decimal("1.73"), Decimal("0.02"), Decimal("0.00"), Decimal("-12.34")]
    assert statement.usage_total == Decimal("1.75")
    assert statement.true_up_total == Decimal("-12.34")
    assert statement.total == sum(amounts) == Decimal("-10.59")
    assert statement.variance == Decimal("110.59")
    assert [line.is_true_up for line in statement.lines] == [False, False, False, True]


def test_statement_without_budget_has_no_variance() -> None:
    statement = build_statement("cardiologie", NAME, MARCH, make_lines())
    assert statement.budget is None
    assert statement.variance is None
    assert "variance" not in render_csv(statement)


def test_price_change_within_the_month_shows_both_versions() -> None:
    book = PriceBook.from_config(
        {"m": {"input": "1", "output": "2", "effective_from": "2026-01-01"}}, tz=PARIS
    ).with_versions(
        PriceBook.from_config(
            {"m": {"input": "3", "output": "4", "effective_from": "2026-03-15"}}, tz=PARIS
        ).versions
    )
    charges = [
        book.charge("m", TokenUsage(input=1_000_000), datetime(2026, 3, 10, tzinfo=UTC)),
        book.charge("m", TokenUsage(input=1_000_000), datetime(2026, 3, 20, tzinfo=UTC)),
    ]
    lines = token_lines_from_charges(
        MARCH,
        charges,
        department_id="d",
        department_name="D",
        provider="P",
        hosting_class="eu_cloud",
    )
    statement = build_statement("d", "D", MARCH, lines)
    assert [(ln.unit_price, ln.amount) for ln in statement.lines] == [
        (Decimal(1), Decimal("1.00")),
        (Decimal(3), Decimal("3.00")),
    ]
    assert len({ln.price_version for ln in statement.lines}) == 2
    assert statement.total == Decimal("4.00")


def read_csv(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    """Rows of a statement CSV, which starts with a UTF-8 byte-order mark for Excel."""
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def test_csv_lines_add_up_to_the_total() -> None:
    statement = build_statement("cardiologie", NAME, MARCH, make_lines(), budget=Decimal("100"))
    rows = read_csv(render_csv(statement, "en"))
    detail = [r for r in rows if r["row_type"] in ("line", "adjustment")]
    summary = {r["row_type"]: r["amount_eur"] for r in rows if r not in detail}
    assert sum(Decimal(r["amount_eur"]) for r in detail) == Decimal(summary["total"])
    assert summary == {
        "subtotal_external": "1.75",
        "subtotal_onprem": "0.00",
        "subtotal_dedicated": "0.00",
        "subtotal_true_up": "-12.34",
        "subtotal_corrections": "0.00",
        "total": "-10.59",
        "budget": "100.00",
        "variance": "110.59",
    }
    assert {r["status"] for r in rows} == {"provisional"}
    first = detail[0]
    assert first["department_name"] == NAME
    assert first["period"] == "2026-03"
    assert first["consumed_quantity"] == "12345678"
    assert first["quantity"] == "12.345678"
    assert first["unit"] == "1000000 Tokens"
    assert first["unit_price_eur"] == "0.14"


def test_csv_text_cannot_run_as_a_spreadsheet_formula() -> None:
    lines = [make_token_line(model="=HYPERLINK(1)")]
    text = render_csv(build_statement("cardiologie", "@risk", MARCH, lines), "en")
    rows = read_csv(text)
    assert rows[0]["model"] == "'=HYPERLINK(1)"
    assert rows[0]["department_name"] == "'@risk"
    assert rows[-1]["amount_eur"] == "0.14"  # numbers are left alone


def test_html_is_standalone_escaped_and_printable() -> None:
    statement = build_statement("cardiologie", NAME, MARCH, make_lines(), budget=Decimal("100"))
    page = render_html(statement, "en")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert "@media print" in page and "size: A4" in page
    assert "http" not in page  # no external resource
    assert "-10.59" in page and "110.59" in page
    assert "12,345,678 tokens" in page and "per million tokens" in page
    assert "PROVISIONAL" in page


def test_the_statement_is_in_french_by_default_with_french_numbers_and_csv() -> None:
    statement = build_statement(
        "cardiologie",
        "Cardiologie",
        MARCH,
        make_lines(),
        budget=Decimal("12345.6"),
        issuer="CHU Exemple - DSI",
        cost_centre="CC-4410",
    )
    page = render_html(statement)
    assert '<html lang="fr">' in page
    assert "Relevé de refacturation interne" in page and "PROVISOIRE" in page
    assert "cession interne" in page.lower() and "CC-4410" in page
    # The period is the Paris month, printed in local dates, not UTC instants.
    assert "du 1er mars 2026 au 31 mars 2026 inclus" in page and "UTC" not in page
    assert "12\u202f345\u202f678 jetons" in page and "par million de jetons" in page
    assert "12\u202f345,60\u00a0€" in page  # the budget, in French number format
    rows = read_csv(render_csv(statement), delimiter=";")
    total = next(r for r in rows if r["row_type"] == "total")
    assert total["amount_eur"] == "-10,59" and total["description"] == "Total à refacturer"


def test_statement_refuses_foreign_or_out_of_period_lines() -> None:
    with pytest.raises(StatementError):
        build_statement("urgences", "Urgences", MARCH, make_lines())
    april = make_token_line(period=month_period(2026, 4, PARIS))
    with pytest.raises(StatementError):
        build_statement("cardiologie", NAME, MARCH, [april])
