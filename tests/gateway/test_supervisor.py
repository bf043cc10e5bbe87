"""Background loops are restarted after an error, and shutdown runs every step."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.http.local_server import BackgroundServer
from gateway.services import start_services
from gateway.settings import Settings
from gateway.supervisor import run_all, start_supervised, supervise
from tests.conftest import make_catalog


def test_a_loop_that_raises_is_logged_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def loop() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"failure {len(runs)}")
        await asyncio.sleep(3600)  # the third run is healthy

    async def scenario() -> None:
        task = start_supervised("flaky", loop, first_delay_s=0.01)
        for _ in range(200):  # bounded wait: at most about 2 s
            if len(runs) == 3:
                break
            await asyncio.sleep(0.01)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR, logger="hygie.supervisor"):
        asyncio.run(scenario())
    assert runs == [0, 1, 2]
    failures = [r for r in caplog.records if "flaky" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info is not None for r in failures)  # with the traceback
    assert "0.01 s" in failures[0].getMessage() and "0.02 s" in failures[1].getMessage()


def test_the_restart_delay_doubles_up_to_its_ceiling() -> None:
    delays: list[float] = []

    async def scenario() -> None:
        real_sleep = asyncio.sleep

        async def loop() -> None:
            raise ValueError("always")

        async def recording_sleep(delay: float) -> None:
            delays.append(delay)
            if len(delays) == 6:
                raise asyncio.CancelledError
            await real_sleep(0)

        asyncio.sleep = recording_sleep  # type: ignore[assignment]
        try:
            with pytest.raises(asyncio.CancelledError):
                await supervise("always", loop, first_delay_s=1, max_delay_s=8)
        finally:
            asyncio.sleep = real_sleep

    asyncio.run(scenario())
    assert delays == [1, 2, 4, 8, 8, 8]


def test_a_loop_that_returns_is_not_restarted() -> None:
    runs: list[int] = []

    async def once() -> None:
        runs.append(1)

    asyncio.run(supervise("once", once, first_delay_s=0.01))
    assert runs == [1]


def test_shutdown_runs_later_steps_when_an_earlier_one_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    async def failing() -> None:
        raise OSError("disk full")

    async def later() -> None:
        done.append("later")

    with caplog.at_level(logging.ERROR, logger="hygie.supervisor"):
        failed = asyncio.run(
            run_all([("first", failing), ("sync", lambda: done.append("sync")), ("last", later)])
        )
    assert failed == ["first"]
    assert done == ["sync", "later"]
    assert any("'first'" in m for m in caplog.messages)


def test_gateway_shutdown_closes_everything_even_if_the_ledger_fails(
    simulator: BackgroundServer, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=sqlite_url, spool_dir=tmp_path / "spool", admin_token="admin-test-token"
    )

    async def scenario() -> None:
        services = await start_services(settings, make_catalog(simulator.url), migrate=False)
        ledger_close = services.ledger.close

        async def broken_close() -> None:
            await ledger_close()
            raise RuntimeError("injected: the ledger could not close")

        services.ledger.close = broken_close  # type: ignore[method-assign]
        await services.close()
        assert services.policy_watch.cancelled()
        assert services.session.closed  # a later step ran

    with caplog.at_level(logging.ERROR, logger="hygie.supervisor"):
        asyncio.run(scenario())
    assert any("'ledger'" in m for m in caplog.messages)
