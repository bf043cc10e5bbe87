"""The admin API: behind the admin credential; keys shown once; revocation takes effect."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import CHAT_MODEL, RunningGateway

ADMIN = {"Authorization": "Bearer admin-test-token"}


def test_admin_endpoints_require_the_admin_credential(sqlite_gateway: RunningGateway) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {sqlite_gateway.key}"}):
        response = httpx.get(f"{sqlite_gateway.url}/admin/keys", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_admin_credential"


def test_department_user_key_lifecycle(sqlite_gateway: RunningGateway) -> None:
    base = f"{sqlite_gateway.url}/admin"
    dept = httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "urgences", "default_data_class": "health"})
    assert dept.status_code == 201 and dept.json()["name"] == "urgences"
    duplicate = httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "urgences"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["error"]["message"]
    bad = httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "Bad Name!"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "name"
    user = httpx.post(f"{base}/users", headers=ADMIN, json={"username": "iao.1", "department": "urgences"})
    assert user.status_code == 201

    created = httpx.post(f"{base}/keys", headers=ADMIN, json={"username": "iao.1", "use_case": "tri"})
    assert created.status_code == 201
    secret, key_id = created.json()["key"], created.json()["id"]
    listed = httpx.get(f"{base}/keys", headers=ADMIN, params={"department": "urgences"}).json()["data"]
    assert [k["id"] for k in listed] == [key_id]
    assert secret not in str(listed)

    client = openai.OpenAI(base_url=sqlite_gateway.base_url, api_key=secret, max_retries=0)
    client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=1)

    assert httpx.delete(f"{base}/keys/{key_id}", headers=ADMIN).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert httpx.delete(f"{base}/keys/{key_id}", headers=ADMIN).status_code == 404

    ledger = httpx.get(f"{base}/ledger", headers=ADMIN, params={"limit": 5}).json()["data"]
    assert ledger and all("request_id" in row for row in ledger)
