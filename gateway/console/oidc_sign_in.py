"""Signing in to the console through the hospital's identity provider (OpenID Connect).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``: ``/sign-in/oidc`` sends the
browser to the provider, ``/sign-in/callback`` exchanges the code at the token endpoint (with the
console's client secret when it is a confidential client), checks the ID token with the identity
module's validator (signature, issuer, audience = the console's client id, expiry) and its nonce,
maps its claims to a user exactly as API tokens are mapped (same just-in-time sync, same roles),
and opens a session with :func:`gateway.console.sign_in.start_session`.

Every refusal is a page in the reader's language; neither the code, the tokens nor the client
secret are ever logged.
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

from gateway.console.oidc_logins import (
    PENDING_TTL_S,
    ConsoleProvider,
    PendingLogin,
    PendingLogins,
    pkce_challenge,
)
from gateway.console.problems import ConsoleProblem
from gateway.console.rendering import console_base, with_security_headers
from gateway.console.sessions import Identity
from gateway.console.sign_in import cookie_options, oidc_providers, start_session
from gateway.errors import Forbidden, InvalidApiKey
from gateway.identity.assembly import sync_identity
from gateway.identity.claims import identity_of
from gateway.identity.discovery import ProviderMetadata
from gateway.identity.provider_http import ProviderHttp, ProviderUnavailable
from gateway.identity.tokens import looks_like_jwt, verified_claims
from gateway.services import Services

log = logging.getLogger("hygie.console")
router = APIRouter()
BROWSER_COOKIE = "hygie_console_oidc"
MAX_CODE_CHARS = 2048


def _pending_of(request: Request) -> PendingLogins:
    pending: PendingLogins = request.app.state.console_pending_logins
    return pending


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _http(request: Request) -> ProviderHttp:
    http = _services(request).identity_http
    if http is None:
        raise ConsoleProblem(502, "sign_in.oidc_unavailable")
    return http


async def metadata_of(request: Request, provider: ConsoleProvider) -> ProviderMetadata:
    """The provider's discovery metadata; a 502 page when it cannot be reached."""
    try:
        return await oidc_providers(request).metadata(provider, _http(request))
    except ProviderUnavailable as exc:
        log.warning("console sign-in: identity provider %s unavailable: %s", provider.label, exc)
        raise ConsoleProblem(502, "sign_in.oidc_unavailable") from None


def redirect_uri(request: Request) -> str:
    """Where the provider sends the browser back: under ``console_public_url`` when set (the
    address staff open, sub-path included), else the address this request came to."""
    public = _services(request).settings.console_public_url
    if public:
        return public.rstrip("/") + "/console/sign-in/callback"
    return f"{request.url.scheme}://{request.url.netloc}{console_base(request)}/sign-in/callback"


def _with_query(endpoint: str, params: dict[str, str]) -> str:
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


@router.get("/sign-in/oidc")
async def start(request: Request, provider: str = "") -> Response:
    """Send the browser to the provider's login page with a fresh state, nonce and challenge."""
    chosen = oidc_providers(request).get(provider[:10])
    if chosen is None:
        raise ConsoleProblem(404, "error.not_found")
    metadata = await metadata_of(request, chosen)
    if metadata.authorization_endpoint is None or metadata.token_endpoint is None:
        raise ConsoleProblem(502, "sign_in.oidc_unavailable")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not 30 <= len(browser) <= 100:
        browser = secrets.token_urlsafe(32)
    state, pending = _pending_of(request).start(chosen.index, browser, redirect_uri(request))
    target = _with_query(
        metadata.authorization_endpoint,
        {
            "response_type": "code",
            "client_id": chosen.client_id,
            "redirect_uri": pending.redirect_uri,
            "scope": chosen.issuer.console_scopes,
            "state": state,
            "nonce": pending.nonce,
            "code_challenge": pkce_challenge(pending.verifier),
            "code_challenge_method": "S256",
        },
    )
    response = RedirectResponse(target, 303)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=PENDING_TTL_S,
        samesite="lax",
        **cookie_options(request),  # type: ignore[arg-type]
    )
    return with_security_headers(response)


@router.get("/sign-in/callback")
async def callback(request: Request) -> Response:
    """The provider's answer: check it, open a session, or say clearly why not."""
    query = request.query_params
    pending = _pending_of(request).take(
        query.get("state", ""), request.cookies.get(BROWSER_COOKIE, "")
    )
    if pending is None:
        log.warning("console sign-in: a callback with an unknown, used or foreign state")
        raise ConsoleProblem(400, "sign_in.oidc_state")
    provider = oidc_providers(request).get(pending.provider)
    if provider is None:
        raise ConsoleProblem(400, "sign_in.oidc_state")
    error = query.get("error")
    if error is not None:
        log.info("console sign-in: %s answered %r", provider.label, error[:64])
        denied = error in {"access_denied", "consent_required", "login_required"}
        raise ConsoleProblem(403 if denied else 401, _error_key(denied))
    sent_issuer = query.get("iss")
    if sent_issuer is not None and sent_issuer != provider.issuer.issuer:
        # RFC 9207: the answer comes from another provider than the one asked (mix-up).
        raise ConsoleProblem(401, "sign_in.oidc_failed")
    code = query.get("code", "")
    if not code or len(code) > MAX_CODE_CHARS:
        raise ConsoleProblem(400, "sign_in.oidc_failed")
    claims = await _id_token_claims(request, provider, pending, code)
    identity = await _identity(request, provider, claims)
    response = start_session(request, identity)
    response.delete_cookie(BROWSER_COOKIE, **cookie_options(request))  # type: ignore[arg-type]
    return response


def _error_key(denied: bool) -> str:
    return "sign_in.oidc_denied" if denied else "sign_in.oidc_failed"


async def _id_token_claims(
    request: Request, provider: ConsoleProvider, pending: PendingLogin, code: str
) -> dict[str, Any]:
    """Exchange ``code`` and return the checked claims of the ID token."""
    id_token = await _exchange(request, provider, pending, code)
    keys = oidc_providers(request).keys(provider, _http(request))
    try:
        claims = await verified_claims(id_token, keys, audience=provider.client_id)
    except InvalidApiKey as exc:
        log.warning("console sign-in: ID token from %s refused: %s", provider.label, exc.message)
        raise ConsoleProblem(401, "sign_in.oidc_token") from None
    audiences = claims.get("aud")
    several = isinstance(audiences, list) and len(audiences) > 1
    if several and claims.get("azp") != provider.client_id:
        log.warning("console sign-in: ID token from %s names another client", provider.label)
        raise ConsoleProblem(401, "sign_in.oidc_token")
    nonce = claims.get("nonce")
    expected = pending.nonce.encode()
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expected):
        log.warning("console sign-in: ID token from %s has the wrong nonce", provider.label)
        raise ConsoleProblem(401, "sign_in.oidc_token")
    return claims


async def _exchange(
    request: Request, provider: ConsoleProvider, pending: PendingLogin, code: str
) -> str:
    metadata = await metadata_of(request, provider)
    if metadata.token_endpoint is None:
        raise ConsoleProblem(502, "sign_in.oidc_unavailable")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.verifier,
    }
    secret = provider.issuer.console_client_secret
    try:
        if secret is None:
            answer = await _http(request).post_form(
                metadata.token_endpoint, {**form, "client_id": provider.client_id}
            )
        else:
            answer = await _http(request).post_form(
                metadata.token_endpoint,
                form,
                user=provider.client_id,
                password=secret.get_secret_value(),
            )
    except ProviderUnavailable as exc:
        # The message names the endpoint and the HTTP status, never the code or the secret.
        log.warning("console sign-in: code exchange with %s failed: %s", provider.label, exc)
        raise ConsoleProblem(502, "sign_in.oidc_exchange") from None
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not looks_like_jwt(id_token):
        log.warning("console sign-in: %s answered no usable ID token", provider.label)
        raise ConsoleProblem(401, "sign_in.oidc_token")
    return id_token


async def _identity(
    request: Request, provider: ConsoleProvider, claims: dict[str, Any]
) -> Identity:
    """The console's identity for the claims, the directory synced as for an API token."""
    try:
        vouched = identity_of(claims, provider.issuer)
    except Forbidden:
        raise ConsoleProblem(403, "sign_in.oidc_no_department") from None
    except InvalidApiKey:
        raise ConsoleProblem(401, "sign_in.oidc_token") from None
    user, department = await sync_identity(_services(request).engine, vouched)
    return Identity(
        user.username,
        vouched.role,
        department.name,
        user.display_name,
        "oidc",
        issuer=provider.issuer.issuer,
    )
