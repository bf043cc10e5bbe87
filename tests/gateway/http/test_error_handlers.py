"""An unexpected error on a FastAPI route answers in the one OpenAI error shape."""

from __future__ import annotations

from typing import NoReturn

import httpx
import pytest

from gateway.api import openai as routes_openai
from tests.conftest import CHAT_MODEL, RunningGateway


def _failing(*_: object, **__: object) -> NoReturn:
    raise RuntimeError("injected fault")


def test_a_bug_in_a_route_is_an_openai_500(
    sqlite_gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_openai, "_model_card", _failing)
    response = httpx.get(
        f"{sqlite_gateway.base_url}/models/{CHAT_MODEL}",
        headers={"Authorization": f"Bearer {sqlite_gateway.key}"},
        timeout=10,
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["type"] == "api_error"
    assert "injected" not in error["message"]  # internals stay in the server's log
