"""Hostile input on the register's routes is never a server error, always an OpenAI error."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.conftest import RunningGateway
from tests.gateway.api.test_admin_hostile_input import HOSTILE_TEXT, JSON, _json, _raw_bodies, _send

ADMIN = {"Authorization": "Bearer admin-test-token"}
VALID = {
    "name": "courriers",
    "purpose": "p",
    "department": "cardiologie",
    "responsible": "r",
    "population": "p",
    "legal_basis": "l",
    "data_classes": ["health"],
    "dpia_status": "done",
    "dpia_date": "2026-01-10",
    "ai_act_category": "limited",
    "ai_act_reason": "x",
    "status": "production",
    "allowed_models": ["m"],
    "documentation_url": "https://x",
}


def test_hostile_register_input_is_never_a_server_error(sqlite_gateway: RunningGateway) -> None:
    failures = []
    with httpx.Client(base_url=sqlite_gateway.url, headers=ADMIN, timeout=30) as client:
        for field in VALID:
            for value in [*HOSTILE_TEXT, 12, None, ["\x00"], {"a": 1}]:
                body = {**VALID, "name": "h", field: value}
                failures.append(
                    _send(client, "POST", "/admin/use-cases", content=_json(body), headers=JSON)
                )
        for raw in _raw_bodies():
            for path in ("/admin/use-cases", "/admin/models/x/reject"):
                failures.append(_send(client, "POST", path, content=raw, headers=JSON))
        for value in HOSTILE_TEXT:
            name = quote(value, safe="") or "%20"
            for method, path in (
                ("GET", f"/admin/use-cases/{name}"),
                ("PUT", f"/admin/use-cases/{name}"),
                ("POST", f"/admin/use-cases/{name}/status"),
                ("GET", f"/admin/use-cases/{name}/monitoring"),
                ("GET", f"/admin/models/{name}/approvals"),
                ("POST", f"/admin/models/{name}/approve"),
            ):
                failures.append(_send(client, method, path, content=_json(VALID), headers=JSON))
            for param in ("start", "end", "format"):
                failures.append(
                    _send(client, "GET", "/admin/reports/inventory", params={param: value})
                )
    assert [f for f in failures if f] == []
