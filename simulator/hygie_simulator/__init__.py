"""A simulated vLLM 0.32 OpenAI-compatible server, for tests, `hygie demo` and benchmarks.

It answers like a real vLLM server (bodies field for field, SSE framing, error bodies, /metrics
families and labels) with deterministic pseudo-text, on a simulated clock: slots
(`max_num_seqs`), a FIFO waiting queue, KV-cache occupancy, time to first token and inter-token
delay. Outputs depend only on the config's `seed` and the request body.

Public API::

    create_simulator_app(config: SimulatorConfig) -> SimulatorApp   # ASGI app; .runtime = state
    serve_simulator(config: SimulatorConfig, host: str, port: int) -> None   # blocking, uvicorn
    count_prompt_tokens(body: dict) -> int   # the usage.prompt_tokens the server will report

Endpoints: POST /v1/chat/completions, /v1/completions, /v1/embeddings, /tokenize; GET /v1/models,
/health, /ping, /version, /metrics; and, for tests, GET/POST /sim/config (POST merges a JSON
patch into the live config, e.g. ``{"speed_factor": 0.1}`` or ``{"faults": {"http_503": 0.5}}``)
and GET /sim/stats (requests per path, errors, faults, completed/aborted, tokens, usage sent).

Accounting, as vLLM: `completion_tokens` is the number of generated tokens, one per streamed
content chunk (a natural end is an end-of-sequence token with empty text). `/metrics` counters
add up to the usage reported, except that a request with n > 1 choices (or a batch of prompts)
counts its prompt once per choice in `vllm:prompt_tokens_total`, as vLLM does. A client that
disconnects aborts the request: counters keep only the tokens sent, and it is not counted in
`vllm:request_success_total`. Completions without `max_tokens` generate at most 16 tokens
(vLLM's default); chat without it stops after `default_output_tokens` (end of sequence).

Control fields accepted in chat, completions and embeddings bodies (ignored by real vLLM):

- ``"sim_fault"``: one of
  ``"http_500"`` (500 with a vLLM InternalServerError body),
  ``"http_503"`` (503, type ServiceUnavailableError),
  ``"slow"`` (first token after ``sim_delay_ms``, default `slow_delay_ms`),
  ``"disconnect_mid_stream"`` (streams: the TCP connection is closed after
  `disconnect_after_chunks` events, without usage chunk nor ``[DONE]``; non-streamed answers:
  closed after half the body),
  ``"malformed_chunk"`` (streams: a ``data: {not json`` event after the second event, then the
  stream goes on; non-streamed answers: a 200 body that is not JSON),
  ``"drop_connection"`` (the connection is closed before any response byte).
  The same faults can be drawn at random with the probabilities of `SimulatorConfig.faults`.
- ``"sim_delay_ms"`` (number): time to first token of a ``slow`` fault.
- ``"sim_output_tokens"`` (int): where the end-of-sequence falls (still capped by
  ``max_tokens`` and the context, and ignored with ``ignore_eos``).
- ``"sim_ttft_ms"`` (number): time to first token for this request (not scaled by speed_factor).
"""

from hygie_simulator.app import SimulatorApp, create_simulator_app
from hygie_simulator.config import FaultRates, ServedModel, SimulatorConfig
from hygie_simulator.server import serve_simulator
from hygie_simulator.tokenizer import count_prompt_tokens

__all__ = [
    "FaultRates",
    "ServedModel",
    "SimulatorApp",
    "SimulatorConfig",
    "count_prompt_tokens",
    "create_simulator_app",
    "serve_simulator",
]
