"""French by default, English on request; every message exists in both."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.console.i18n import MESSAGES, money, number, pick_language
from tests.conftest import make_catalog
from tests.console.conftest import open_console

TEMPLATES = Path(__file__).resolve().parents[2] / "gateway" / "console" / "templates"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fr"),
        ("", "fr"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,de;q=0.9", "fr"),
        ("de,en;q=0.5,fr;q=0.4", "en"),
        ("en;q=0.3,fr;q=0.8", "fr"),
        ("en;q=abc", "fr"),
        ("*", "fr"),
        ("en;q=0", "fr"),
        ("x" * 10_000, "fr"),
    ],
)
def test_language_follows_the_browser(header: str | None, expected: str) -> None:
    assert pick_language(header) == expected


def test_every_message_has_both_languages_and_templates_use_known_keys() -> None:
    for key, (fr, en) in MESSAGES.items():
        assert fr and en, key
        assert set(re.findall(r"{(\w+)}", fr)) == set(re.findall(r"{(\w+)}", en)), key
    used = set()
    for template in TEMPLATES.glob("*.html"):
        found = re.findall(r"""t\(["']([a-z_.]+)["']""", template.read_text())
        used |= {key for key in found if not key.endswith(".")}  # prefixes of computed keys
    assert used - set(MESSAGES) == set()


def test_amounts_follow_the_language() -> None:
    assert money(Decimal("1234.565"), "fr") == "1\u202f234,56\u00a0€"
    assert money("1234.575", "en") == "€1,234.58"
    assert number(1234567, "fr") == "1\u202f234\u202f567"
    assert number(1234567, "en") == "1,234,567"


def test_pages_are_french_by_default_and_english_on_request(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> tuple[str, str]:
        catalog = make_catalog("http://127.0.0.1:9/v1")
        async with open_console(sqlite_url, catalog, tmp_path / "spool") as console:
            french = await console.sign_in("fiona")
            english = await console.sign_in("fiona", headers={"accept-language": "en-US,en"})
            return (
                (await french.get("/console/finance")).text,
                (await english.get("/console/finance")).text,
            )

    fr, en = asyncio.run(scenario())
    assert '<html lang="fr">' in fr and "Finances" in fr and "Europe/Paris" in fr
    assert '<html lang="en">' in en and "Usage and cost" in en and "Europe/Paris" in en


def test_computed_keys_cover_every_value() -> None:
    from billing.directory import ROLES
    from billing.quotas import Level
    from billing.reports.report import Dimension
    from gateway.catalog import Approval
    from gateway.console.access import PAGES
    from policies.hosting import HostingClass

    wanted = (
        [f"role.{r}" for r in ROLES]
        + [f"level.{level.value}" for level in Level]
        + [f"dim.{d.value}" for d in Dimension]
        + [f"approval.{a.value}" for a in Approval]
        + [f"hosting.{h.value}" for h in HostingClass]
        + [f"page.{p.slug}" for p in PAGES]
        + ["finance.status.provisional", "finance.status.closed"]
        + [f"done.{d}" for d in ("department", "user", "revoked", "saved")]
    )
    assert [key for key in wanted if key not in MESSAGES] == []
