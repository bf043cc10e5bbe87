"""Runs the quota Lua scripts on Redis with as little client-side work as possible.

Every request reserves before it is forwarded, so one script call sits on every request's path.
redis-py's generic command path (argument encoding in Python, a task per socket write when a
timeout is set, pool locking, retry and observability hooks) costs more CPU than the round trip
itself. Here hiredis packs the command and it goes out on one of a few redis-py connections
this runner keeps for itself: redis-py still connects, parses replies (hiredis) and raises its
usual exceptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import hiredis
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

# hiredis's type stub declares the argument a 1-tuple; it takes a tuple of any length.
pack_command = cast(Callable[[tuple[str | int | bytes, ...]], bytes], hiredis.pack_command)

# How long a reply may take before Redis counts as unreachable (the store's fail mode applies),
# when the client sets no socket timeout.
DEFAULT_REPLY_TIMEOUT_S = 1.0
# redis-py's pools default to an unbounded number of connections; this runner is not.
_MAX_CONNECTIONS = 256


class ScriptRunner:
    """Calls named Lua scripts with ``EVALSHA``, loading a script the first time Redis lacks it.

    Connections are made with the settings of ``client``'s pool (address, credentials, TLS,
    connect and socket timeouts, maximum number of connections) and reused one call at a time;
    as many exist as calls ever ran at once, up to that maximum (further calls wait for one).
    """

    def __init__(self, client: Redis, sources: Mapping[str, str]) -> None:
        pool = client.connection_pool
        # The client's socket timeout bounds each reply here too.
        timeout = pool.connection_kwargs.get("socket_timeout")
        self._reply_timeout_s = float(timeout) if timeout else DEFAULT_REPLY_TIMEOUT_S
        # No socket timeout on the connection itself: redis-py would run every write in a task
        # of its own to enforce it. Replies are bounded below instead; writes of a few hundred
        # bytes go to the kernel's buffer at once.
        self._connection_kwargs = {**pool.connection_kwargs, "socket_timeout": None}
        self._connection_class = pool.connection_class
        self._sources = dict(sources)
        self._shas = {
            name: hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
            for name, source in sources.items()
        }
        self._idle: list[AbstractConnection] = []
        self._slots = asyncio.Semaphore(min(pool.max_connections, _MAX_CONNECTIONS))

    async def run(self, name: str, keys: Sequence[str], args: Sequence[str | int | bytes]) -> Any:
        """The reply of script ``name``; Redis errors are raised as redis-py's exceptions."""
        command = pack_command(("EVALSHA", self._shas[name], len(keys), *keys, *args))
        try:
            return await self._call(command)
        except redis_errors.NoScriptError:  # Redis restarted or its scripts were flushed
            await self._call(pack_command(("SCRIPT", "LOAD", self._sources[name])))
            return await self._call(command)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.disconnect()

    async def _call(self, command: bytes) -> Any:
        """Send ``command`` and read its reply. A connection found dead (Redis restarted since
        it was last used) is reconnected and the command sent once more: a script run twice is
        harmless (reservations and settlements are keyed by request id; a doubled top-up holds
        more until the request settles, erring on the safe side)."""
        async with self._slots:
            connection = self._idle.pop() if self._idle else self._new_connection()
            try:
                try:
                    reply = await self._exchange(connection, command)
                except redis_errors.ConnectionError:
                    reply = await self._exchange(connection, command)  # reconnects first
            except redis_errors.ResponseError:
                self._idle.append(connection)  # an error reply leaves the connection usable
                raise
            self._idle.append(connection)
            return reply

    async def _exchange(self, connection: AbstractConnection, command: bytes) -> Any:
        try:
            await connection.send_packed_command(command, check_health=False)
            async with asyncio.timeout(self._reply_timeout_s):
                # A read cut short (timeout, cancellation) disconnects the connection, so a
                # late reply can never be taken for the answer to the next command.
                return await connection.read_response(timeout=math.inf)
        except redis_errors.ResponseError:
            raise
        except BaseException as exc:
            await connection.disconnect()
            if isinstance(exc, TimeoutError):
                raise redis_errors.TimeoutError("no reply from Redis in time") from exc
            raise

    def _new_connection(self) -> AbstractConnection:
        connection: AbstractConnection = self._connection_class(**self._connection_kwargs)
        return connection
