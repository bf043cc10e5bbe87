"""Hot reload of the policy file: a new version is taken only once it has been validated.

:class:`PolicyHolder` keeps the engine the gateway uses. :meth:`PolicyHolder.refresh` looks at
the file at most every ``check_every_s`` seconds (a ``stat``; the file is read and hashed only
when its identity changed) and swaps the engine only for a file that validates: a broken file,
or a file that disappears, leaves the previous policy in force and is reported in
:attr:`PolicyHolder.last_error`. Call ``refresh`` on each request (it is cheap when not due) or
run :meth:`PolicyHolder.watch` as an asyncio task; no thread is involved either way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from policies.policy_file import PolicyError, load_policy
from policies.rules import PolicyEngine

logger = logging.getLogger(__name__)

_FileIdentity = tuple[int, int, int, int]  # device, inode, size, mtime in ns


class ReloadOutcome(StrEnum):
    """What one :meth:`PolicyHolder.refresh` did."""

    NOT_DUE = "not_due"  # checked too recently; nothing looked at
    UNCHANGED = "unchanged"  # same file identity, or same content hash
    RELOADED = "reloaded"  # a new valid policy is now in force
    REJECTED = "rejected"  # the file changed but is invalid or unreadable: previous policy kept


class PolicyHolder:
    """The policy in force, reloaded from ``path`` when the file changes.

    The constructor loads the file and raises :class:`PolicyError` if it is invalid: a gateway
    must not start without a policy. Afterwards, a bad file never replaces a good policy.
    """

    def __init__(
        self,
        path: Path,
        *,
        check_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._check_every_s = check_every_s
        self._clock = clock
        identity = self._identity()
        self._engine = PolicyEngine(load_policy(path))
        self._identity_seen = identity
        self._checked_at = clock()
        self.last_error: str | None = None

    @property
    def engine(self) -> PolicyEngine:
        """The engine of the policy currently in force."""
        return self._engine

    def refresh(self, *, force: bool = False) -> ReloadOutcome:
        """Reload the file if it changed and the check is due (or ``force``)."""
        now = self._clock()
        if not force and now - self._checked_at < self._check_every_s:
            return ReloadOutcome.NOT_DUE
        self._checked_at = now
        try:
            identity = self._identity()
        except OSError as error:
            return self._reject(f"cannot read policy file {self._path}: {error.strerror}")
        if identity == self._identity_seen:
            return ReloadOutcome.UNCHANGED
        try:
            loaded = load_policy(self._path)
        except PolicyError as error:
            # Remember the identity so that a broken file is reported once, not on every check.
            self._identity_seen = identity
            return self._reject(str(error))
        self._identity_seen = identity
        if loaded.sha256 == self._engine.policy.sha256:
            self.last_error = None
            return ReloadOutcome.UNCHANGED
        previous = self._engine.version
        self._engine = PolicyEngine(loaded)
        self.last_error = None
        logger.info("sovereignty policy reloaded: %s -> %s", previous, loaded.version)
        return ReloadOutcome.RELOADED

    async def watch(self, interval_s: float | None = None) -> None:
        """Check the file forever, every ``interval_s`` (default: ``check_every_s``).

        Meant to run as an asyncio task that the application cancels on shutdown.
        """
        interval = self._check_every_s if interval_s is None else interval_s
        while True:
            await asyncio.sleep(interval)
            self.refresh(force=True)

    def _identity(self) -> _FileIdentity:
        # stat() follows symlinks, so a Kubernetes ConfigMap swap (a new target) is noticed.
        info = os.stat(self._path)
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    def _reject(self, message: str) -> ReloadOutcome:
        if message != self.last_error:  # once per problem, not once per check
            logger.error(
                "sovereignty policy not reloaded, keeping version %s: %s",
                self._engine.version,
                message,
            )
        self.last_error = message
        return ReloadOutcome.REJECTED
