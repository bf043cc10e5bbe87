"""vLLM's own token counters, read from its Prometheus ``/metrics`` once the engine is idle."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx

_SAMPLE = r"^vllm:{name}\{{[^}}]*\}} ([0-9.e+-]+)$"


@dataclass(frozen=True, slots=True)
class Counters:
    """Totals of ``vllm:prompt_tokens_total`` and ``vllm:generation_tokens_total``."""

    prompt: int
    generation: int

    def __sub__(self, before: Counters) -> Counters:
        return Counters(self.prompt - before.prompt, self.generation - before.generation)


def _total(text: str, name: str) -> float:
    pattern = _SAMPLE.format(name=re.escape(name))
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


def _read(vllm_url: str) -> tuple[Counters, float]:
    text = httpx.get(f"{vllm_url}/metrics", timeout=10).text
    counters = Counters(
        int(_total(text, "prompt_tokens_total")), int(_total(text, "generation_tokens_total"))
    )
    busy = _total(text, "num_requests_running") + _total(text, "num_requests_waiting")
    return counters, busy


def settled_counters(vllm_url: str, *, timeout_s: float = 15.0) -> Counters:
    """The counters once no request runs or waits and two reads 0.2 s apart agree.

    vLLM updates its counters after it has handed a request's last output to the HTTP layer, and
    an aborted request stops only when the server notices the disconnect: reading at once could
    miss the last tokens.
    """
    deadline = time.monotonic() + timeout_s
    previous: Counters | None = None
    while True:
        counters, busy = _read(vllm_url)
        if busy == 0 and counters == previous:
            return counters
        if time.monotonic() > deadline:
            raise AssertionError(f"vLLM did not settle within {timeout_s} s (busy={busy})")
        previous = counters if busy == 0 else None
        time.sleep(0.2)
