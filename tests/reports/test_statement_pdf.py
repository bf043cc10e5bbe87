"""The printed statement: one A4 page for a typical department (needs a headless Chromium)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from billing.db.database import make_engine
from billing.reports.ledger_charges import MonthCharges, month_charges, parse_month
from billing.reports.statement_html import render_html
from billing.reports.statement_pdf import PdfUnavailable, find_chromium, html_to_pdf, page_count
from tests.reports.factories import PARIS, make_costing
from tests.reports.test_closing import seed_october

needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="apt-get install chromium-headless-shell"
)


def october(database_url: str) -> MonthCharges:
    costing = make_costing(cost_centres={"cardiologie": "CC-4410"})

    async def main() -> MonthCharges:
        engine = make_engine(database_url)
        try:
            await seed_october(engine, costing)
            return await month_charges(engine, costing, parse_month("2026-10", PARIS))
        finally:
            await engine.dispose()

    return asyncio.run(main())


@needs_chromium
def test_a_typical_statement_prints_on_one_a4_page(sqlite_url: str) -> None:
    charges = october(sqlite_url)
    for department in ("cardiologie", "urgences", "radiologie"):
        pdf = html_to_pdf(render_html(charges.statement(department)))
        assert pdf.startswith(b"%PDF-")
        assert page_count(pdf) == 1, department
    # A4 is 595 x 842 points.
    assert b"/MediaBox [0 0 594.95996 841.91998]" in pdf


def test_without_a_browser_the_pdf_says_what_to_install(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-browser")
    with pytest.raises(PdfUnavailable):
        html_to_pdf("<p>x</p>", browser=missing)
