"""The patient page: generated from the register, reviewed, then published; values escaped."""

from __future__ import annotations

import httpx

from tests.conftest import RunningGateway

ADMIN = {"Authorization": "Bearer admin-test-token"}


def register(gateway: RunningGateway, name: str, **fields: object) -> None:
    answer = httpx.post(
        f"{gateway.url}/admin/use-cases", headers=ADMIN, json={"name": name, **fields}
    )
    assert answer.status_code == 201, answer.text


def test_only_published_production_uses_on_patient_data_are_shown(gateway: RunningGateway) -> None:
    public = f"{gateway.url}/public/ai-uses"
    assert httpx.get(public).status_code == 404  # nothing published yet
    register(
        gateway,
        "courriers",
        status="production",
        purpose="Aide à la rédaction <script>alert(1)</script> des courriers",
        department="cardiologie",
        data_classes=["health"],
        legal_basis="Mission d'intérêt public & soins",
    )
    register(gateway, "essai", status="pilot", purpose="Essai pilote", data_classes=["health"])
    register(
        gateway,
        "interne",
        status="production",
        purpose="Notes de service internes",
        data_classes=["internal"],
    )
    register(gateway, "fin", status="retired", purpose="Usage arrêté", data_classes=["health"])

    draft = httpx.get(f"{gateway.url}/admin/public/ai-uses/draft", headers=ADMIN)
    assert draft.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in draft.text and "<script" not in draft.text
    assert "Mission d&#x27;intérêt public &amp; soins" in draft.text
    assert "sur les serveurs de l&#x27;établissement" in draft.text
    for hidden in ("Essai pilote", "Notes de service internes", "Usage arrêté"):
        assert hidden not in draft.text
    assert httpx.get(public).status_code == 404  # a draft is not served

    member = {"Authorization": f"Bearer {gateway.key}"}
    assert httpx.post(f"{gateway.url}/admin/public/ai-uses/publish", headers=member).is_error
    published = httpx.post(f"{gateway.url}/admin/public/ai-uses/publish", headers=ADMIN)
    assert published.status_code == 200
    page = httpx.get(public)
    assert page.status_code == 200 and page.text == draft.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '<html lang="fr">' in page.text and "Vos droits" in page.text

    # A later change waits for the next publication.
    register(
        gateway, "nouveau", status="production", purpose="Nouvel outil", data_classes=["personal"]
    )
    assert "Nouvel outil" not in httpx.get(public).text
    assert (
        "Nouvel outil" in httpx.get(f"{gateway.url}/admin/public/ai-uses/draft", headers=ADMIN).text
    )
