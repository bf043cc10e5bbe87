"""A fallback model outside the use case's list is skipped, and the reason is logged."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from billing.db.database import make_engine
from billing.directory.use_cases import UseCase, register_use_case
from gateway.backends.fake import Unreachable
from policies.governance.register import Lifecycle
from tests.conftest import CHAT_MODEL
from tests.gateway.pipeline.harness import CLOUD_MODEL, in_process_gateway, make_catalog


async def _register_tests_use_case(url: str, models: tuple[str, ...] | None) -> None:
    engine = make_engine(url)
    try:
        use_case = UseCase("tests", status=Lifecycle.PRODUCTION, allowed_models=models)
        await register_use_case(engine, use_case)
    finally:
        await engine.dispose()


def _first_group_down(url: str, spool: Path, models: tuple[str, ...] | None) -> tuple[int, int]:
    """Status of a chat whose own model is unreachable, and requests the fallback received."""

    async def run() -> tuple[int, int]:
        await _register_tests_use_case(url, models)
        catalog = make_catalog(onprem_replicas=1, fallbacks=[CLOUD_MODEL])
        async with in_process_gateway(catalog, url, spool) as gw:
            gw.fakes["onprem"].then(Unreachable())
            response = await gw.chat("Bonjour")
            return response.status_code, len(gw.fakes["cloud-eu"].sent)

    return asyncio.run(run())


def test_a_fallback_outside_the_use_case_models_is_skipped_with_the_reason_logged(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hygie.governance"):
        status, fallback_calls = _first_group_down(sqlite_url, tmp_path / "spool", (CHAT_MODEL,))
    assert status >= 500 and fallback_calls == 0
    assert any(
        CLOUD_MODEL in r.getMessage() and "model_not_allowed_for_use_case" in r.getMessage()
        for r in caplog.records
    )


def test_a_fallback_among_the_use_case_models_still_answers(
    sqlite_url: str, tmp_path: Path
) -> None:
    models = (CHAT_MODEL, CLOUD_MODEL)
    assert _first_group_down(sqlite_url, tmp_path / "spool", models) == (200, 1)
