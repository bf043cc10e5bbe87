"""``/v1/me`` tells callers where their use of AI stands in the register."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import CHAT_MODEL, RunningGateway
from tests.governance.test_use_case_gate import ADMIN, key_for, register


def _me(gateway: RunningGateway, key: str) -> dict[str, Any]:
    answer = httpx.get(f"{gateway.base_url}/me", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_me_shows_the_use_case_status_and_the_pilot_flag(sqlite_gateway: RunningGateway) -> None:
    gateway = sqlite_gateway
    register(gateway, "essai", status="pilot", allowed_models=[CHAT_MODEL])
    key = key_for(gateway, "essai")
    assert _me(gateway, key)["use_case_standing"] == {
        "registered": True,
        "status": "pilot",
        "admitted": True,
        "flagged": "pilot",
        "models": [CHAT_MODEL],
    }
    moved = httpx.post(
        f"{gateway.url}/admin/use-cases/essai/status", headers=ADMIN, json={"status": "retired"}
    )
    assert moved.status_code == 200, moved.text
    retired = _me(gateway, key)["use_case_standing"]
    assert retired["status"] == "retired" and not retired["admitted"] and retired["flagged"] is None


def test_me_says_when_a_key_has_no_registered_use_case(sqlite_gateway: RunningGateway) -> None:
    standing = _me(sqlite_gateway, key_for(sqlite_gateway, None))["use_case_standing"]
    assert standing == {"registered": False, "status": None, "admitted": False, "flagged": None}
