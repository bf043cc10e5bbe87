"""Server-side sessions: random ids, expiry, a bound on their number, single-use link nonces."""

from __future__ import annotations

import pytest

from gateway.console import sessions
from gateway.console.sessions import Identity, SessionStore

PERSON = Identity("ada", "admin", None)


def test_sessions_expire_and_close() -> None:
    now = [1000.0]
    store = SessionStore(ttl_s=60, clock=lambda: now[0])
    session = store.open(PERSON)
    assert store.get(session.id) is session
    assert store.get(session.id + "x") is None and store.get(None) is None
    assert store.get("é" * 5) is None and store.get("x" * 5000) is None
    now[0] += 61
    assert store.get(session.id) is None
    again = store.open(PERSON)
    assert again.id != session.id and again.csrf != session.csrf
    store.close(again.id)
    assert store.get(again.id) is None


def test_csrf_compares_any_text_safely() -> None:
    session = SessionStore(ttl_s=60).open(PERSON)
    assert session.csrf_matches(session.csrf)
    for wrong in (None, "", "é", session.csrf + " ", session.csrf[:-1]):
        assert not session.csrf_matches(wrong)


def test_the_number_of_sessions_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    store = SessionStore(ttl_s=60)
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 3)
    opened = [store.open(PERSON) for _ in range(5)]
    assert [store.get(s.id) is not None for s in opened] == [False, False, True, True, True]


def test_a_link_nonce_is_redeemed_once_until_it_expires() -> None:
    now = [0.0]
    store = SessionStore(ttl_s=60, clock=lambda: now[0])
    assert store.redeem_once("n1", expires_at=100)
    assert not store.redeem_once("n1", expires_at=100)
    assert store.redeem_once("n2", expires_at=100)


def test_roles_map_to_the_admin_api_principal() -> None:
    store = SessionStore(ttl_s=60)
    head = store.open(Identity("dora", "department_admin", "cardiologie")).principal
    assert head is not None and head.can_write("cardiologie") and not head.can_read("radiologie")
    finance = store.open(Identity("fiona", "finance", "cardiologie")).principal
    assert finance is not None and finance.can_read(None) and not finance.can_write(None)
    assert store.open(Identity("max", "member", "cardiologie")).principal is None
