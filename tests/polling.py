"""Waiting for a condition instead of sleeping a fixed time: a test goes on as soon as what it
waits for is true, and fails with a message (not a hang) when it never becomes true."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Short enough that a test rarely waits more than a few ms past the moment the condition holds.
POLL_INTERVAL_S = 0.02


def wait_until(
    condition: Callable[[], T],
    *,
    timeout_s: float = 10.0,
    interval_s: float = POLL_INTERVAL_S,
    message: str = "condition",
) -> T:
    """Call ``condition`` until it returns a truthy value, and return that value.

    Raises ``TimeoutError`` naming ``message`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{message} still false after {timeout_s} s")
        time.sleep(interval_s)


async def async_wait_until(
    condition: Callable[[], Awaitable[T]] | Callable[[], T],
    *,
    timeout_s: float = 10.0,
    interval_s: float = POLL_INTERVAL_S,
    message: str = "condition",
) -> T:
    """``wait_until`` for event-loop code: ``condition`` may be a coroutine function."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{message} still false after {timeout_s} s")
        await asyncio.sleep(interval_s)
