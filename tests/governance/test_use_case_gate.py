"""The register at work in a real gateway: refusals, pilots, keys, approvals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import SQLAlchemyError

from billing.db.database import make_engine
from gateway.http.local_server import BackgroundServer
from gateway.steps.use_case_gate import UseCaseGate
from policies.governance.admission import AdmissionRules
from tests.conftest import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    GatewayFactory,
    RunningGateway,
    make_catalog,
    register_test_use_case,
)

ADMIN = {"Authorization": "Bearer admin-test-token"}
CHAT = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 4}


def register(gateway: RunningGateway, name: str, **fields: Any) -> None:
    answer = httpx.post(
        f"{gateway.url}/admin/use-cases", headers=ADMIN, json={"name": name, **fields}
    )
    assert answer.status_code == 201, answer.text


def key_for(gateway: RunningGateway, use_case: str | None) -> str:
    body = {"username": "dr.test"} | ({"use_case": use_case} if use_case else {})
    answer = httpx.post(f"{gateway.url}/admin/keys", headers=ADMIN, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def chat(gateway: RunningGateway, key: str, model: str = CHAT_MODEL) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json=CHAT | {"model": model},
        timeout=30,
    )


def test_refusals_are_403_with_a_clear_code_and_recorded(gateway: RunningGateway) -> None:
    register(gateway, "ancien", status="retired")
    register(gateway, "projet", status="proposed")
    register(gateway, "embeddings-only", status="production", allowed_models=[EMBEDDING_MODEL])
    cases = {
        "ancien": "use_case_retired",
        "projet": "use_case_not_approved",
        "embeddings-only": "model_not_allowed_for_use_case",
        None: "use_case_required",
    }
    ids = []
    for use_case, code in cases.items():
        answer = chat(gateway, key_for(gateway, use_case))
        assert answer.status_code == 403, answer.text
        error = answer.json()["error"]
        assert error["code"] == code and error["type"] == "permission_error"
        ids.append(answer.headers["x-request-id"])
    records = {r.request_id: r for r in gateway.records(ids)}
    assert [records[i].error_class for i in ids] == ["use_case_refused"] * 4
    assert [records[i].use_case for i in ids] == ["ancien", "projet", "embeddings-only", None]
    assert all(records[i].attempts == 0 for i in ids)  # nothing reached a model


def test_a_pilot_is_allowed_and_flagged_in_the_ledger(gateway: RunningGateway) -> None:
    register(gateway, "essai", status="pilot", data_classes=["health"])
    answer = chat(gateway, key_for(gateway, "essai"))
    assert answer.status_code == 200, answer.text
    (record,) = gateway.records([answer.headers["x-request-id"]])
    assert record.use_case == "essai" and record.use_case_flag == "pilot"
    assert answer.headers["x-hygie-use-case-flag"] == "pilot"
    assert "x-hygie-use-case-flag" not in chat(gateway, gateway.key).headers  # production
    pilot_key = key_for(gateway, "essai")
    stream = httpx.post(
        f"{gateway.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {pilot_key}"},
        json=CHAT | {"stream": True},
        timeout=30,
    )
    assert stream.status_code == 200 and stream.headers["x-hygie-use-case-flag"] == "pilot"
    (streamed,) = gateway.records([stream.headers["x-request-id"]])
    assert streamed.streamed and streamed.use_case_flag == "pilot"
    me = httpx.get(
        f"{gateway.base_url}/me", headers={"Authorization": f"Bearer {key_for(gateway, 'essai')}"}
    )
    assert me.json()["use_case"] == "essai"


def test_a_key_for_an_unregistered_use_case_is_not_issued(gateway: RunningGateway) -> None:
    answer = httpx.post(
        f"{gateway.url}/admin/keys", headers=ADMIN, json={"username": "dr.test", "use_case": "x"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "use_case"


def test_status_changes_apply_at_once_and_are_dated(gateway: RunningGateway) -> None:
    register(gateway, "courrier", status="production")
    key = key_for(gateway, "courrier")
    assert chat(gateway, key).status_code == 200
    moved = httpx.post(
        f"{gateway.url}/admin/use-cases/courrier/status", headers=ADMIN, json={"status": "retired"}
    )
    assert moved.status_code == 200 and "retired" in moved.json()["status_dates"]
    assert chat(gateway, key).json()["error"]["code"] == "use_case_retired"


def test_approval_workflow_decides_what_is_routable(gateway: RunningGateway) -> None:
    key = gateway.key  # the tests' use case: production, any approved model
    base = f"{gateway.url}/admin/models/{CHAT_MODEL}"
    requested = httpx.post(f"{base}/request", headers=ADMIN, json={"reason": "nouvelle version"})
    assert requested.status_code == 201
    refused = chat(gateway, key)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "model_not_approved"
    no_reason = httpx.post(f"{base}/reject", headers=ADMIN, json={})
    assert no_reason.status_code == 400
    assert httpx.post(f"{base}/approve", headers=ADMIN, json={"reason": "évalué"}).is_success
    assert chat(gateway, key).status_code == 200
    steps = httpx.get(f"{base}/approvals", headers=ADMIN).json()["steps"]
    assert [s["status"] for s in steps] == ["requested", "approved"]
    assert steps[1]["reason"] == "évalué" and steps[1]["actor"] == "admin-token"
    cards = httpx.get(f"{gateway.url}/admin/models", headers=ADMIN).json()["data"]
    assert {c["name"]: c["approval"] for c in cards}[CHAT_MODEL] == "approved"


@pytest.mark.parametrize("allowed", [False, True])
def test_unapproved_models_for_pilots_only_when_the_admin_allows(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str, allowed: bool
) -> None:
    catalog = make_catalog(simulator.url, approval="requested")
    gateway = start_gateway(catalog, sqlite_url, pilot_may_use_unapproved_models=allowed)
    register(gateway, "essai", status="pilot")
    answer = chat(gateway, key_for(gateway, "essai"))
    assert answer.status_code == (200 if allowed else 403), answer.text
    production = chat(gateway, gateway.key)
    assert production.status_code == 403
    assert production.json()["error"]["code"] == "model_not_approved"
    if allowed:
        (record,) = gateway.records([answer.headers["x-request-id"]])
        assert record.use_case_flag == "pilot,unapproved_model"


def test_non_admins_cannot_change_the_register(gateway: RunningGateway) -> None:
    member = {"Authorization": f"Bearer {gateway.key}"}
    answer = httpx.post(f"{gateway.url}/admin/use-cases", headers=member, json={"name": "x"})
    assert answer.status_code in (401, 403)
    hostile = httpx.post(
        f"{gateway.url}/admin/use-cases", headers=ADMIN, json={"name": "a\x00b", "purpose": "x"}
    )
    assert hostile.status_code == 400
    long = httpx.post(
        f"{gateway.url}/admin/use-cases", headers=ADMIN, json={"name": "ok", "purpose": "é" * 5000}
    )
    assert long.status_code == 400
    nowhere = httpx.post(
        f"{gateway.url}/admin/use-cases", headers=ADMIN, json={"name": "ok", "department": "x"}
    )
    assert nowhere.status_code == 400 and nowhere.json()["error"]["param"] == "department"


def test_the_last_register_read_stays_in_force_while_the_database_is_away(
    sqlite_url: str,
) -> None:
    async def scenario() -> tuple[str | None, bool]:
        engine = make_engine(sqlite_url)
        try:
            await register_test_use_case(engine)
            gate = UseCaseGate(
                engine, make_catalog("http://127.0.0.1:9"), AdmissionRules(), refresh_s=60
            )
            await gate.refresh()
            # The database goes away: its file is replaced by an empty one (no tables).
            await engine.dispose()
            database_file = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
            await asyncio.to_thread(database_file.write_bytes, b"")
            failed = False
            try:
                await gate.refresh()
            except SQLAlchemyError:
                failed = True
            return gate.check("tests", CHAT_MODEL), failed
        finally:
            await engine.dispose()

    flag, refresh_failed = asyncio.run(scenario())
    assert refresh_failed
    assert flag is None  # still admitted, as a production use case, from the last good read
