"""A department admin stays inside their department, below their role and under the ceiling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway, make_catalog

ADMIN = {"Authorization": "Bearer admin-test-token"}


class Hospital:
    """neurologie: its chief (department admin), a plain intern, an admin, a finance officer;
    cardiologie: dr.test, seeded by the gateway fixture."""

    def __init__(self, gateway: RunningGateway) -> None:
        self.base = f"{gateway.url}/admin"
        self.gateway = gateway
        httpx.post(f"{self.base}/departments", headers=ADMIN, json={"name": "neurologie"})
        self.chief = self.user_key("chef.neuro", "department_admin")
        self.intern = self.user("interne.1", "member")
        self.boss = self.user_key("boss.neuro", "admin")
        self.finance = self.user_key("daf.neuro", "finance")
        self.peer = self.user_key("chef2.neuro", "department_admin")

    def user(self, username: str, role: str) -> str:
        created = httpx.post(
            f"{self.base}/users",
            headers=ADMIN,
            json={"username": username, "department": "neurologie", "role": role},
        )
        assert created.status_code == 201, created.text
        return username

    def user_key(self, username: str, role: str) -> dict[str, str]:
        self.user(username, role)
        key = httpx.post(f"{self.base}/keys", headers=ADMIN, json={"username": username})
        self.key_ids = getattr(self, "key_ids", {}) | {username: key.json()["id"]}
        return {"Authorization": f"Bearer {key.json()['key']}"}

    def as_chief(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", headers=self.chief, **kwargs)

    def as_admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", headers=ADMIN, **kwargs)


def test_a_department_admin_manages_only_plain_users_keys(gateway: RunningGateway) -> None:
    h = Hospital(gateway)
    for username in ("boss.neuro", "daf.neuro", "chef2.neuro", "chef.neuro"):
        minted = h.as_chief("POST", "/keys", json={"username": username})
        assert minted.status_code == 403, username
        assert minted.json()["error"]["code"] == "forbidden"
    assert h.as_chief("POST", "/keys", json={"username": h.intern}).status_code == 201

    for username in ("boss.neuro", "daf.neuro", "chef2.neuro"):
        revoked = h.as_chief("DELETE", f"/keys/{h.key_ids[username]}")
        assert revoked.status_code == 403, username
    # The admin's key still works: nothing was revoked.
    assert httpx.get(f"{h.base}/ledger", headers=h.boss).status_code == 200

    for role in ("admin", "finance", "department_admin"):
        promoted = h.as_chief(
            "POST",
            "/users",
            json={"username": f"x.{role}", "department": "neurologie", "role": role},
        )
        assert promoted.status_code == 403, role
    users = {u["username"] for u in h.as_admin("GET", "/users").json()["data"]}
    assert not {"x.admin", "x.finance", "x.department_admin"} & users


def _quota(h: Hospital, who: str, **spec: Any) -> httpx.Response:
    call = h.as_admin if who == "admin" else h.as_chief
    return call("PUT", "/quotas", json=spec)


def test_a_department_admin_cannot_raise_a_limit_above_the_ceiling(
    gateway: RunningGateway,
) -> None:
    h = Hospital(gateway)
    dept = {"level": "department", "department": "neurologie", "period": "month"}
    assert _quota(h, "admin", **dept, budget_eur="100", rpm=60).status_code == 200

    raised = _quota(h, "chief", **dept, budget_eur="200", rpm=60)
    assert raised.status_code == 403 and "budget_eur" in raised.json()["error"]["message"]
    assert _quota(h, "chief", **dept, rpm=60).status_code == 403  # budget removed
    assert _quota(h, "chief", **{**dept, "period": "day"}, budget_eur="100").status_code == 403
    open_budget = _quota(h, "chief", **dept, budget_eur="100", rpm=60, budget_fail_mode="open")
    assert open_budget.status_code == 403
    assert _quota(h, "chief", **dept, budget_eur="50", rpm=30).status_code == 200  # lowered
    # Lowered by the department admin, it is the ceiling now; only an administrator raises it.
    assert _quota(h, "chief", **dept, budget_eur="80", rpm=30).status_code == 403

    user = {"level": "user", "username": h.intern, "period": "day"}
    assert _quota(h, "chief", **user, budget_eur="60").status_code == 403
    assert _quota(h, "chief", **user, rpm=31).status_code == 403
    assert _quota(h, "chief", **user, budget_eur="40", rpm=10).status_code == 200
    use_case = {"level": "use_case", "department": "neurologie", "use_case": "cr"}
    assert _quota(h, "chief", **use_case, max_concurrent=3).status_code == 200
    boss = _quota(h, "chief", level="user", username="boss.neuro", rpm=1)
    assert boss.status_code == 403  # not theirs to limit

    nodes = {q["label"]: q["node_id"] for q in h.as_admin("GET", "/quotas").json()["data"]}
    assert h.as_chief("DELETE", f"/quotas/{nodes['department neurologie']}").status_code == 403
    assert h.as_chief("DELETE", f"/quotas/{nodes['user interne.1']}").status_code == 200

    assert _quota(h, "admin", **dept, budget_eur="500", rpm=600).status_code == 200
    listed = {q["label"]: q for q in h.as_admin("GET", "/quotas").json()["data"]}
    assert listed["department neurologie"]["budget_eur"] == "500.00"


def _same_not_found(first: httpx.Response, second: httpx.Response, a: str, b: str) -> None:
    """Two answers that must be one: 404, the same body once the name asked for is masked."""
    assert first.status_code == second.status_code == 404, (first.text, second.text)
    assert first.json()["error"]["code"] == "not_found"
    assert first.text.replace(a, "NAME") == second.text.replace(b, "NAME")


def test_other_departments_look_exactly_like_nothing(gateway: RunningGateway) -> None:
    h = Hospital(gateway)
    cardio_key = gateway.key_id
    assert (
        h.as_admin(
            "PUT", "/quotas", json={"level": "department", "department": "cardiologie", "rpm": 5}
        ).status_code
        == 200
    )
    user_quota = {"level": "user", "username": "dr.test", "rpm": 5}
    assert h.as_admin("PUT", "/quotas", json=user_quota).status_code == 200
    nodes = {q["label"]: q["node_id"] for q in h.as_admin("GET", "/quotas").json()["data"]}
    cardio_node, user_node = nodes["department cardiologie"], nodes["user dr.test"]

    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("POST", "/keys", {"username": "dr.test"}, {"username": "nobody.x"}),
        ("POST", "/users", {"username": "u1", "department": "cardiologie"},
         {"username": "u1", "department": "nowhere"}),
        ("PUT", "/quotas", {"level": "user", "username": "dr.test", "rpm": 1},
         {"level": "user", "username": "nobody.x", "rpm": 1}),
        ("PUT", "/quotas", {"level": "department", "department": "cardiologie", "rpm": 1},
         {"level": "department", "department": "nowhere", "rpm": 1}),
        ("PUT", "/quotas", {"level": "key", "key_id": cardio_key, "rpm": 1},
         {"level": "key", "key_id": "key_0000000000000000", "rpm": 1}),
    ]  # fmt: skip
    for method, path, existing, missing in pairs:
        a = next(v for v in existing.values() if v in ("dr.test", "cardiologie", cardio_key))
        b = next(
            v for v in missing.values() if v in ("nobody.x", "nowhere", "key_0000000000000000")
        )
        _same_not_found(
            h.as_chief(method, path, json=existing), h.as_chief(method, path, json=missing), a, b
        )
    _same_not_found(
        h.as_chief("DELETE", f"/keys/{cardio_key}"),
        h.as_chief("DELETE", "/keys/key_0000000000000000"),
        cardio_key,
        "key_0000000000000000",
    )
    for existing_node, missing_node in (
        (cardio_node, "department:999999"),
        (user_node, "user:999999"),
        (f"key:{cardio_key}", "key:key_0000000000000000"),
        ("org", "use_case:999999:x"),
    ):
        _same_not_found(
            h.as_chief("DELETE", f"/quotas/{existing_node}"),
            h.as_chief("DELETE", f"/quotas/{missing_node}"),
            existing_node,
            missing_node,
        )
    # Nothing was changed on the way.
    assert (
        h.as_admin("GET", "/keys", params={"department": "cardiologie"}).json()["data"][0][
            "revoked_at"
        ]
        is None
    )
    assert {q["node_id"] for q in h.as_admin("GET", "/quotas").json()["data"]} >= {
        cardio_node,
        user_node,
    }


def test_the_api_description_is_for_administrators(sqlite_gateway: RunningGateway) -> None:
    h = Hospital(sqlite_gateway)
    url = f"{sqlite_gateway.url}/openapi.json"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "invalid_admin_credential"
    member = {"Authorization": f"Bearer {sqlite_gateway.key}"}
    for headers in (member, h.chief, h.finance):
        assert httpx.get(url, headers=headers).status_code == 403
    for headers in (ADMIN, h.boss):
        described = httpx.get(url, headers=headers)
        assert described.status_code == 200 and "/admin/keys" in described.json()["paths"]
    for ui in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert httpx.get(f"{sqlite_gateway.url}{ui}", headers=ADMIN).status_code == 404


def test_the_api_description_can_be_switched_off(
    simulator: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    gateway = start_gateway(make_catalog(simulator.url), sqlite_url, openapi="off")
    answer = httpx.get(f"{gateway.url}/openapi.json", headers=ADMIN)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    # The gateway itself still serves.
    reply = gateway.sdk().chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=1
    )
    assert reply.choices


@pytest.mark.parametrize("role", ["finance", "department_admin"])
def test_read_only_and_department_roles_cannot_touch_the_organisation(
    sqlite_gateway: RunningGateway, role: str
) -> None:
    h = Hospital(sqlite_gateway)
    headers = h.finance if role == "finance" else h.chief
    org = httpx.put(
        f"{h.base}/quotas", headers=headers, json={"level": "organisation", "rpm": 1_000_000}
    )
    assert org.status_code == 403
    assert httpx.post(f"{h.base}/quotas/rebuild", headers=headers).status_code == 403
