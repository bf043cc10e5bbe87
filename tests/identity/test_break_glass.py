"""The operator's admin token is break-glass: each use is logged with its route and counted."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.conftest import RunningGateway

ADMIN = {"authorization": "Bearer admin-test-token"}


def test_every_use_of_the_admin_token_is_logged_and_counted(
    sqlite_gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gw = sqlite_gateway
    with caplog.at_level(logging.WARNING, logger="hygie.admin"):
        for _ in range(2):
            assert httpx.get(f"{gw.url}/admin/users", headers=ADMIN).status_code == 200
        assert httpx.get(f"{gw.url}/admin/keys/key_x", headers=ADMIN).status_code in (404, 405)
        # A user's own key is not break-glass: neither logged nor counted.
        httpx.get(f"{gw.url}/admin/users", headers={"authorization": f"Bearer {gw.key}"})
    uses = [r.getMessage() for r in caplog.records if r.name == "hygie.admin"]
    assert uses.count("break-glass admin token used: GET /admin/users") == 2
    assert "admin-test-token" not in caplog.text
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert 'hygie_admin_token_uses_total{route="/admin/users"} 2.0' in metrics
