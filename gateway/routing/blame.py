"""Whose fault a failed attempt is: the replica's (it counts towards ejection) or the input's.

A replica is ejected for failing, not for being sent a request that cannot be served. So:

- connection errors and timeouts are the replica's, at once;
- a 4xx, or a 5xx whose body says "bad request" (vLLM answers some invalid inputs with a 5xx
  carrying ``"type": "BadRequestError"`` or ``"code": 400``), is the input's: never counted;
- any other 5xx is *suspect*: it is counted against the replica only once another replica of
  the same group (the same model) answers the same request without a 5xx. If every replica
  tried fails alike, the input is at fault and nothing is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from gateway.routing.replicas import Replica

_BAD_REQUEST_TYPES = frozenset({"BadRequestError", "invalid_request_error"})


def signals_bad_request(payload: bytes) -> bool:
    """True when an error body says the request itself was wrong (OpenAI or vLLM shape)."""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(parsed, dict):
        return False
    error = parsed.get("error")
    error = error if isinstance(error, dict) else parsed
    code = error.get("code")
    return error.get("type") in _BAD_REQUEST_TYPES or (
        isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 500
    )


@dataclass(slots=True)
class Suspects:
    """Replicas that answered a 5xx to one request, by group, until the request's fate is known."""

    _by_group: dict[int, list[Replica]] = field(default_factory=dict)

    def add(self, group: int, replica: Replica) -> None:
        self._by_group.setdefault(group, []).append(replica)

    def convicted(self, group: int) -> list[Replica]:
        """The suspects of ``group``, now that one of its replicas served the same request."""
        return self._by_group.pop(group, [])
