"""Every change made through the admin API leaves an entry: who, what before and after, why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.api.audit import AUDIT_ACTION
from gateway.app import create_app
from gateway.settings import Settings
from tests.audit.trail import entries, verify
from tests.conftest import RunningGateway, make_catalog

ADMIN = {"Authorization": "Bearer admin-test-token"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _audit(base: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{base}/admin/audit", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _key_of(base: str, username: str, department: str, role: str) -> dict[str, str]:
    httpx.post(f"{base}/admin/departments", headers=ADMIN, json={"name": department})
    user = {"username": username, "department": department, "role": role}
    assert httpx.post(f"{base}/admin/users", headers=ADMIN, json=user).status_code == 201
    key = httpx.post(f"{base}/admin/keys", headers=ADMIN, json={"username": username}).json()
    return {"Authorization": f"Bearer {key['key']}"}


def test_each_admin_change_is_audited_with_actor_before_after_and_no_secret(
    gateway: RunningGateway,
) -> None:
    base = gateway.url
    why = {**ADMIN, "X-Hygie-Reason": "ticket 4521"}
    assert (
        httpx.post(f"{base}/admin/departments", headers=why, json={"name": "oncologie"})
    ).status_code == 201
    user = {"username": "dr.onco", "department": "oncologie"}
    assert httpx.post(f"{base}/admin/users", headers=ADMIN, json=user).status_code == 201
    created = httpx.post(f"{base}/admin/keys", headers=ADMIN, json={"username": "dr.onco"}).json()
    assert httpx.delete(f"{base}/admin/keys/{created['id']}", headers=why).status_code == 200
    quota = {"level": "department", "department": "oncologie", "budget_eur": "100.00",
             "period": "month"}  # fmt: skip
    set_quota = httpx.put(f"{base}/admin/quotas", headers=ADMIN, json=quota)
    assert set_quota.status_code == 200, set_quota.text
    node = set_quota.json()["node_id"]
    quota["budget_eur"] = "250.00"
    assert httpx.put(f"{base}/admin/quotas", headers=ADMIN, json=quota).status_code == 200
    assert httpx.delete(f"{base}/admin/quotas/{node}", headers=ADMIN).status_code == 200

    trail = entries(gateway.database_url)
    changes = [e for e in trail if e.action != "admin_token.use"]
    assert [(e.action, e.target) for e in changes] == [
        ("department.create", "oncologie"),
        ("user.create", "dr.onco"),
        ("key.create", created["id"]),
        ("key.revoke", created["id"]),
        ("quota.set", node),
        ("quota.set", node),
        ("quota.delete", node),
    ]
    assert {(e.actor, e.actor_role) for e in trail} == {("break-glass", "admin")}
    assert {e.department for e in changes} == {"oncologie"}
    assert changes[0].reason == "ticket 4521" and changes[1].reason is None
    revoke = changes[3]
    assert revoke.before["revoked_at"] is None and revoke.after["revoked_at"] is not None
    assert changes[4].before is None and changes[4].after["budget_eur"] == "100.00"
    assert (
        changes[5].before["budget_eur"] == "100.00" and changes[5].after["budget_eur"] == "250.00"
    )
    assert changes[6].before["budget_eur"] == "250.00" and changes[6].after is None
    # Each use of the operator's token is an entry of its own, reads included.
    uses = [e.target for e in trail if e.action == "admin_token.use"]
    assert len(uses) == 7 and "DELETE /admin/keys/" + created["id"] in uses
    text = json.dumps([e.as_dict() for e in trail])
    assert created["key"] not in text and "key_hash" not in text
    assert "admin-test-token" not in text
    assert verify(gateway.database_url).ok


def test_a_named_admin_is_the_actor_and_the_reason_may_be_utf8(
    sqlite_gateway: RunningGateway,
) -> None:
    base = sqlite_gateway.url
    alice = _key_of(base, "alice", "dsi", "admin")
    reason = "Arrêté n°7 — «réorganisation» 🏥".encode()
    headers = [(b"authorization", alice["Authorization"].encode()), (b"x-hygie-reason", reason)]
    made = httpx.post(f"{base}/admin/departments", headers=headers, json={"name": "pediatrie"})
    assert made.status_code == 201
    entry = entries(sqlite_gateway.database_url, actor="alice")[-1]
    assert (entry.action, entry.actor_role) == ("department.create", "admin")
    assert entry.reason == "Arrêté n°7 — «réorganisation» 🏥"
    assert entry.after["name"] == "pediatrie"


def test_a_reason_that_cannot_be_stored_is_refused_before_the_change(
    sqlite_gateway: RunningGateway,
) -> None:
    base = sqlite_gateway.url
    for reason in ("x" * 501, "a\tb"):
        refused = httpx.post(
            f"{base}/admin/departments",
            headers={**ADMIN, "X-Hygie-Reason": reason},
            json={"name": "fantome"},
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "x-hygie-reason"
    names = [
        d["name"] for d in httpx.get(f"{base}/admin/departments", headers=ADMIN).json()["data"]
    ]
    assert "fantome" not in names
    assert not [e for e in entries(sqlite_gateway.database_url) if e.target == "fantome"]


def test_refused_changes_leave_no_change_entry(sqlite_gateway: RunningGateway) -> None:
    base = sqlite_gateway.url
    finance = _key_of(base, "daf", "finances", "finance")
    before = len(entries(sqlite_gateway.database_url))
    assert (
        httpx.post(f"{base}/admin/departments", headers=finance, json={"name": "x"})
    ).status_code == 403
    assert httpx.delete(f"{base}/admin/keys/key_nope", headers=finance).status_code == 404
    assert len(entries(sqlite_gateway.database_url)) == before


def test_who_reads_the_trail(sqlite_gateway: RunningGateway) -> None:
    base = sqlite_gateway.url
    chief = _key_of(base, "chef.neuro", "neurologie", "department_admin")
    finance = _key_of(base, "daf", "finances", "finance")
    member = {"Authorization": f"Bearer {sqlite_gateway.key}"}
    user = {"username": "interne.1", "department": "neurologie"}
    assert httpx.post(f"{base}/admin/users", headers=chief, json=user).status_code == 201

    everything = _audit(base, finance)
    assert {e["department"] for e in everything} >= {"neurologie", "finances", None}
    own = _audit(base, chief)
    assert own and {e["department"] for e in own} == {"neurologie"}
    assert {"chef.neuro", "break-glass"} == {e["actor"] for e in own}
    assert [e["target"] for e in _audit(base, chief, actor="chef.neuro")] == ["interne.1"]
    keys = _audit(base, ADMIN, action="key.*")
    assert keys and {e["action"] for e in keys} == {"key.create"}
    assert _audit(base, ADMIN, since="2999-01-01T00:00:00+00:00") == []
    assert httpx.get(f"{base}/admin/audit", headers=member).status_code == 403
    for params in ({"since": "yesterday"}, {"since": "2026-01-01"}, {"actor": "a\x00b"}):
        bad = httpx.get(f"{base}/admin/audit", headers=ADMIN, params=params)
        assert bad.status_code == 400, (params, bad.text)
    head = httpx.get(f"{base}/admin/audit", headers=ADMIN).json()["head"]
    assert head["seq"] == len(entries(sqlite_gateway.database_url))


def fastapi_app(outer: object, depth: int = 8) -> FastAPI:
    """The FastAPI application inside the middleware that ``create_app`` wraps it in."""
    if isinstance(outer, FastAPI):
        return outer
    assert depth > 0, "no FastAPI application inside the middleware"
    for candidate in vars(outer).values():
        if callable(candidate) and hasattr(candidate, "__dict__"):
            try:
                return fastapi_app(candidate, depth - 1)
            except AssertionError:
                continue
    raise AssertionError("no FastAPI application inside the middleware")


def test_every_mutating_admin_route_declares_its_audit_action(tmp_path: Path) -> None:
    """A new admin route that changes something must say what it records: this test finds any
    that does not (declare it with ``openapi_extra=audited("noun.verb")`` and call
    ``record_change``)."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", admin_token="t")
    app = fastapi_app(create_app(settings, make_catalog("http://127.0.0.1:9/v1"), migrate=False))
    undeclared: list[str] = []
    declared: list[str] = []
    # The OpenAPI document lists every route with its options, whatever router holds it.
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/admin"):
            continue
        for method, operation in operations.items():
            if method.upper() not in MUTATING:
                continue
            where = f"{method.upper()} {path}"
            (declared if operation.get(AUDIT_ACTION) else undeclared).append(where)
    assert undeclared == []
    assert len(declared) >= 8, declared
