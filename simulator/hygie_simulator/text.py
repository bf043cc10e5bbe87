"""Deterministic pseudo-text: what the simulated model "generates".

Tokens are pseudo-words built from syllables (" moubipa", "jegou", "kai", ...) like the gibberish of
a randomly initialised model. A `Generation` is planned entirely before any token is sent, so the
streamed chunks, the final text and the usage always agree.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


def _build_vocabulary() -> tuple[str, ...]:
    # A fixed generator: the vocabulary is part of the simulator's observable behaviour.
    rng = random.Random(20260329)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ou", "ai")]
    words = [
        "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3)))) for _ in range(3000)
    ]
    spaced = [" " + w for w in words[:1400]]
    punctuation = [".", ",", ",", "?", ";", ":", "!"] * 12
    return tuple(spaced + words[1400:] + punctuation)


VOCABULARY = _build_vocabulary()
"""The pseudo-word tokens generation draws from (about 45% start a new word)."""

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, slots=True)
class Generation:
    """One planned choice: the text of each generated token, in order, and why it ends.

    A natural end (end-of-sequence token) is the last token, with empty text, as vLLM counts it.
    """

    tokens: tuple[str, ...]
    finish_reason: FinishReason
    stop_reason: str | None

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)


def derive_seed(*parts: object) -> int:
    """A 64-bit seed that depends on every part (stable across processes, unlike hash())."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def natural_length(seed: int, default_tokens: int, jitter: float) -> int:
    """Tokens until the simulated end-of-sequence: `default_tokens` x (1 ± `jitter`), at least 1."""
    if jitter <= 0.0:
        return max(1, default_tokens)
    spread = random.Random(seed ^ 0x5EED).uniform(-jitter, jitter)
    return max(1, round(default_tokens * (1.0 + spread)))


def _cut_at_stop(
    tokens: list[str], stop: Sequence[str], min_tokens: int, keep_stop: bool
) -> tuple[list[str], str | None]:
    """`tokens` ended at the first stop string (the token that completes it is kept, its text
    cut), and the stop string found, if any."""
    longest = max(len(s) for s in stop)
    text = ""
    for index, token in enumerate(tokens):
        before = len(text)
        text += token
        if index + 1 < min_tokens:
            continue
        window_start = max(0, before - longest + 1)
        found: tuple[int, str] | None = None
        for candidate in stop:
            at = text.find(candidate, window_start)
            if at != -1 and (found is None or at < found[0]):
                found = (at, candidate)
        if found is None:
            continue
        end = found[0] + len(found[1]) if keep_stop else found[0]
        return _retext(tokens[: index + 1], text[:end]), found[1]
    return tokens, None


def _retext(tokens: list[str], text: str) -> list[str]:
    """`tokens` trimmed from the end so that they concatenate to `text` (a prefix of theirs)."""
    out: list[str] = []
    used = 0
    for token in tokens:
        take = token[: max(0, len(text) - used)]
        out.append(take)
        used += len(take)
    return out


def plan_generation(
    seed: int,
    *,
    limit: int,
    natural: int | None,
    stop: Sequence[str] = (),
    min_tokens: int = 0,
    include_stop_str_in_output: bool = False,
) -> Generation:
    """Plan one choice of at most `limit` tokens (limit ≥ 1). `natural` is where the
    end-of-sequence token falls (None: `ignore_eos`); stop strings end it earlier."""
    eos_at = None if natural is None else max(natural, min_tokens, 1)
    if eos_at is not None and eos_at <= limit:
        text_tokens, finish = eos_at - 1, "stop"
    else:
        text_tokens, finish = limit, "length"
    tokens = random.Random(seed).choices(VOCABULARY, k=text_tokens)
    if stop:
        cut, found = _cut_at_stop(tokens, stop, min_tokens, include_stop_str_in_output)
        if found is not None:
            return Generation(tuple(cut), "stop", found)
    if finish == "stop":
        tokens.append("")
        return Generation(tuple(tokens), "stop", None)
    return Generation(tuple(tokens), "length", None)


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """A fake log-probability for one sampled token, with `alternatives` ranked below it."""

    token: str
    logprob: float
    alternatives: tuple[tuple[str, float], ...]


def fake_logprobs(seed: int, tokens: Sequence[str], top: int) -> list[TokenLogprob]:
    """Deterministic, plausible-looking log-probabilities; `top` counts the sampled token."""
    rng = random.Random(seed ^ 0x10C)
    out: list[TokenLogprob] = []
    for token in tokens:
        logprob = -rng.uniform(0.01, 8.0)
        alternatives: list[tuple[str, float]] = []
        seen = {token}
        below = logprob
        while len(alternatives) < top - 1:
            candidate = rng.choice(VOCABULARY)
            if candidate in seen:
                continue
            seen.add(candidate)
            below -= rng.uniform(0.001, 0.5)
            alternatives.append((candidate, below))
        out.append(TokenLogprob(token, logprob, tuple(alternatives)))
    return out
