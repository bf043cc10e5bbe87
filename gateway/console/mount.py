"""Adding the console to the gateway's application: routes, static files, error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from gateway.console import i18n, oidc_sign_in, sign_in
from gateway.console.access import home_of
from gateway.console.context import current_session
from gateway.console.oidc_logins import ConsoleProviders, PendingLogins
from gateway.console.pages import (
    audit,
    finance,
    ledger,
    me,
    models,
    organisation,
    overview,
    policy,
    quotas,
    register,
)
from gateway.console.problems import ConsoleProblem, SignInRequired
from gateway.console.rendering import console_base, environment, render, with_security_headers
from gateway.console.sessions import SessionStore
from gateway.settings import Settings

STATIC = Path(__file__).parent / "static"
_PAGES = (overview, organisation, quotas, models, register, policy, ledger, finance, me, audit)


def _redirect(request: Request, to: str) -> Response:
    return with_security_headers(RedirectResponse(to, 303))


def console_router() -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    router.include_router(sign_in.router)
    router.include_router(oidc_sign_in.router)
    for page in _PAGES:
        router.include_router(page.router)

    @router.get("")
    @router.get("/")
    async def home(request: Request) -> Response:
        session = current_session(request)
        if session is None:
            return _redirect(request, f"{console_base(request)}/sign-in")
        return _redirect(request, f"{console_base(request)}/{home_of(session.identity.role)}")

    return router


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleProblem)
    template = "problem_fragment.html" if request.headers.get("hx-request") else "problem.html"
    lang = i18n.pick_language(request.headers.get("accept-language"))
    message = i18n.translator(lang)(exc.message_key)
    return render(
        request,
        template,
        session=current_session(request),
        status=exc.status,
        message=message,
        detail=exc.values.get("detail", ""),
    )


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    target = f"{console_base(request)}/sign-in"
    if request.headers.get("hx-request"):
        response = Response(status_code=204, headers={"hx-redirect": target})
        return with_security_headers(response)
    return _redirect(request, target)


def install_console(app: FastAPI, settings: Settings) -> None:
    """Serve the console under ``/console`` and send ``/`` there."""
    app.state.console_sessions = SessionStore(settings.console_session_ttl_s)
    app.state.console_templates = environment()
    app.state.console_providers = ConsoleProviders(settings.identity_config())
    app.state.console_pending_logins = PendingLogins()
    app.include_router(console_router())
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleProblem, _problem)
    app.add_exception_handler(SignInRequired, _sign_in_required)

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> Response:
        return _redirect(request, f"{console_base(request)}/")
