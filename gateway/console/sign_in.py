"""Signing in to the console, and out.

Three ways in: the hospital's identity provider (:mod:`gateway.console.oidc_sign_in`), a one-time
link printed by ``hygie console link --user NAME``, and the operator's break-glass admin token
(typed into a form, logged). Whatever verified the person, :func:`start_session` turns the
:class:`Identity` into a server-side session.

The sign-in forms carry a token that must match a short-lived cookie (double submit), so that
another site cannot sign a browser in under an identity of its choosing.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billing import directory
from gateway.console.access import home_of
from gateway.console.context import SESSION_COOKIE, current_session, sessions_of
from gateway.console.forms import Form, read_form
from gateway.console.links import InvalidLink, link_key, read_token
from gateway.console.oidc_logins import ConsoleProviders
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, render, with_security_headers
from gateway.console.sessions import Identity
from gateway.identity.provider_http import ProviderUnavailable
from gateway.services import Services

log = logging.getLogger("hygie.console")
router = APIRouter()
PRE_SESSION_COOKIE = "hygie_console_sign_in"
BREAK_GLASS_USER = "break-glass"


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def cookie_options(request: Request) -> dict[str, object]:
    """Console cookies: HttpOnly, Secure (unless a plain-HTTP demo), scoped to the console."""
    return {
        "path": console_base(request) + "/",
        "httponly": True,
        "secure": _services(request).settings.console_cookie_secure,
    }


def start_session(request: Request, identity: Identity) -> Response:
    """Open a session for a verified ``identity`` and send the browser to its home page."""
    session = sessions_of(request).open(identity)
    log.info(
        "console sign-in: user=%s role=%s method=%s",
        identity.username,
        identity.role,
        identity.method,
    )
    target = f"{console_base(request)}/{home_of(identity.role)}"
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=_services(request).settings.console_session_ttl_s,
        samesite="lax",
        **cookie_options(request),  # type: ignore[arg-type]
    )
    response.delete_cookie(PRE_SESSION_COOKIE, **cookie_options(request))  # type: ignore[arg-type]
    return with_security_headers(response)


def _with_pre_session(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        PRE_SESSION_COOKIE,
        token,
        max_age=900,
        samesite="strict",
        **cookie_options(request),  # type: ignore[arg-type]
    )
    return response


def _check_pre_session(request: Request, form: Form) -> None:
    cookie = request.cookies.get(PRE_SESSION_COOKIE, "")
    sent = form.get("pre", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise ConsoleProblem(403, "error.csrf")


def _refused(request: Request, template: str, message: str, **context: Any) -> Response:
    """The form again with ``message``; a 401 the failed-authentication throttle counts."""
    token = secrets.token_urlsafe(24)
    providers = oidc_providers(request).all
    response = render(
        request,
        template,
        session=None,
        status=401,
        error=message,
        pre=token,
        providers=providers,
        **context,
    )
    response.headers["www-authenticate"] = 'Bearer realm="hygie-console"'
    return _with_pre_session(request, response, token)


@router.get("/sign-in")
async def sign_in_page(request: Request, signed_out: str = "") -> Response:
    if current_session(request) is not None:
        return RedirectResponse(f"{console_base(request)}/", 303)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        session=None,
        pre=token,
        error="",
        providers=oidc_providers(request).all,
        signed_out=bool(signed_out),
        end_session=await provider_sign_out(request, signed_out),
    )
    return _with_pre_session(request, response, token)


@router.post("/sign-in/break-glass")
async def break_glass(request: Request) -> Response:
    form = await read_form(request)
    _check_pre_session(request, form)
    expected = _services(request).settings.admin_token
    given = form.get("token", "")
    if (
        expected is None
        or not given
        or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode())
    ):
        client = request.client.host if request.client else "?"
        log.warning("console break-glass sign-in refused from %s", client)
        return _refused(request, "sign_in.html", "sign_in.refused")
    log.warning("console break-glass sign-in: the admin token was used")
    return start_session(
        request, Identity(BREAK_GLASS_USER, "admin", None, "Break-glass", "break-glass")
    )


@router.get("/sign-in/link")
async def link_page(request: Request, token: str = "") -> Response:
    """Confirm before redeeming: a link preview or a mail scanner must not use up the link."""
    token = token[:700]
    pre = secrets.token_urlsafe(24)
    response = render(request, "sign_in_link.html", session=None, token=token, pre=pre, error="")
    return _with_pre_session(request, response, pre)


@router.post("/sign-in/link")
async def redeem_link(request: Request) -> Response:
    form = await read_form(request)
    _check_pre_session(request, form)
    token = form.get("token", "")
    try:
        identity = await _identity_of_link(request, token)
    except InvalidLink:
        return _refused(request, "sign_in_link.html", "sign_in.link_refused", token="")
    return start_session(request, identity)


async def _identity_of_link(request: Request, token: str) -> Identity:
    services = _services(request)
    settings = services.settings
    key = link_key(
        settings.console_secret.get_secret_value() if settings.console_secret else None,
        settings.admin_token.get_secret_value() if settings.admin_token else None,
    )
    if key is None:
        raise InvalidLink("sign-in links are not configured")
    claim = read_token(key, token)
    user = await directory.find_user(services.engine, claim.username)
    if user is None:
        raise InvalidLink("no such user")
    if not sessions_of(request).redeem_once(claim.nonce, claim.expires_at):
        raise InvalidLink("this link was already used")
    department = await directory.department_name(services.engine, user.department_id)
    return Identity(user.username, user.role, department, user.display_name, "link")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session = current_session(request)
    if session is not None:
        form = await read_form(request)
        if not session.csrf_matches(form.get("csrf")):
            raise ConsoleProblem(403, "error.csrf")
        sessions_of(request).close(session.id)
    target = f"{console_base(request)}/sign-in"
    if session is not None:
        # The sign-in page then says so, with a link to end the provider's session too.
        provider = oidc_providers(request).of_issuer(session.identity.issuer)
        target += f"?signed_out={provider.index if provider else 'yes'}"
    response = RedirectResponse(target, 303)
    response.delete_cookie(SESSION_COOKIE, **cookie_options(request))  # type: ignore[arg-type]
    return with_security_headers(response)


def oidc_providers(request: Request) -> ConsoleProviders:
    """The identity providers the console offers a sign-in button for."""
    providers: ConsoleProviders = request.app.state.console_providers
    return providers


async def provider_sign_out(request: Request, provider: str) -> tuple[str, str] | None:
    """(label, address) of the provider's end-session page after signing out of the console
    through it, when it offers one (RP-initiated logout); None otherwise or when unreachable."""
    chosen = oidc_providers(request).get(provider[:10])
    services: Services = request.app.state.services
    if chosen is None or services.identity_http is None:
        return None
    try:
        metadata = await oidc_providers(request).metadata(chosen, services.identity_http)
        endpoint = metadata.end_session_endpoint
    except ProviderUnavailable:
        return None
    if endpoint is None:
        return None
    separator = "&" if "?" in endpoint else "?"
    return chosen.label, f"{endpoint}{separator}{urlencode({'client_id': chosen.client_id})}"
