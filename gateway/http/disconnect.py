"""Noticing that the client went away, so the upstream request is cancelled too.

ASGI tells an application about a disconnect only through ``receive()``. A watcher task waits
on it and cancels the request's task; the request code then sees ``CancelledError`` with
:attr:`DisconnectWatch.client_gone` set, closes the upstream connection (vLLM aborts the
generation) and records the request as disconnected.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive


class DisconnectWatch:
    """Cancels the current task when the client disconnects. Stop it before responding."""

    def __init__(self, receive: Receive) -> None:
        self.client_gone = False
        self._owner = asyncio.current_task()
        self._watcher: asyncio.Task[None] | None = asyncio.ensure_future(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                if self._owner is not None:
                    self._owner.cancel()
                return

    def stop(self) -> None:
        """Stop watching (the server reports a disconnect once the response is complete)."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    def absorb_cancellation(self) -> bool:
        """After a ``CancelledError``: True if it came from this watch (and is now cleared)."""
        if not self.client_gone:
            return False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True
