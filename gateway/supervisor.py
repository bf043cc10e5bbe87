"""Background loops that outlive their own errors, and a shutdown that runs every step.

A loop of the gateway (quota limits refresh, alert delivery, policy reload, replica probes) used
to end on its first unexpected error, without a word, and the gateway went on without it. Under
:func:`start_supervised` the error is logged with its traceback and the loop starts again after
a delay that doubles from ``first_delay_s`` up to ``max_delay_s`` (so a loop failing at every
turn neither floods the log nor spins the CPU), back to ``first_delay_s`` once it ran for
``healthy_after_s`` without failing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger("hygie.supervisor")

Loop = Callable[[], Awaitable[None]]
Step = tuple[str, Callable[[], Awaitable[None] | None]]


async def supervise(
    name: str,
    loop: Loop,
    *,
    first_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
    healthy_after_s: float = 60.0,
) -> None:
    """Run ``loop()`` until it returns or this task is cancelled, restarting it after errors.

    Cancellation (shutdown) is never swallowed; every other exception is logged and the loop
    started again after the current delay.
    """
    delay = first_delay_s
    while True:
        started = time.monotonic()
        try:
            await loop()
            return
        except Exception:
            if time.monotonic() - started >= healthy_after_s:
                delay = first_delay_s
            log.exception("background task %s failed; restarting it in %.3g s", name, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay_s)


def start_supervised(name: str, loop: Loop, **delays: float) -> asyncio.Task[None]:
    """Start ``loop`` as a task under :func:`supervise` (call from the running event loop)."""
    return asyncio.create_task(supervise(name, loop, **delays), name=name)


async def run_all(steps: Sequence[Step]) -> list[str]:
    """Run every shutdown step in order, even when an earlier one fails; each failure is
    logged with its traceback. Returns the names of the steps that failed."""
    failed = []
    for name, step in steps:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("shutdown step %r failed; going on with the next ones", name)
            failed.append(name)
    return failed
