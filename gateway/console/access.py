"""Which console pages each role may open: the admin API's rules, page by page.

An administrator sees and changes everything; finance reads everything and changes nothing;
a department admin reads and changes their own department only; any signed-in user has
"My usage". The finer checks (this department, this key) use :class:`AdminPrincipal`, the
very object the admin API uses.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN, FINANCE, DEPARTMENT_ADMIN, MEMBER = "admin", "finance", "department_admin", "member"
STAFF = frozenset({ADMIN, FINANCE, DEPARTMENT_ADMIN})


@dataclass(frozen=True, slots=True)
class Page:
    slug: str
    roles: frozenset[str]


PAGES = (
    Page("overview", STAFF),
    Page("organisation", STAFF),
    Page("quotas", STAFF),
    Page("models", STAFF),
    Page("register", STAFF),
    Page("policy", STAFF),
    Page("ledger", STAFF),
    Page("finance", STAFF),
    Page("me", frozenset({ADMIN, FINANCE, DEPARTMENT_ADMIN, MEMBER})),
    Page("audit", STAFF),  # a department admin sees their department's entries
)
_BY_SLUG = {page.slug: page for page in PAGES}


def may_open(role: str, slug: str) -> bool:
    """True when ``role`` may open the page ``slug`` (unknown roles see "My usage" only)."""
    page = _BY_SLUG[slug]
    return role in page.roles


def pages_for(role: str) -> list[str]:
    """The pages of the navigation bar of ``role``, in order."""
    return [page.slug for page in PAGES if role in page.roles]


def home_of(role: str) -> str:
    """Where a person lands after signing in."""
    return "overview" if role in STAFF else "me"
