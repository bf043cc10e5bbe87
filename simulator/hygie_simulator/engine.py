"""The simulated engine: per-model slots, FIFO waiting queue, KV-cache occupancy, metrics.

Accounting follows vLLM: a request with n choices (or a batch of prompts) is one sequence per
choice, each counting its prompt in `prompt_tokens_total`; tokens are counted as they are
generated, so an aborted request counts only what it produced and is not a `request_success`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field

from hygie_simulator.config import SimulatorConfig
from hygie_simulator.metrics import ModelMetrics, ModelSnapshot
from hygie_simulator.text import Generation


@dataclass(frozen=True, slots=True)
class Sequence:
    """One choice of a request: its prompt size and planned output."""

    prompt_tokens: int
    generation: Generation


@dataclass(frozen=True, slots=True)
class Timing:
    """When a job's tokens come, relative to its admission."""

    first_token_s: float
    inter_token_s: float

    def token_offset(self, index: int) -> float:
        return self.first_token_s + index * self.inter_token_s

    def tokens_by(self, elapsed: float, length: int) -> int:
        """Tokens of a `length`-token sequence generated `elapsed` seconds after admission."""
        if elapsed < self.first_token_s or length == 0:
            return 0
        if self.inter_token_s <= 0.0:
            return length
        return min(length, 1 + math.floor((elapsed - self.first_token_s) / self.inter_token_s))


class Job:
    """A request's passage through the engine: waiting, running, then finished or aborted.

    `close()` must always be called (in a `finally`); it aborts a job that did not finish.
    """

    def __init__(
        self,
        engine: ModelEngine,
        sequences: list[Sequence],
        timing: Timing,
        *,
        max_tokens_param: int,
        n_param: int,
        streamed: bool,
    ) -> None:
        self.engine = engine
        self.sequences = sequences
        self.timing = timing
        self.max_tokens_param = max_tokens_param
        self.n_param = n_param
        self.streamed = streamed
        self.arrived = time.monotonic()
        self.admitted: float | None = None
        self.first_token: float | None = None
        self.emitted = [0] * len(sequences)
        self.done = False
        self._wake: asyncio.Future[None] | None = None

    @property
    def prompt_tokens(self) -> int:
        return sum(seq.prompt_tokens for seq in self.sequences)

    def kv_tokens(self, now: float) -> int:
        """Tokens this job holds in the KV cache now."""
        if self.admitted is None:
            return 0
        generated = sum(
            self.emitted
            if self.streamed
            else (
                self.timing.tokens_by(now - self.admitted, len(s.generation))
                for s in self.sequences
            )
        )
        return self.prompt_tokens + generated

    async def admit(self) -> None:
        """Wait for a slot (FIFO); returns once the job runs."""
        await self.engine.scheduler.admit(self)

    def _prefilled(self) -> None:
        # vLLM counts the prompt once its prefill ran, i.e. with the first token.
        now = time.monotonic()
        self.first_token = now
        self.engine.metrics.prompt_tokens += self.prompt_tokens
        self.engine.metrics.observe("time_to_first_token_seconds", now - self.arrived)

    def record_tokens(self, index: int, count: int = 1) -> None:
        """`count` more tokens of sequence `index` were generated (and sent)."""
        if self.first_token is None:
            self._prefilled()
        self.emitted[index] += count
        self.engine.metrics.generation_tokens += count

    def finish(self) -> None:
        """All planned tokens were produced: count successes and release the slot."""
        if self.first_token is None:
            self._prefilled()
        for index, seq in enumerate(self.sequences):
            missing = len(seq.generation) - self.emitted[index]
            if missing > 0:
                self.record_tokens(index, missing)
        self._observe_finished()
        self._release()
        self.engine.stats_completed += 1

    def close(self) -> None:
        """Abort the job unless it finished: release its slot, count only what was generated."""
        if self.done:
            return
        if self.admitted is not None and not self.streamed:
            elapsed = time.monotonic() - self.admitted
            for index, seq in enumerate(self.sequences):
                produced = self.timing.tokens_by(elapsed, len(seq.generation))
                if produced > self.emitted[index]:
                    self.record_tokens(index, produced - self.emitted[index])
        self.engine.stats_aborted += 1
        self._release()

    def _release(self) -> None:
        self.done = True
        self.engine.scheduler.release(self)

    def _observe_finished(self) -> None:
        now = time.monotonic()
        metrics = self.engine.metrics
        admitted = self.admitted if self.admitted is not None else now
        first = self.first_token if self.first_token is not None else now
        metrics.observe("request_params_n", self.n_param)
        metrics.observe("request_max_num_generation_tokens", self.max_tokens_param)
        for seq in self.sequences:
            generated = len(seq.generation)
            metrics.success[seq.generation.finish_reason] += 1
            metrics.observe("request_prompt_tokens", seq.prompt_tokens)
            metrics.observe("request_generation_tokens", generated)
            metrics.observe("request_params_max_tokens", self.max_tokens_param)
            metrics.observe("request_prefill_kv_computed_tokens", seq.prompt_tokens)
            metrics.observe("request_num_preemptions", 0)
            metrics.observe("e2e_request_latency_seconds", now - self.arrived)
            metrics.observe("request_queue_time_seconds", admitted - self.arrived)
            metrics.observe("request_inference_time_seconds", now - admitted)
            metrics.observe("request_prefill_time_seconds", first - admitted)
            metrics.observe("request_decode_time_seconds", now - first)
            decode_per_token = (now - first) / (generated - 1) if generated > 1 else 0.0
            metrics.observe("request_time_per_output_token_seconds", decode_per_token)
            for _ in range(generated - 1):
                metrics.observe("inter_token_latency_seconds", decode_per_token)


class Scheduler:
    """Admits jobs first come, first served while sequences and KV cache allow."""

    def __init__(self, engine: ModelEngine) -> None:
        self.engine = engine
        self.running: set[Job] = set()
        self.waiting: deque[Job] = deque()
        self.running_seqs = 0

    @property
    def waiting_seqs(self) -> int:
        return sum(len(job.sequences) for job in self.waiting)

    def kv_used(self, now: float) -> int:
        return sum(job.kv_tokens(now) for job in self.running)

    def _fits(self, job: Job) -> bool:
        # An idle engine always takes the head job, however large, so nothing waits forever.
        if not self.running:
            return True
        config = self.engine.config
        if self.running_seqs + len(job.sequences) > config.max_num_seqs:
            return False
        return self.kv_used(time.monotonic()) + job.prompt_tokens <= config.kv_cache_tokens

    def _start(self, job: Job) -> None:
        job.admitted = time.monotonic()
        self.running.add(job)
        self.running_seqs += len(job.sequences)

    async def admit(self, job: Job) -> None:
        if not self.waiting and self._fits(job):
            self._start(job)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        job._wake = wake
        self.waiting.append(job)
        try:
            await wake
        except asyncio.CancelledError:
            if job in self.waiting:
                self.waiting.remove(job)
            raise

    def release(self, job: Job) -> None:
        if job in self.running:
            self.running.discard(job)
            self.running_seqs -= len(job.sequences)
        elif job in self.waiting:
            self.waiting.remove(job)
        self._drain()

    def _drain(self) -> None:
        while self.waiting and self._fits(self.waiting[0]):
            job = self.waiting.popleft()
            self._start(job)
            if job._wake is not None and not job._wake.done():
                job._wake.set_result(None)


@dataclass
class ModelEngine:
    """The engine of one served model: its scheduler, metrics and counters."""

    name: str
    config: SimulatorConfig
    metrics: ModelMetrics
    scheduler: Scheduler = field(init=False)
    stats_completed: int = 0
    stats_aborted: int = 0

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self)

    def snapshot(self) -> ModelSnapshot:
        now = time.monotonic()
        capacity = self.config.kv_cache_tokens
        return ModelSnapshot(
            name=self.name,
            metrics=self.metrics,
            running=self.scheduler.running_seqs,
            waiting=self.scheduler.waiting_seqs,
            kv_cache_usage=min(1.0, self.scheduler.kv_used(now) / capacity),
            kv_cache_tokens=capacity,
        )

    def timing(self, prompt_tokens: int, ttft_ms: float | None) -> Timing:
        """Token timing for a job: `ttft_ms` if given (absolute), else the configured time to
        first token plus prefill cost, scaled by `speed_factor`."""
        config = self.config
        speed = config.speed_factor
        if ttft_ms is None:
            ttft_ms = (
                config.time_to_first_token_ms
                + config.prefill_ms_per_1k_tokens * prompt_tokens / 1000
            ) / speed
        return Timing(ttft_ms / 1000.0, config.inter_token_ms / 1000.0 / speed)
