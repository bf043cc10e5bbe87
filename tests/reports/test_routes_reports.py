"""The /admin/reports routes: finance reads everything, a department admin only their own."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.database import make_engine
from billing.directory import Principal
from billing.pricing.costing import Costing
from gateway.api import reports as routes_reports
from gateway.catalog import Catalog, parse_catalog
from gateway.http.error_handlers import install_error_handlers
from gateway.settings import Settings
from gateway.steps.api_keys import generate_key
from gateway.steps.auth import Authenticator
from gateway.steps.pricing import catalog_view
from tests.billing.test_focus import assert_focus_conformant
from tests.reports.factories import PARIS, make_costing, seed_january

ADMIN = {"Authorization": "Bearer admin-token"}
JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}


@dataclass
class FakeServices:
    """The attributes of gateway.services.Services that the report routes read."""

    engine: AsyncEngine
    settings: Settings
    authenticator: Authenticator
    catalog: Catalog
    costing: Costing | None
    timezone: ZoneInfo


def _owner(role: str, department: str, key_id: str) -> Principal:
    return Principal(key_id, 1, f"{role}.user", role, 1, department, None, None)


class Keys:
    """One API key per role; the authenticator resolves them without a database."""

    def __init__(self) -> None:
        self.headers: dict[str, dict[str, str]] = {}
        self.owners: dict[str, Principal] = {}
        for role, department in (
            ("finance", "finances"),
            ("department_admin", "cardiologie"),
            ("member", "cardiologie"),
        ):
            key = generate_key()
            self.owners[key.key_hash] = _owner(role, department, key.key_id)
            self.headers[role] = {"Authorization": f"Bearer {key.secret}"}

    async def lookup(self, digest: str) -> Principal | None:
        return self.owners.get(digest)


def make_app(services: FakeServices) -> FastAPI:
    app = FastAPI()
    app.include_router(routes_reports.router)
    install_error_handlers(app)
    app.state.services = services
    return app


def make_catalog() -> Catalog:
    hosting = {"class": "eu_cloud", "cleared_for": ["public"]}
    deployment = {
        "name": "mm-cloud",
        "kind": "litellm",
        "litellm_model": "mistral/m",
        "hosting": hosting,
    }
    return parse_catalog({"models": [{"name": "mistral-medium", "deployments": [deployment]}]})


def make_services(database_url: str, keys: Keys, costing: Costing | None) -> FakeServices:
    return FakeServices(
        engine=make_engine(database_url),
        settings=Settings(database_url=database_url, admin_token="admin-token"),
        authenticator=Authenticator(keys.lookup, ttl_s=60),
        catalog=make_catalog(),
        costing=costing,
        timezone=PARIS,
    )


async def exercise(database_url: str, with_costing: bool = True) -> dict[str, httpx.Response]:
    costing = make_costing()
    keys = Keys()
    services = make_services(database_url, keys, costing if with_costing else None)
    engine = services.engine
    finance, chief, member = (keys.headers[r] for r in ("finance", "department_admin", "member"))
    calls: dict[str, tuple[dict[str, str], str, dict[str, str]]] = {
        "usage": (finance, "usage", {"group_by": "department", **JANUARY}),
        "usage_csv": (finance, "usage", {"group_by": "department,day", "format": "csv", **JANUARY}),
        "top": (finance, "top", {"by": "user", **JANUARY}),
        "focus": (finance, "focus", {"month": "2026-01"}),
        "chargeback": (finance, "chargeback", {"department": "cardiologie", "month": "2026-01",
                                               "budget": "7000"}),
        "chargeback_html": (ADMIN, "chargeback", {"department": "urgences", "month": "2026-01",
                                                  "format": "html"}),
        "chief_usage": (chief, "usage", {"department": "cardiologie", "group_by": "user",
                                         **JANUARY}),
        "chief_org": (chief, "usage", JANUARY),
        "chief_other": (chief, "usage", {"department": "urgences", **JANUARY}),
        "chief_other_statement": (chief, "chargeback", {"department": "urgences",
                                                        "month": "2026-01"}),
        "chief_statement": (chief, "chargeback", {"department": "cardiologie", "month": "2026-01",
                                                  "format": "csv"}),
        "chief_focus_org": (chief, "focus", {"month": "2026-01"}),
        "chief_focus": (chief, "focus", {"month": "2026-01", "department": "cardiologie"}),
        "member": (member, "usage", {"department": "cardiologie"}),
        "anonymous": ({}, "usage", {}),
        "bad_group": (finance, "usage", {"group_by": "weather"}),
        "bad_month": (finance, "focus", {"month": "2026-13"}),
        "bad_budget": (finance, "usage", {"budget": "lots"}),
        "unknown_dept": (finance, "usage", {"department": "pharmacie"}),
        "unknown_statement": (finance, "chargeback", {"department": "pharmacie",
                                                      "month": "2026-01"}),
        "unknown_focus": (finance, "focus", {"department": "pharmacie", "month": "2026-01"}),
        "hostile_focus": (finance, "focus", {"department": 'x"\r\nSet-Cookie: a=b\u00e9',
                                             "month": "2026-01"}),
        "future_month": (finance, "chargeback", {"department": "urgences", "month": "2999-01"}),
    }  # fmt: skip
    try:
        await seed_january(engine, costing)
        transport = httpx.ASGITransport(app=make_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://hygie") as client:
            return {
                name: await client.get(f"/admin/reports/{path}", headers=headers, params=params)
                for name, (headers, path, params) in calls.items()
            }
    finally:
        await engine.dispose()


def error_code(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()["error"]["code"]


def test_finance_and_department_admin_see_what_they_may(database_url: str) -> None:
    r = asyncio.run(exercise(database_url))

    usage = r["usage"].json()
    assert r["usage"].status_code == 200
    assert [row["department"] for row in usage["data"]] == ["cardiologie", "radiologie", "urgences"]
    assert usage["total"]["cost_eur"] == "4600.600000"
    assert usage["split"]["on_premise"]["cost_eur"] == "4600.000000"
    assert usage["period"]["start"] == "2025-12-31T23:00:00+00:00"

    assert r["usage_csv"].headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r["usage_csv"].text, newline="")))
    assert rows[0]["department"] == "cardiologie" and rows[0]["day"] == "2026-01-05"
    assert rows[-2]["row_type"] == "total" and rows[-2]["cost_eur"] == "4600.600000"
    assert rows[-1]["row_type"] == "note"

    assert [row["user"] for row in r["top"].json()["data"]][:2] == ["alice", "carol"]

    assert (
        r["focus"].status_code == 200 and "attachment" in r["focus"].headers["content-disposition"]
    )
    assert_focus_conformant(r["focus"].text)
    # An open month says so: in the file name, a header and every FOCUS row.
    assert 'filename="focus-2026-01-provisional.csv"' in r["focus"].headers["content-disposition"]
    assert r["focus"].headers["x-hygie-month-status"] == "provisional"
    assert {row["x_ChargeStatus"] for row in csv.DictReader(io.StringIO(r["focus"].text))} == {
        "provisional"
    }

    statement = r["chargeback"].json()
    assert (statement["total_eur"], statement["variance_eur"]) == ("6417.60", "582.40")
    assert r["chargeback_html"].text.startswith("<!DOCTYPE html>")
    assert "3\u202f850,20\u00a0€" in r["chargeback_html"].text and "PROVISOIRE" in (
        r["chargeback_html"].text
    )
    assert statement["status"] == "provisional"

    chief = r["chief_usage"].json()
    assert [row["user"] for row in chief["data"]] == ["alice"]
    assert chief["total"]["cost_eur"] == "2875.600000"
    assert r["chief_statement"].status_code == 200 and "6417,60" in r["chief_statement"].text
    focus_rows = list(csv.DictReader(io.StringIO(r["chief_focus"].text, newline="")))
    assert {row["SubAccountId"] for row in focus_rows} == {"cardiologie"}
    for refused in (
        "chief_org",
        "chief_other",
        "chief_other_statement",
        "chief_focus_org",
        "member",
    ):
        assert error_code(r[refused]) == (403, "forbidden"), refused
    assert error_code(r["anonymous"]) == (401, "invalid_admin_credential")

    assert error_code(r["bad_group"]) == (400, "invalid_request")
    assert r["bad_group"].json()["error"]["param"] == "group_by"
    assert error_code(r["bad_month"]) == (400, "invalid_request")
    assert error_code(r["bad_budget"]) == (400, "invalid_request")
    assert error_code(r["unknown_dept"]) == (404, "not_found")
    assert error_code(r["unknown_statement"]) == (404, "not_found")
    assert error_code(r["unknown_focus"]) == (404, "not_found")
    assert error_code(r["hostile_focus"]) == (400, "invalid_request")
    assert error_code(r["future_month"]) == (404, "not_found")


def test_without_a_cost_model_usage_still_works_and_exports_say_why_not(sqlite_url: str) -> None:
    r = asyncio.run(exercise(sqlite_url, with_costing=False))
    assert r["usage"].status_code == 200
    assert error_code(r["focus"]) == (404, "not_found")
    assert "cost:" in r["focus"].json()["error"]["message"]


def test_catalog_view_reads_pools_and_providers() -> None:
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": "mistral-small",
                    "deployments": [
                        {
                            "name": "ms-onprem",
                            "replicas": ["http://127.0.0.1:9/v1"],
                            "hosting": {"class": "on_premise"},
                            "gpus": {"pool": "h100-a", "count": 2},
                        },
                        {
                            "name": "ms-azure",
                            "kind": "litellm",
                            "litellm_model": "azure/mistral-small",
                        },
                    ],
                }
            ]
        }
    )
    view = catalog_view(catalog)
    assert [(v.deployment, v.kind, v.hosting_class, v.gpus_pool, v.gpus_count, v.provider)
            for v in view] == [
        ("ms-onprem", "vllm", "on_premise", "h100-a", 2, None),
        ("ms-azure", "litellm", "non_eu", None, None, "azure.ai.openai"),
    ]  # fmt: skip


async def close_and_read(database_url: str) -> dict[str, httpx.Response]:
    costing = make_costing()
    keys = Keys()
    services = make_services(database_url, keys, costing)
    engine = services.engine
    month = {"month": "2026-01"}
    try:
        await seed_january(engine, costing)
        transport = httpx.ASGITransport(app=make_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://hygie") as client:
            finance = keys.headers["finance"]
            return {
                "by_finance": await client.post(
                    "/admin/reports/close", headers=finance, params=month
                ),
                "close": await client.post("/admin/reports/close", headers=ADMIN, params=month),
                "again": await client.post("/admin/reports/close", headers=ADMIN, params=month),
                "focus": await client.get("/admin/reports/focus", headers=ADMIN, params=month),
                "statement": await client.get(
                    "/admin/reports/chargeback",
                    headers=ADMIN,
                    params={**month, "department": "urgences", "format": "csv"},
                ),
            }
    finally:
        await engine.dispose()


def test_closing_through_the_api_freezes_the_month(sqlite_url: str) -> None:
    r = asyncio.run(close_and_read(sqlite_url))
    assert error_code(r["by_finance"]) == (403, "forbidden")
    assert r["close"].status_code == 200 and r["close"].json()["status"] == "closed"
    assert r["close"].json()["departments"]["urgences"] == "3850.20"
    assert error_code(r["again"]) == (400, "invalid_request")
    assert 'filename="focus-2026-01.csv"' in r["focus"].headers["content-disposition"]
    assert r["focus"].headers["x-hygie-month-status"] == "closed"
    assert_focus_conformant(r["focus"].text)
    assert 'chargeback-urgences-2026-01.csv"' in r["statement"].headers["content-disposition"]
    assert ";closed;" in r["statement"].text
