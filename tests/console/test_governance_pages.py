"""The console's governance pages: the audit trail, the register of AI uses, model approvals,
the patient page, and the ledger explorer's keyset pages and streamed export.

In process (httpx over ASGI) against the real application and a real database.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from billing import audit, directory
from billing.audit import Actor
from billing.db.database import make_engine
from billing.ledger.record import LedgerRecord
from billing.ledger.repository import insert_records
from tests.conftest import CHAT_MODEL, make_catalog
from tests.console.conftest import HOSTILE_NAME, hidden, open_console

CARD = {
    "provenance": HOSTILE_NAME,
    "licence": "Apache-2.0",
    "intended_use": "Résumés de comptes rendus",
    "limitations": "Hallucinations possibles",
    "evaluation_notes": "Évalué sur 200 comptes rendus",
}
CATALOG = make_catalog("http://127.0.0.1:9/v1", card=CARD)


async def _entries(url: str, action: str) -> list[audit.AuditEntry]:
    engine = make_engine(url)
    try:
        return await audit.list_entries(engine, action=action)
    finally:
        await engine.dispose()


async def _csrf(client: httpx.AsyncClient, page: str) -> str:
    return hidden((await client.get(f"/console/{page}")).text, "csrf")


def _table(page: str) -> str:
    """The rows of a page's table (what the page lists, without its forms and hints)."""
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def _links(page: str, rel: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'rel="{rel}" href="([^"]+)"', page)]


def test_the_audit_page_follows_the_api_scoping_and_pages_back(
    database_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(database_url, CATALOG, tmp_path / "spool") as console:
            engine = make_engine(database_url)
            try:
                for i in range(60):
                    await audit.append(
                        engine,
                        Actor("ada", "admin"),
                        "quota.set",
                        f"q{i}",
                        department="cardiologie",
                    )
                await audit.append(
                    engine,
                    Actor("rita", "department_admin"),
                    "key.revoke",
                    HOSTILE_NAME,
                    department="radiologie",
                    reason="départ",
                )
            finally:
                await engine.dispose()
            ada, dora = await console.sign_in("ada"), await console.sign_in("dora")
            fiona, max_ = await console.sign_in("fiona"), await console.sign_in("max")
            page = (await ada.get("/console/audit")).text
            assert HOSTILE_NAME not in page and html.escape(HOSTILE_NAME) in page
            assert "key.revoke" in _table(page) and "départ" in page
            older = _links(page, "next")
            assert len(older) == 1  # 61 entries and more: a second page
            second = (await ada.get(f"/console/audit?{older[0].split('?', 1)[1]}")).text
            assert "<td>q0</td>" in _table(second) and "key.revoke" not in _table(second)
            # A department admin sees her department's entries only; finance sees all.
            mine = (await dora.get("/console/audit", params={"action": "key.*"})).text
            assert "key.revoke" not in _table(mine) and "/console/audit/verify" not in mine
            assert "key.revoke" in _table((await fiona.get("/console/audit")).text)
            assert (await max_.get("/console/audit")).status_code == 403
            only = (await ada.get("/console/audit", params={"actor": "rita"})).text
            assert "quota.set" not in _table(only) and "key.revoke" in _table(only)
            for bad in ({"since": "yesterday"}, {"before": "-1"}, {"actor": "a\x00b"}):
                assert (await ada.get("/console/audit", params=bad)).status_code == 400

    asyncio.run(scenario())


def test_verifying_the_chain_names_the_first_broken_link(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada, fiona = await console.sign_in("ada"), await console.sign_in("fiona")
            csrf = await _csrf(ada, "audit")
            made = await ada.post(
                "/console/organisation/departments",
                data={"csrf": await _csrf(ada, "organisation"), "name": "pediatrie"},
            )
            assert made.status_code == 303
            holds = await ada.post("/console/audit/verify", data={"csrf": csrf})
            assert holds.status_code == 200 and 'role="status"' in holds.text
            forged = await ada.post("/console/audit/verify", data={"csrf": "forged"})
            assert forged.status_code == 403
            finance = await fiona.post(
                "/console/audit/verify", data={"csrf": await _csrf(fiona, "audit")}
            )
            assert finance.status_code == 403
            engine = make_engine(sqlite_url)
            try:
                async with engine.begin() as connection:
                    await connection.execute(
                        text("UPDATE audit_log SET target = 'x' WHERE seq = 1")
                    )
            finally:
                await engine.dispose()
            broken = await ada.post("/console/audit/verify", data={"csrf": csrf})
            assert 'role="alert"' in broken.text and "1 (hash mismatch)" in broken.text

    asyncio.run(scenario())


def test_the_register_is_read_by_staff_and_changed_by_admins_with_audit(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada, dora = await console.sign_in("ada"), await console.sign_in("dora")
            fiona, max_ = await console.sign_in("fiona"), await console.sign_in("max")
            csrf = await _csrf(ada, "register")
            new = {
                "csrf": csrf,
                "name": "triage-urgences",
                "purpose": HOSTILE_NAME,
                "department": "cardiologie",
                "responsible": "=cmd|' /C calc'!A0",
                "dc_health": "on",
                "dpia_status": "done",
                "dpia_date": "2026-11-02",
                "ai_act_category": "high_risk",
                "ai_act_reason": "Annexe III",
                "status": "pilot",
                "allowed_models": CHAT_MODEL,
            }
            made = await ada.post("/console/register", data=new)
            assert made.status_code == 303, made.text
            page = (await ada.get("/console/register?done=created")).text
            assert HOSTILE_NAME not in page and html.escape(HOSTILE_NAME) in page
            assert "Annexe III" in page and "2026-11-02" in page
            assert (await ada.post("/console/register", data=new)).status_code == 409
            assert (await ada.post("/console/register", data=new | {"csrf": ""})).status_code == 403
            for bad in ({"name": "../x"}, {"dpia_date": "soon"}, {"status": "live"}):
                assert (await ada.post("/console/register", data=new | bad)).status_code == 400
            status = await ada.post(
                "/console/register/triage-urgences/status",
                data={"csrf": csrf, "status": "production"},
            )
            assert status.status_code == 303
            edit = await ada.post(
                "/console/register/triage-urgences",
                data=new | {"purpose": "Tri", "status": "production"},
            )
            assert edit.status_code == 303
            missing = await ada.post(
                "/console/register/nope/status", data={"csrf": csrf, "status": "pilot"}
            )
            assert missing.status_code == 404
            # Everyone on staff reads it; only administrators see the forms or may post.
            for reader in (dora, fiona):
                seen = (await reader.get("/console/register")).text
                assert "triage-urgences" in seen and 'action="/console/register"' not in seen
                refused = await reader.post(
                    "/console/register/triage-urgences/status",
                    data={"csrf": await _csrf(reader, "register"), "status": "retired"},
                )
                assert refused.status_code == 403
            assert (await max_.get("/console/register")).status_code == 403
            # The patient page: a draft to review (not for a department admin), then published.
            draft = await fiona.get("/console/register/patient-page")
            assert draft.status_code == 200 and "Tri" in draft.text
            assert "script-src" not in draft.headers["content-security-policy"]
            assert (await dora.get("/console/register/patient-page")).status_code == 403
            public = console.client()
            assert (await public.get("/public/ai-uses")).status_code == 404
            published = await ada.post(
                "/console/register/patient-page/publish", data={"csrf": csrf}
            )
            assert published.status_code == 303
            assert "Tri" in (await public.get("/public/ai-uses")).text
        for action, count in (
            ("use_case.create", 1),
            ("use_case.status", 1),
            ("use_case.update", 1),
            ("patient_page.publish", 1),
        ):
            entries = await _entries(sqlite_url, action)
            assert len(entries) == count, action
            assert entries[0].actor == "ada" and entries[0].actor_role == "admin"
        created = (await _entries(sqlite_url, "use_case.create"))[0]
        assert created.after["data_classes"] == ["health"]

    asyncio.run(scenario())


def test_models_show_their_card_and_admins_decide_approvals(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada, fiona = await console.sign_in("ada"), await console.sign_in("fiona")
            page = (await ada.get("/console/models")).text
            assert HOSTILE_NAME not in page and html.escape(HOSTILE_NAME) in page
            assert "Apache-2.0" in page and "Hallucinations possibles" in page
            csrf = hidden(page, "csrf")

            async def step(client: httpx.AsyncClient, **data: str) -> int:
                answer = await client.post("/console/models/approval", data={"csrf": csrf, **data})
                return answer.status_code

            assert await step(ada, model=CHAT_MODEL, step="request", reason="Nouveau") == 303
            assert await step(ada, model=CHAT_MODEL, step="reject") == 400  # no reason
            assert await step(ada, model=CHAT_MODEL, step="reject", reason=HOSTILE_NAME) == 303
            assert await step(ada, model="unknown-model", step="approve") == 404
            assert await step(ada, model=CHAT_MODEL, step="delete") == 400
            assert await step(fiona, model=CHAT_MODEL, step="approve") in (403,)
            after = (await ada.get("/console/models")).text
            assert "Nouveau" in after and html.escape(HOSTILE_NAME) in after
            assert after.count("rejet") >= 1  # the effective approval is the last step
            read_only = (await fiona.get("/console/models")).text
            assert "/console/models/approval" not in read_only
        rejected = await _entries(sqlite_url, "model.rejected")
        assert [e.target for e in rejected] == [CHAT_MODEL]
        assert rejected[0].after["reason"] == HOSTILE_NAME
        assert len(await _entries(sqlite_url, "model.requested")) == 1

    asyncio.run(scenario())


def _record(i: int, user_id: int, department_id: int, at: datetime) -> LedgerRecord:
    return LedgerRecord(
        request_id=f"req-{i:04d}",
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        endpoint="chat",
        status_code=429 if i % 10 == 0 else 200,
        latency_ms=12.0,
        user_id=user_id,
        department_id=department_id,
        use_case="tests",
        model=CHAT_MODEL,
        deployment="sim",
        prompt_tokens=10,
        completion_tokens=5,
        cost_micro_eur=1000,
    )


async def _fill_ledger(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        users = {u.username: u for u in await directory.list_users(engine)}
        now = datetime.now(UTC).replace(microsecond=0)
        records = [
            _record(
                i,
                users["max" if i % 2 else "rita"].id,
                users["max" if i % 2 else "rita"].department_id,
                now - timedelta(minutes=i // 3),  # three records share each instant
            )
            for i in range(count)
        ]
        await insert_records(engine, records)
    finally:
        await engine.dispose()


def _ids(page: str) -> list[str]:
    return re.findall(r"<tr><td>[^<]*</td><td>", page)


def test_the_ledger_explorer_pages_by_keyset_and_streams_the_export(
    database_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(database_url, CATALOG, tmp_path / "spool") as console:
            await _fill_ledger(database_url, 130)
            ada, dora = await console.sign_in("ada"), await console.sign_in("dora")
            first = (await ada.get("/console/ledger")).text
            assert len(_ids(first)) == 50 and not _links(first, "prev")
            seen = 50
            page, pages = first, [first]
            while nxt := _links(page, "next"):
                page = (await ada.get(f"/console/ledger?{nxt[0].split('?', 1)[1]}")).text
                pages.append(page)
                seen += len(_ids(page))
            assert seen == 130 and len(pages) == 3
            # Previous from the third page is the second, from the second the first.
            back = _links(pages[2], "prev")[0].split("?", 1)[1]
            assert (await ada.get(f"/console/ledger?{back}")).text == pages[1]
            back = _links(pages[1], "prev")[0].split("?", 1)[1]
            assert (await ada.get(f"/console/ledger?{back}")).text == first
            # Filters: a user, a status code; an unknown user matches nothing.
            rita = (await ada.get("/console/ledger", params={"user": "rita"})).text
            assert "max" not in re.sub(r"<form.*?</form>", "", rita, flags=re.S)
            refused = (await ada.get("/console/ledger", params={"status": "429"})).text
            assert len(_ids(refused)) == 13
            nobody = (await ada.get("/console/ledger", params={"user": HOSTILE_NAME})).text
            assert len(_ids(nobody)) == 0 and html.escape(HOSTILE_NAME) in nobody
            for bad in ({"cursor": "not-a-cursor"}, {"status": "2000"}, {"decision": "x"}):
                assert (await ada.get("/console/ledger", params=bad)).status_code == 400
            # The export streams every matching row, with the page's filters.
            export = await ada.get("/console/ledger.csv")
            assert export.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(export.text)))
            assert len(rows) == 130 and len({r["request_id"] for r in rows}) == 130
            only_429 = await ada.get("/console/ledger.csv", params={"status": "429"})
            assert len(list(csv.DictReader(io.StringIO(only_429.text)))) == 13
            # A department admin sees her department only, whatever she asks for.
            own = await dora.get("/console/ledger.csv", params={"department": "radiologie"})
            departments = {r["department"] for r in csv.DictReader(io.StringIO(own.text))}
            assert departments == {"cardiologie"}

    asyncio.run(scenario())


def test_the_overview_skips_counting_users_and_keeps_every_other_figure(
    database_url: str, tmp_path: Path
) -> None:
    from zoneinfo import ZoneInfo

    from billing.reports.date_range import DateRange
    from billing.reports.report import Dimension, usage_report

    async def scenario() -> None:
        async with open_console(database_url, CATALOG, tmp_path / "spool") as console:
            await _fill_ledger(database_url, 40)
            engine = make_engine(database_url)
            try:
                period = DateRange.parse(
                    None, None, tz=ZoneInfo(console.settings.org_timezone), now=datetime.now(UTC)
                )
                dims = (Dimension.DEPARTMENT, Dimension.DAY)
                full = await usage_report(engine, period=period, group_by=dims)
                lean = await usage_report(engine, period=period, group_by=dims, active_users=False)
            finally:
                await engine.dispose()
            assert full.total.active_users == 2 and lean.total.active_users == 0
            assert lean.total.requests == full.total.requests == 40
            assert [b.key for b in lean.buckets] == [b.key for b in full.buckets]
            assert lean.total.cost_micro_eur == full.total.cost_micro_eur
            for name, figures in full.split.items():
                assert lean.split[name].requests == figures.requests, name
                assert lean.split[name].cost_micro_eur == figures.cost_micro_eur, name
            for a, b in zip(lean.buckets, full.buckets, strict=True):
                assert a.figures.cost_micro_eur == b.figures.cost_micro_eur
                assert a.figures.requests == b.figures.requests
            overview = await (await console.sign_in("ada")).get("/console/overview")
            assert overview.status_code == 200

    asyncio.run(scenario())
