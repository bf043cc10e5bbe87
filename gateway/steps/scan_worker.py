"""Classification of large requests on a worker thread, off the event loop.

Scanning a text for identifiers takes about a third of a microsecond per character: a pasted
record of a few megabytes takes a second, during which an event loop running the scan would
serve nobody else. Large bodies are therefore scanned on a worker thread. The scan still holds
the interpreter lock most of the time, but Python hands the lock to the event loop's thread
every few milliseconds, so the other requests of the process keep being served.

Small bodies, the usual chat turn, are scanned inline: handing one to a thread costs more than
scanning it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class ScanWorker:
    """Runs the sovereignty step of bodies of ``min_bytes`` or more on its own thread."""

    def __init__(self, min_bytes: int) -> None:
        self._min_bytes = min_bytes
        # One thread: scans hold the interpreter lock, so two in parallel would finish no sooner
        # than one after the other. Its own pool, so that the loop's default executor (used for
        # DNS lookups) is never queued behind a long scan.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hygie-scan")

    async def run(self, body_bytes: int, work: Callable[[], T]) -> T:
        """``work()``, inline for a body under the threshold, else on the worker thread.

        ``work`` sees the caller's context variables (trace context, request id) either way.
        If the caller is cancelled, the scan runs to its end and its result is dropped.
        """
        if body_bytes < self._min_bytes:
            return work()
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, context.run, work)

    def close(self) -> None:
        """Stop the thread once the scan in progress, if any, ends; drop queued ones."""
        self._executor.shutdown(wait=False, cancel_futures=True)
