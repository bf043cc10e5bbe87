"""The console in a real Chromium: each role's pages, the organisation, quotas, finance files,
the explain form and a sub-path deployment."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from billing import directory
from billing.db.database import make_engine
from billing.ledger import repository as ledger
from gateway.app import create_app
from gateway.http.local_server import BackgroundServer
from gateway.settings import Settings
from tests.conftest import CHAT_MODEL, RunningGateway
from tests.console.browser.conftest import ConsoleSite, chromium_executable, console_catalog
from tests.console.conftest import ADMIN_TOKEN, HOSTILE_NAME, seed_people

pytestmark = pytest.mark.slow

STAFF_NAV = [
    "Vue d'ensemble",
    "Services, utilisateurs et clés",
    "Quotas et alertes",
    "Modèles",
    "Registre des usages de l'IA",
    "Politique",
    "Journal",
    "Finances",
    "Ma consommation",
]
NAV = {
    "ada": [*STAFF_NAV, "Audit"],
    "fiona": [*STAFF_NAV, "Audit"],
    "dora": [*STAFF_NAV, "Audit"],
    "max": ["Ma consommation"],
}
PAGES = (
    "overview",
    "organisation",
    "quotas",
    "models",
    "register",
    "policy",
    "ledger",
    "finance",
    "me",
    "audit",
)


async def nav_names(page: Any) -> list[str]:
    links = page.get_by_role("navigation").get_by_role("link")
    return [name.strip() for name in await links.all_inner_texts()]


def chat(gateway: RunningGateway, key: str | None = None) -> str:
    reply = gateway.sdk(key).chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "Bonjour"}], max_tokens=8
    )
    return reply.id


async def ledger_cost(database_url: str, expected_records: int, department: str) -> Decimal:
    """``department``'s total cost in the ledger (euros), once it holds that many records."""
    engine = make_engine(database_url)
    try:
        for _ in range(200):
            records = await ledger.recent_records(engine, limit=1000)
            if len(records) >= expected_records:
                break
            await asyncio.sleep(0.05)
        found = await directory.find_department(engine, department)
    finally:
        await engine.dispose()
    assert len(records) >= expected_records and found is not None
    mine = [r.cost_micro_eur or 0 for r in records if r.department_id == found.id]
    return Decimal(sum(mine)) / 1_000_000


def set_budget(gateway: RunningGateway, department: str, euros: str) -> None:
    """A monthly budget through the admin API (the console's own form is tested elsewhere)."""
    answer = httpx.put(
        f"{gateway.url}/admin/quotas",
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        json={
            "level": "department",
            "department": department,
            "budget_eur": euros,
            "period": "month",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_each_role_sees_its_pages_and_every_page_renders(
    site: ConsoleSite, screenshots: Path
) -> None:
    chat(site.gateway)

    async def scenario() -> None:
        async with site.browsing():
            for person, expected in NAV.items():
                page = await site.sign_in(person)
                assert await nav_names(page) == expected, person
                if person == "max":
                    assert page.url.endswith("/console/me")
                    assert (await page.goto("/console/finance")).status == 403
                    assert (await page.goto("/console/organisation")).status == 403
                    site.errors.clear()  # the two refusals above are logged by the browser
            ada = await site.sign_in("ada")
            for slug in PAGES:
                answer = await ada.goto(f"/console/{slug}")
                assert answer.status == 200, slug
                await ada.screenshot(path=screenshots / f"{slug}.png", full_page=True)
            dark = await site.sign_in("fiona", color_scheme="dark")
            await dark.goto("/console/overview")
            await dark.screenshot(path=screenshots / "overview-dark.png", full_page=True)
            english = await site.sign_in("fiona", locale="en-GB")
            await english.goto("/console/finance")
            assert await english.get_by_role("heading", name="Usage and cost").is_visible()

    asyncio.run(scenario())


def test_governance_journey_register_approval_audit_and_ledger_pages(
    site: ConsoleSite, screenshots: Path
) -> None:
    for _ in range(3):
        chat(site.gateway)

    async def scenario() -> None:
        async with site.browsing():
            page = await site.sign_in("ada")
            await page.goto("/console/register")
            form = page.locator("form[action$='/console/register']")
            await form.get_by_label("Usage", exact=True).fill("aide-codage")
            await form.get_by_label("Finalité").fill(HOSTILE_NAME)
            await form.get_by_label("Service").select_option("cardiologie")
            await form.get_by_label("health").check()
            await form.get_by_label("Catégorie AI Act").select_option("limited")
            await form.get_by_role("button", name="Déclarer").click()
            assert await page.get_by_role("status").inner_text() == "Usage déclaré."
            listed = page.locator("table.register").get_by_text(HOSTILE_NAME, exact=True)
            assert await listed.count() == 1  # shown as text, never run
            await page.screenshot(path=screenshots / "register.png", full_page=True)
            await page.goto("/console/models")
            card = page.locator("section.card").first
            await card.get_by_label("Motif").fill("Validé en comité")
            await card.get_by_role("button", name="Approuver").click()
            assert (
                await page.get_by_role("status").inner_text() == "Étape d'approbation enregistrée."
            )
            assert await page.get_by_text("Validé en comité").count() == 1
            await page.screenshot(path=screenshots / "models-approval.png", full_page=True)
            await page.goto("/console/audit")
            assert await page.get_by_role("cell", name="use_case.create").count() == 1
            await page.get_by_role("button", name="Vérifier la chaîne").click()
            assert "intacte" in await page.get_by_role("status").inner_text()
            await page.screenshot(path=screenshots / "audit-verified.png", full_page=True)
            await page.goto("/console/ledger")
            assert await page.locator("table.ledger tbody tr").count() >= 3
            await page.screenshot(path=screenshots / "ledger-explorer.png", full_page=True)

    asyncio.run(scenario())


def test_keyboard_reaches_the_navigation_and_labelled_controls(site: ConsoleSite) -> None:
    async def scenario() -> None:
        async with site.browsing():
            page = await site.sign_in("ada")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Aller au contenu"
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Vue d'ensemble"
            await page.goto("/console/organisation")
            for label in ("Identifiant du service", "Nom de la clé", "Cas d'usage"):
                assert await page.get_by_label(label, exact=True).first.is_visible()

    asyncio.run(scenario())


def test_admin_creates_a_department_user_and_key_then_a_quota_refuses_requests(
    site: ConsoleSite, screenshots: Path
) -> None:
    async def scenario() -> str:
        async with site.browsing():
            page = await site.sign_in("ada")
            await page.goto("/console/organisation")
            department_form = page.locator("form[action$='/organisation/departments']")
            await department_form.get_by_label("Identifiant du service").fill("pediatrie")
            await department_form.get_by_label("Nom affiché").fill("Pédiatrie")
            await department_form.get_by_role("button", name="Créer").click()
            assert await page.get_by_role("status").inner_text() == "Service créé."
            user_form = page.locator("form[action$='/organisation/users']")
            await user_form.get_by_label("Identifiant").fill("dr.pedia")
            await user_form.get_by_label("Nom affiché").fill(HOSTILE_NAME)
            await user_form.get_by_label("Service").select_option("pediatrie")
            await user_form.get_by_role("button", name="Créer").click()
            assert await page.get_by_role("status").inner_text() == "Utilisateur créé."
            assert await page.get_by_text(f"dr.pedia ({HOSTILE_NAME})").count() == 1  # as text
            key_form = page.locator("form[action$='/organisation/keys']")
            await key_form.get_by_label("Identifiant").select_option("dr.pedia")
            await key_form.get_by_label("Nom de la clé").fill("poste de soins")
            await key_form.get_by_label("Cas d'usage").fill("tests")  # keys serve a registered use
            await key_form.get_by_role("button", name="Créer").click()
            secret: str = await page.get_by_label("Clé", exact=True).input_value()
            assert secret.startswith("hyg_sk_")
            await page.get_by_role("button", name="Copier").click()
            await page.get_by_text("Copiée.").wait_for()
            await page.screenshot(path=screenshots / "new-key.png", full_page=True)
            await page.goto("/console/organisation")
            assert secret not in await page.content()
            return secret

    secret = asyncio.run(scenario())
    assert chat(site.gateway, secret)

    async def set_quota() -> None:
        async with site.browsing():
            page = await site.sign_in("ada")
            await page.goto("/console/quotas")
            await page.get_by_label("Niveau", exact=True).select_option("department")
            await page.get_by_label("Service", exact=True).select_option("pediatrie")
            await page.get_by_label("Budget mensuel (€)").fill("0")
            await page.get_by_role("button", name="Aperçu").click()
            preview = page.locator("#quota-preview")
            await preview.get_by_role("alert").wait_for()
            assert "déjà atteint" in await preview.inner_text()
            await page.get_by_role("button", name="Enregistrer").click()
            assert await page.get_by_role("status").inner_text() == "Enregistré."
            assert "pediatrie" in await page.locator("table").first.inner_text()
            await page.screenshot(path=screenshots / "quotas-set.png", full_page=True)

    asyncio.run(set_quota())
    with pytest.raises(openai.APIStatusError) as refused:
        chat(site.gateway, secret)
    assert refused.value.status_code == 429
    assert chat(site.gateway)  # another department is untouched


def test_finance_statement_and_focus_files_match_the_ledger(
    site: ConsoleSite, tmp_path: Path, screenshots: Path
) -> None:
    for _ in range(3):
        chat(site.gateway)
    chat(site.gateway, site.keys["rita"])  # another department, left out of the statement
    set_budget(site.gateway, "cardiologie", "5.00")
    set_budget(site.gateway, "radiologie", "2.00")

    async def scenario() -> None:
        expected = await ledger_cost(site.gateway.database_url, 4, "cardiologie")
        cents = expected.quantize(Decimal("0.01"))
        assert cents > 0
        async with site.browsing():
            page = await site.sign_in("fiona")
            await page.goto("/console/finance")
            assert "Europe/Paris" in await page.locator("p.period").inner_text()
            await page.get_by_label("Service", exact=True).select_option("cardiologie")
            await page.get_by_role("button", name="Voir le relevé").click()
            await page.wait_for_url("**/finance/statement?**")
            await page.screenshot(path=screenshots / "statement.png", full_page=True)
            await page.emulate_media(media="print")  # printed: the statement, no navigation
            assert not await page.get_by_role("navigation").is_visible()
            assert await page.locator("#statement-total").is_visible()
            await page.emulate_media(media="screen")
            shown = await page.locator("#statement-total").inner_text()
            assert shown.replace("\u202f", "").replace("\u00a0€", "") == f"{cents}".replace(
                ".", ","
            )
            async with page.expect_download() as statement_download:
                await page.get_by_role("link", name="Télécharger (CSV)").click()
            statement_file = tmp_path / "statement.csv"
            await (await statement_download.value).save_as(statement_file)
            text = statement_file.read_text(encoding="utf-8-sig")
            assert f"{cents}".replace(".", ",") in text
            await page.goto("/console/finance")
            async with page.expect_download() as focus_download:
                await page.get_by_role("link", name="Télécharger l'export FOCUS du mois").click()
            focus_file = tmp_path / "focus.csv"
            await (await focus_download.value).save_as(focus_file)
            rows = list(csv.DictReader(io.StringIO(focus_file.read_text(encoding="utf-8-sig"))))
            billed = [r for r in rows if r["SubAccountId"] == "cardiologie"]
            assert sum((Decimal(r["BilledCost"]) for r in billed), Decimal(0)) == cents
            await page.goto("/console/finance")
            await page.screenshot(path=screenshots / "finance.png", full_page=True)
            await page.goto("/console/overview")
            await page.screenshot(path=screenshots / "overview.png", full_page=True)

    asyncio.run(scenario())


def test_the_explain_form_shows_the_decision(site: ConsoleSite, screenshots: Path) -> None:
    async def scenario() -> None:
        async with site.browsing():
            page = await site.sign_in("dora")
            await page.goto("/console/policy")
            await page.get_by_label("Requête", exact=True).fill(
                "Compte rendu de M. Jean Dupont, joignable à jean.dupont@example.org"
            )
            await page.get_by_role("button", name="Expliquer").click()
            result = page.locator("#explain-result")
            await result.get_by_text("EMAIL").first.wait_for()
            text = await result.inner_text()
            assert "health" in text and "jean.dupont@example.org" not in text
            await page.screenshot(path=screenshots / "policy-explain.png", full_page=True)

    asyncio.run(scenario())


def test_the_console_works_behind_a_proxy_sub_path(
    simulator: BackgroundServer, sqlite_url: str, tmp_path: Path
) -> None:
    chromium_executable()
    asyncio.run(seed_people(sqlite_url))
    settings = Settings(
        database_url=sqlite_url,
        spool_dir=tmp_path / "spool",
        admin_token=ADMIN_TOKEN,
        root_path="/ia",
    )
    app = create_app(settings, console_catalog(simulator.url), migrate=False)

    async def behind_proxy(scope: Any, receive: Any, send: Any) -> None:
        # What a reverse proxy under /ia and uvicorn --root-path /ia hand the application.
        if scope["type"] == "http":
            scope = {**scope, "root_path": "/ia"}
        await app(scope, receive, send)

    server = BackgroundServer(behind_proxy).start()
    site = ConsoleSite(RunningGateway(server.url, "", "", sqlite_url, server), prefix="/ia")

    async def scenario() -> None:
        async with site.browsing():
            page = await site.sign_in("ada")
            assert page.url.endswith("/ia/console/overview")
            await page.get_by_role("link", name="Finances").click()
            await page.wait_for_url("**/ia/console/finance")
            radius = await page.evaluate(
                "getComputedStyle(document.querySelector('.card')).borderRadius"
            )
            assert radius == "6px"  # the stylesheet came from under the sub-path

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
