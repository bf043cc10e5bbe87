"""What every console route needs: the services, the signed-in session, the access checks."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from gateway.api.admin_auth import AdminPrincipal
from gateway.console.access import may_open
from gateway.console.forms import Form, read_form
from gateway.console.problems import ConsoleProblem, SignInRequired
from gateway.console.sessions import Session, SessionStore
from gateway.services import Services

SESSION_COOKIE = "hygie_console"


@dataclass(frozen=True, slots=True)
class Visit:
    """One request of a signed-in person to a page they may open."""

    services: Services
    session: Session

    @property
    def principal(self) -> AdminPrincipal | None:
        return self.session.principal

    @property
    def staff(self) -> AdminPrincipal:
        """The principal of a staff page (the page's access rule guarantees there is one)."""
        principal = self.session.principal
        if principal is None:
            raise ConsoleProblem(403, "error.forbidden")
        return principal


def sessions_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.console_sessions
    return store


def current_session(request: Request) -> Session | None:
    return sessions_of(request).get(request.cookies.get(SESSION_COOKIE))


def visit(request: Request, page: str) -> Visit:
    """The visit of a signed-in person allowed on ``page``; raises otherwise."""
    session = current_session(request)
    if session is None:
        raise SignInRequired
    if not may_open(session.identity.role, page):
        raise ConsoleProblem(403, "error.forbidden")
    return Visit(request.app.state.services, session)


async def change(request: Request, page: str) -> tuple[Visit, Form]:
    """A form that changes something: the visit and its form, the CSRF token checked."""
    current = visit(request, page)
    form = await read_form(request)
    if not current.session.csrf_matches(form.get("csrf")):
        raise ConsoleProblem(403, "error.csrf")
    return current, form
