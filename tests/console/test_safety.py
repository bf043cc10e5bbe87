"""The console's defences: CSRF on every change, a strict CSP, escaping, bounded forms, no
secret after the one-time display, and the sub-path deployment."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.console.rendering import CONTENT_SECURITY_POLICY
from tests.conftest import make_catalog
from tests.console.conftest import (
    FORMULA_NAME,
    HOSTILE_NAME,
    hidden,
    open_console,
)

CATALOG = make_catalog("http://127.0.0.1:9/v1")
CHANGES = [
    ("/console/organisation/departments", {"name": "pediatrie"}),
    ("/console/organisation/users", {"username": "zoe", "department": "cardiologie"}),
    ("/console/organisation/keys", {"username": "max"}),
    ("/console/organisation/keys/revoke", {"key_id": "whatever"}),
    ("/console/quotas", {"level": "department", "department": "cardiologie", "rpm": "5"}),
    ("/console/quotas/preview", {"level": "department", "department": "cardiologie"}),
    ("/console/policy/explain", {"request": "bonjour"}),
    ("/console/me/keys/revoke", {"key_id": "whatever"}),
    ("/console/sign-out", {"go": "1"}),
]


def test_every_change_needs_the_session_csrf_token(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            for path, data in CHANGES:
                for token in (None, "forged", ""):
                    form = data if token is None else {**data, "csrf": token}
                    answer = await ada.post(path, data=form)
                    assert answer.status_code == 403, (path, token, answer.status_code)
            # Another session's token is no good either.
            other = await console.sign_in("ada")
            their_token = hidden((await other.get("/console/overview")).text, "csrf")
            answer = await ada.post(CHANGES[0][0], data={**CHANGES[0][1], "csrf": their_token})
            assert answer.status_code == 403
            assert "pediatrie" not in (await ada.get("/console/organisation")).text

    asyncio.run(scenario())


def test_pages_carry_a_strict_content_security_policy(sqlite_url: str, tmp_path: Path) -> None:
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'self'")

    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            for path in ("/console/sign-in", "/console/overview", "/console/finance"):
                client = ada if path != "/console/sign-in" else console.client()
                answer = await client.get(path)
                assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert answer.headers["x-frame-options"] == "DENY"
                assert answer.headers["referrer-policy"] == "no-referrer"
                assert answer.headers["cache-control"] == "no-store"
                body = answer.text
                assert (
                    "<script>" not in body and "style=" not in body and " on" + "click" not in body
                )

    asyncio.run(scenario())


def test_hostile_names_render_as_text_and_csv_cells_cannot_be_formulas(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            page = await ada.get("/console/organisation")
            assert HOSTILE_NAME not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "=cmd|&#39; /C calc&#39;!A0" in page.text
            # The member with the hostile display name sees it escaped in the header too.
            max_page = await (await console.sign_in("max")).get("/console/me")
            assert HOSTILE_NAME not in max_page.text

    asyncio.run(scenario())


def test_ledger_csv_neutralises_formulas() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from billing.ledger.record import LedgerRecord
    from gateway.console.pages.ledger import Names, rows_csv

    at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    row = LedgerRecord(
        request_id="r1",
        started_at=at,
        finished_at=at,
        endpoint="chat",
        status_code=200,
        latency_ms=1.0,
        user_id=2,
        department_id=1,
        use_case="+1",
        model="@SUM(A1)",
        deployment="-2",
        data_class="health",
        policy_decision="allow",
        prompt_tokens=3,
        completion_tokens=4,
        cost_micro_eur=1_500_000,
    )
    names = Names({1: '=HYPERLINK("http://x")'}, {2: FORMULA_NAME})
    text = rows_csv([row], names, ZoneInfo("Europe/Paris"), header=True)
    line = text.splitlines()[1]
    assert "2026-03-29T00:30:00+01:00" in line  # the organisation's day, not UTC's
    for cell in line.split(","):
        assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), cell
    assert "1.500000" in line


def test_a_new_key_is_shown_once_and_never_again(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            dora = await console.sign_in("dora")
            page = await dora.get("/console/organisation")
            made = await dora.post(
                "/console/organisation/keys",
                data={"csrf": hidden(page.text, "csrf"), "username": "max", "name": "poste 12"},
            )
            assert made.status_code == 201
            secret = hidden(made.text.replace("readonly value", 'name="new" value'), "new")
            assert len(secret) > 20
            for path in ("/console/organisation", "/console/audit", "/console/me"):
                assert secret not in (await dora.get(path)).text
            ada = await console.sign_in("ada")
            for path in ("/console/organisation", "/console/audit", "/console/ledger"):
                assert secret not in (await ada.get(path)).text

    asyncio.run(scenario())


def test_forms_are_bounded_and_typed(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            csrf = hidden((await ada.get("/console/overview")).text, "csrf")
            huge = await ada.post(
                "/console/policy/explain", data={"csrf": csrf, "request": "x" * 200_000}
            )
            assert huge.status_code == 413
            typed = await ada.post("/console/policy/explain", json={"csrf": csrf, "request": "x"})
            assert typed.status_code == 415
            odd = await ada.post(
                "/console/organisation/departments",
                data={"csrf": csrf, "name": "ca\u0301rdio\u202e"},
            )
            assert odd.status_code == 400
            bad_bytes = await ada.post(
                "/console/organisation/departments",
                content=b"csrf=" + csrf.encode() + b"&name=%FF%FE",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert bad_bytes.status_code in (400, 403)
            dates = await ada.get("/console/ledger", params={"from": "2026-13-45"})
            assert dates.status_code == 400

    asyncio.run(scenario())


def test_explain_shows_the_decision_and_keeps_nothing(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pasted = "Patient Jean Dupont, NIR 1 85 05 78 006 084 36, courriel jean.dupont@example.org"

    async def scenario() -> str:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            csrf = hidden((await ada.get("/console/policy")).text, "csrf")
            answer = await ada.post(
                "/console/policy/explain",
                data={"csrf": csrf, "request": pasted, "department": "cardiologie"},
                headers={"hx-request": "true"},
            )
            assert answer.status_code == 200
            return answer.text

    with caplog.at_level(logging.DEBUG):
        fragment = asyncio.run(scenario())
    assert "EMAIL \u00d7 1" in fragment and "PERSON \u00d7 1" in fragment
    assert "health" in fragment
    assert "1 85 05 78" not in fragment and "jean.dupont" not in fragment
    assert "Dupont" not in caplog.text and "1 85 05" not in caplog.text


def test_the_console_works_under_a_sub_path(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(
            sqlite_url, CATALOG, tmp_path / "spool", root_path="/ia"
        ) as console:
            client = console.client()
            root = await client.get("/ia/")
            assert root.headers["location"] == "/ia/console/"
            ada = await console.sign_in("ada")
            page = await ada.get("/ia/console/overview")
            assert page.status_code == 200
            assert 'href="/ia/console/static/console.css"' in page.text
            assert 'href="/ia/console/finance"' in page.text
            css = await ada.get("/ia/console/static/console.css")
            assert css.status_code == 200 and "prefers-color-scheme" in css.text
            assert "Path=/ia/console/" in (await redeem_cookie(console))

    asyncio.run(scenario())


async def redeem_cookie(console) -> str:
    from tests.console.conftest import redeem

    answer = await redeem(console.client(), console.link("fiona"), console.root_path)
    return answer.headers["set-cookie"]
