"""The one identity every credential resolves to: who acts, for which department and purpose.

Quotas, policy, routing, the ledger, ``/v1/me`` and the admin API read a :class:`Principal` and
never the kind of credential behind it, so an API key and a single sign-on token with the same
user behave the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, once authenticated.

    ``key_id`` is the API key that acted (a chat front-end's key when one acted for its user;
    None for a token). ``credential`` names what acted: ``key:<id>`` or ``token:<issuer>#<sub>``.
    ``end_user_verified`` is False only when a front-end named its user with plain headers.
    """

    key_id: str | None
    user_id: int
    username: str
    role: str
    department_id: int
    department: str
    default_data_class: str | None
    use_case: str | None
    credential: str = ""
    roles: tuple[str, ...] = ()
    front_end_key_id: str | None = None
    end_user_verified: bool = True

    def has_role(self, role: str) -> bool:
        """True when ``role`` is this principal's role or one of its extra roles."""
        return role == self.role or role in self.roles


KeyOwner = Principal
"""The former name of :class:`Principal`, kept for callers not yet renamed."""
