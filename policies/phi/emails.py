"""E-mail addresses, found from their "@" so that text without one costs a single ``in`` test."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.spans import Span

from .kinds import PhiKind

_LOCAL_TAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}\Z")
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")


def find_emails(text: str) -> Iterator[Span]:
    """Spans of e-mail addresses; which of them are service mailboxes is decided elsewhere."""
    at = text.find("@")
    while at != -1:
        local = _LOCAL_TAIL.search(text, max(0, at - 64), at)
        domain = _DOMAIN.match(text, at + 1)
        if local is not None and domain is not None:
            local_part = local.group().lstrip(".")
            start = at - len(local_part)
            yield Span(start, domain.end(), PhiKind.EMAIL.value)
        at = text.find("@", at + 1)
