"""The live inventory's figures are the ledger's, for every use case (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from billing import directory
from billing.db.database import make_engine
from billing.reports.inventory import (
    UNREGISTERED,
    build_inventory,
    inventory_csv,
    inventory_html,
)
from tests.conftest import CHAT_MODEL, RunningGateway
from tests.governance.factories import make_record, make_use_case, store
from tests.polling import wait_until

NOW = datetime.now(UTC)


async def _inventory(url: str) -> tuple[dict[str, dict[str, object]], str, str]:
    engine = make_engine(url)
    try:
        await directory.create_department(engine, "cardiologie")
        await make_use_case(engine, "cr", department="cardiologie", data_classes=("health",))
        await make_use_case(engine, "silencieux")
        records = [
            make_record(cost_micro_eur=1_250_000, data_class="health"),
            make_record(data_class="personal", deployment="cloud"),
            make_record(status_code=502, error_class="upstream_error", data_class=None),
            make_record(status_code=403, error_class="data_sovereignty_violation"),
            make_record(status_code=403, error_class="use_case_refused", use_case_flag=None),
            make_record(use_case="=ombre", cost_micro_eur=5),
            make_record(at=NOW - timedelta(days=90)),  # outside the period
        ]
        await store(engine, records)
        report = await build_inventory(
            engine,
            NOW - timedelta(days=1),
            NOW + timedelta(days=1),
            hosting_of={"sim": "on_premise", "cloud": "eu_cloud"},
        )
    finally:
        await engine.dispose()
    lines = {line.name: line.as_dict() for line in report.lines}
    return lines, inventory_csv(report), inventory_html(report)


def test_inventory_figures_match_the_ledger(database_url: str) -> None:
    lines, csv_text, html = asyncio.run(_inventory(database_url))
    cr = lines["cr"]
    assert cr["requests"] == 5 and cr["tokens"] == 75
    assert cr["cost_eur"] == "1.25"  # 1 250 000 + 4 x 1 000 micro-euros
    assert cr["policy_refusals"] == 2 and cr["incidents"] == 1
    assert cr["data_classes_seen"] == ["health", "personal"]
    assert cr["hosting_classes"] == ["eu_cloud", "on_premise"]
    assert cr["status"] == "production" and cr["department"] == "cardiologie"
    assert lines["silencieux"]["requests"] == 0
    assert lines["=ombre"]["status"] == UNREGISTERED  # traffic without a record is listed
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["use_case"] for r in rows} == {"cr", "silencieux", "'=ombre"}  # never a formula
    assert "<script" not in html and "=ombre" in html


def test_inventory_route_counts_real_requests(gateway: RunningGateway) -> None:
    client = gateway.sdk()
    client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )
    admin = {"Authorization": "Bearer admin-test-token"}
    url = f"{gateway.url}/admin/reports/inventory"

    def tests_line() -> dict[str, Any] | None:
        # The request's record is queued as its answer ends: read until it is counted.
        report = httpx.get(url, headers=admin).json()
        line = {u["use_case"]: u for u in report["use_cases"]}.get("tests")
        return line if line is not None and line["requests"] else None

    line = wait_until(tests_line, message="the request in the inventory")
    assert line is not None and line["requests"] == 1 and line["models_used"] == [CHAT_MODEL]
    assert line["hosting_classes"] == ["on_premise"]
    assert httpx.get(url, headers=admin, params={"format": "csv"}).text.startswith("use_case,")
    page = httpx.get(url, headers=admin, params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert httpx.get(url, headers=admin, params={"start": "2026-13-01"}).status_code == 400
