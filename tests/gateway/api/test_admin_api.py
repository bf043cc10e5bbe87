"""The admin API: behind the admin credential; keys shown once; revocation takes effect."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import CHAT_MODEL, RunningGateway

ADMIN = {"Authorization": "Bearer admin-test-token"}


def test_admin_endpoints_require_an_admin_credential(sqlite_gateway: RunningGateway) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{sqlite_gateway.url}/admin/keys", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_admin_credential"
    member = {"Authorization": f"Bearer {sqlite_gateway.key}"}
    response = httpx.get(f"{sqlite_gateway.url}/admin/keys", headers=member)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def _user_key(base: str, username: str, department: str, role: str) -> dict[str, str]:
    httpx.post(f"{base}/departments", headers=ADMIN, json={"name": department})
    created = httpx.post(
        f"{base}/users",
        headers=ADMIN,
        json={"username": username, "department": department, "role": role},
    )
    assert created.status_code == 201, created.text
    key = httpx.post(f"{base}/keys", headers=ADMIN, json={"username": username}).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def test_finance_reads_everything_and_changes_nothing(sqlite_gateway: RunningGateway) -> None:
    base = f"{sqlite_gateway.url}/admin"
    finance = _user_key(base, "daf.1", "finances", "finance")
    assert httpx.get(f"{base}/ledger", headers=finance).status_code == 200
    assert len(httpx.get(f"{base}/departments", headers=finance).json()["data"]) >= 2
    refused = httpx.post(f"{base}/departments", headers=finance, json={"name": "x"})
    assert refused.status_code == 403 and "change nothing" in refused.json()["error"]["message"]


def test_department_admin_sees_and_changes_only_their_department(
    sqlite_gateway: RunningGateway,
) -> None:
    base = f"{sqlite_gateway.url}/admin"
    chief = _user_key(base, "chef.neuro", "neurologie", "department_admin")
    httpx.post(
        f"{base}/users", headers=chief, json={"username": "interne.1", "department": "neurologie"}
    )
    assert (
        httpx.post(f"{base}/keys", headers=chief, json={"username": "interne.1"}).status_code == 201
    )
    keys = httpx.get(f"{base}/keys", headers=chief, params={"department": "cardiologie"}).json()[
        "data"
    ]
    assert {k["department"] for k in keys} == {"neurologie"}
    other = httpx.post(f"{base}/keys", headers=chief, json={"username": "dr.test"})  # cardiologie
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert [d["name"] for d in httpx.get(f"{base}/departments", headers=chief).json()["data"]] == [
        "neurologie"
    ]
    promote = httpx.post(
        f"{base}/users",
        headers=chief,
        json={"username": "x", "department": "neurologie", "role": "admin"},
    )
    assert promote.status_code == 403
    assert httpx.get(f"{base}/ledger", headers=chief).status_code == 403


def test_department_user_key_lifecycle(sqlite_gateway: RunningGateway) -> None:
    base = f"{sqlite_gateway.url}/admin"
    dept = httpx.post(
        f"{base}/departments",
        headers=ADMIN,
        json={"name": "urgences", "default_data_class": "health"},
    )
    assert dept.status_code == 201 and dept.json()["name"] == "urgences"
    duplicate = httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "urgences"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["error"]["message"]
    bad = httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "Bad Name!"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "name"
    typo = httpx.post(
        f"{base}/departments", headers=ADMIN, json={"name": "sau", "default_data_class": "helth"}
    )
    assert typo.status_code == 400 and typo.json()["error"]["param"] == "default_data_class"
    user = httpx.post(
        f"{base}/users", headers=ADMIN, json={"username": "iao.1", "department": "urgences"}
    )
    assert user.status_code == 201

    created = httpx.post(
        f"{base}/keys", headers=ADMIN, json={"username": "iao.1", "use_case": "tests"}
    )
    assert created.status_code == 201
    secret, key_id = created.json()["key"], created.json()["id"]
    listed = httpx.get(f"{base}/keys", headers=ADMIN, params={"department": "urgences"}).json()[
        "data"
    ]
    assert [k["id"] for k in listed] == [key_id]
    assert secret not in str(listed)

    client = sqlite_gateway.sdk(api_key=secret)
    client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=1
    )

    assert httpx.delete(f"{base}/keys/{key_id}", headers=ADMIN).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}]
        )
    assert httpx.delete(f"{base}/keys/{key_id}", headers=ADMIN).status_code == 404

    ledger = httpx.get(f"{base}/ledger", headers=ADMIN, params={"limit": 5}).json()["data"]
    assert ledger and all("request_id" in row for row in ledger)
