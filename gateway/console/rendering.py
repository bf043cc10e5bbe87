"""Rendering console pages: Jinja2 with autoescaping everywhere, and the security headers.

Every page is sent with a Content-Security-Policy that allows scripts, styles and images from
the console itself only (no inline script or style, no eval), so a name such as
``<script>`` that slipped past escaping would still not run.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.console import i18n
from gateway.console.access import pages_for
from gateway.console.sessions import Session

TEMPLATES = Path(__file__).parent / "templates"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Sign-in links carry a token in their address: never leak it to another site.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def environment() -> Environment:
    """The template environment: HTML autoescaping on for every template, strict undefined."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = i18n.money
    env.filters["number"] = i18n.number
    return env


def console_base(request: Request) -> str:
    """The console's address prefix: the proxy's sub-path (``root_path``) then ``/console``."""
    return f"{request.scope.get('root_path', '').rstrip('/')}/console"


def local_text(value: datetime, zone: tzinfo) -> str:
    """An instant as the organisation's wall-clock time (naive values are UTC, as stored)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def with_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def render(
    request: Request,
    template: str,
    *,
    session: Session | None,
    status: int = 200,
    page: str = "",
    **context: Any,
) -> Response:
    """A page (or an htmx fragment) in the reader's language, with the security headers."""
    env: Environment = request.app.state.console_templates
    lang = i18n.pick_language(request.headers.get("accept-language"))
    zone = request.app.state.services.timezone
    html = env.get_template(template).render(
        t=i18n.translator(lang),
        lang=lang,
        base=console_base(request),
        session=session,
        csrf=session.csrf if session else "",
        nav=pages_for(session.identity.role) if session else [],
        page=page,
        timezone=zone.key,
        local=lambda value: local_text(value, zone),
        **context,
    )
    return with_security_headers(HTMLResponse(html, status))
