"""The page for patients and the public (no authentication), and its review by administrators.

Only a published version is served; an administrator previews the draft generated from the
register, then publishes it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from billing.directory.public_pages import publish_page, published_page
from gateway.api.admin import admin_context, change
from gateway.api.audit import audited
from gateway.register import draft_patient_page
from gateway.services import Services

router = APIRouter()

# No script, no outside resource: the page is plain HTML with its own inline style.
_PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "cache-control": "public, max-age=300",
}
_NOT_PUBLISHED = (
    '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
    "<title>Usages de l'intelligence artificielle</title></head><body><main>"
    "<h1>Usages de l'intelligence artificielle</h1>"
    "<p>Cette page n'a pas encore été publiée.</p></main></body></html>\n"
)


def _html(text: str, status: int = 200) -> Response:
    return Response(text, status, _PAGE_HEADERS, "text/html; charset=utf-8")


@router.get("/public/ai-uses", include_in_schema=False)
async def ai_uses(request: Request) -> Response:
    """The published page, served to anyone."""
    services: Services = request.app.state.services
    page = await published_page(services.engine)
    return _html(page) if page is not None else _html(_NOT_PUBLISHED, 404)


@router.get("/admin/public/ai-uses/draft")
async def draft(request: Request) -> Response:
    """The page as it would be published now."""
    services, principal = await admin_context(request)
    principal.require_read(None)
    return _html(await draft_patient_page(services.engine, services.catalog, services.settings))


@router.post("/admin/public/ai-uses/publish", openapi_extra=audited("patient_page.publish"))
async def publish(request: Request) -> Response:
    """Publish the current draft; it is served from now on."""
    services, principal = await admin_context(request)
    principal.require_write(None)  # administrators only
    page = await draft_patient_page(services.engine, services.catalog, services.settings)
    after = {"chars": len(page)}
    async with change(
        services, request, principal, "patient_page.publish", "/public/ai-uses", after=after
    ) as made:
        await publish_page(made.connection, page, by=principal.username or "admin-token")
    return Response(b'{"published":true}', 200, media_type="application/json")
