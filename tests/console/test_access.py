"""Each role sees the pages, departments and actions the admin API would give it, no more."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from billing import audit, directory
from billing.audit import changes as audit_changes
from billing.db.database import make_engine
from gateway.console.access import PAGES
from tests.conftest import make_catalog
from tests.console.conftest import hidden, open_console

CATALOG = make_catalog("http://127.0.0.1:9/v1")
STAFF_PAGES = {
    "overview",
    "organisation",
    "quotas",
    "models",
    "register",
    "policy",
    "ledger",
    "finance",
}
EXPECTED = {
    "ada": STAFF_PAGES | {"me", "audit"},
    "fiona": STAFF_PAGES | {"me", "audit"},
    "dora": STAFF_PAGES | {"me", "audit"},
    "max": {"me"},
}


def test_every_role_opens_exactly_its_pages(database_url: str, tmp_path: Path) -> None:
    async def scenario() -> dict[str, set[str]]:
        opened: dict[str, set[str]] = {}
        async with open_console(database_url, CATALOG, tmp_path / "spool") as console:
            for person in EXPECTED:
                client = await console.sign_in(person)
                opened[person] = set()
                for page in PAGES:
                    answer = await client.get(f"/console/{page.slug}")
                    assert answer.status_code in (200, 403), (person, page, answer.text)
                    if answer.status_code == 200:
                        opened[person].add(page.slug)
        return opened

    assert asyncio.run(scenario()) == EXPECTED


def test_signed_out_visitors_are_sent_to_sign_in(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            client = console.client()
            root = await client.get("/")
            assert root.status_code == 303 and root.headers["location"] == "/console/"
            for page in PAGES:
                answer = await client.get(f"/console/{page.slug}")
                assert answer.status_code == 303
                assert answer.headers["location"] == "/console/sign-in"
            fragment = await client.post("/console/policy/explain", headers={"hx-request": "1"})
            assert fragment.headers.get("hx-redirect") == "/console/sign-in"

    asyncio.run(scenario())


def test_a_department_admin_sees_and_changes_only_their_department(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            dora = await console.sign_in("dora")
            tree = await dora.get("/console/organisation")
            assert "cardiologie" in tree.text and "radiologie" not in tree.text
            assert "rita" not in tree.text
            csrf = _csrf(tree.text)
            # A user of another department does not exist for her (404, as in the API).
            other = await dora.post(
                "/console/organisation/keys", data={"csrf": csrf, "username": "rita"}
            )
            assert other.status_code == 404
            # Nor may she mint for someone with a role, or create a department.
            assert (
                await dora.post(
                    "/console/organisation/keys", data={"csrf": csrf, "username": "fiona"}
                )
            ).status_code == 403
            assert (
                await dora.post(
                    "/console/organisation/departments", data={"csrf": csrf, "name": "x"}
                )
            ).status_code == 403
            ledger = await dora.get("/console/ledger", params={"department": "radiologie"})
            assert ledger.status_code == 200  # the filter is forced to her own department
            assert 'name="department"' not in ledger.text

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/organisation/departments", {"name": "pediatrie"}),
        ("/console/organisation/users", {"username": "zoe", "department": "cardiologie"}),
        ("/console/organisation/keys", {"username": "max"}),
        ("/console/quotas", {"level": "department", "department": "cardiologie", "rpm": "5"}),
    ],
)
def test_finance_changes_nothing(
    sqlite_url: str, tmp_path: Path, path: str, data: dict[str, str]
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            fiona = await console.sign_in("fiona")
            page = await fiona.get("/console/organisation")
            assert "pediatrie" not in page.text
            answer = await fiona.post(path, data={"csrf": _csrf(page.text), **data})
            assert answer.status_code == 403
            after = await fiona.get("/console/organisation")
            assert "pediatrie" not in after.text and "zoe" not in after.text

    asyncio.run(scenario())


def test_a_member_revokes_only_their_own_key(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            max_ = await console.sign_in("max")
            page = await max_.get("/console/me")
            csrf = _csrf(page.text)
            engine = make_engine(sqlite_url)
            try:
                keys = await directory.list_keys(engine, department="cardiologie")
            finally:
                await engine.dispose()
            dora_key = next(k.id for k in keys if k.username == "dora")
            foreign = await max_.post(
                "/console/me/keys/revoke", data={"csrf": csrf, "key_id": dora_key}
            )
            assert foreign.status_code == 404
            mine = _first_key_id(page.text)
            done = await max_.post("/console/me/keys/revoke", data={"csrf": csrf, "key_id": mine})
            assert done.status_code == 303
            after = await max_.get("/console/me")
            assert mine not in after.text

    asyncio.run(scenario())


def _csrf(html: str) -> str:
    return hidden(html, "csrf")


def _first_key_id(html: str) -> str:
    return hidden(html, "key_id")


def test_quota_form_follows_the_api_rules_for_a_department_admin(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            dora = await console.sign_in("dora")
            page = await dora.get("/console/quotas")
            csrf = hidden(page.text, "csrf")

            async def post(path: str, **data: str) -> int:
                answer = await dora.post(path, data={"csrf": csrf, **data})
                return answer.status_code

            member = {"level": "user", "department": "cardiologie", "username": "max"}
            assert await post("/console/quotas/preview", **member, budget_eur="3.50") == 200
            assert await post("/console/quotas", **member, budget_eur="3.50", rpm="10") == 303
            assert "3,50" in (await dora.get("/console/quotas")).text
            finance = {**member, "username": "fiona"}
            assert await post("/console/quotas", **finance, budget_eur="1") == 403
            other = {"level": "department", "department": "radiologie", "budget_eur": "1"}
            assert await post("/console/quotas/preview", **other) == 404
            assert await post("/console/quotas", **other) == 404
            for bad in ("abc", "1e400", "-1", "NaN"):
                bad_budget = {"level": "department", "department": "cardiologie"}
                assert await post("/console/quotas", **bad_budget, budget_eur=bad) == 400

    asyncio.run(scenario())


def test_console_changes_are_in_the_audit_trail_under_the_signed_in_person(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> list[tuple[str, str, str]]:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            csrf = _csrf((await ada.get("/console/organisation")).text)
            made = await ada.post(
                "/console/organisation/departments", data={"csrf": csrf, "name": "pediatrie"}
            )
            assert made.status_code == 303
            max_ = await console.sign_in("max")
            page = await max_.get("/console/me")
            revoked = await max_.post(
                "/console/me/keys/revoke",
                data={"csrf": _csrf(page.text), "key_id": _first_key_id(page.text)},
            )
            assert revoked.status_code == 303
        engine = make_engine(sqlite_url)
        try:
            entries = await audit.list_entries(engine)
        finally:
            await engine.dispose()
        return [(e.actor, e.action, e.target) for e in entries]

    entries = asyncio.run(scenario())
    assert ("ada", "department.create", "pediatrie") in entries
    assert any(actor == "max" and action == "key.revoke" for actor, action, _ in entries)


def test_a_console_change_whose_audit_entry_fails_does_not_land(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def trail_down(*_: object, **__: object) -> None:
        raise RuntimeError("the audit trail is unavailable")

    async def scenario() -> bool:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            ada = await console.sign_in("ada")
            csrf = _csrf((await ada.get("/console/organisation")).text)
            monkeypatch.setattr(audit_changes, "write_entry", trail_down)
            # In process the error reaches the client as raised (a server answers 500).
            with pytest.raises(RuntimeError, match="audit trail is unavailable"):
                await ada.post(
                    "/console/organisation/departments", data={"csrf": csrf, "name": "pediatrie"}
                )
            monkeypatch.undo()
        engine = make_engine(sqlite_url)
        try:
            return await directory.find_department(engine, "pediatrie") is None
        finally:
            await engine.dispose()

    assert asyncio.run(scenario())
