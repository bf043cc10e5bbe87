"""Client for approved external providers (OpenAI, Azure OpenAI, Mistral, Anthropic) via litellm.

It answers exactly like the vLLM pass-through does — OpenAI-format JSON bytes, or OpenAI-format
SSE bytes ending with a usage chunk and ``data: [DONE]`` — so the gateway's ``StreamMeter`` and
ledger treat both kinds of deployment alike. Errors follow :mod:`gateway.backends.litellm.errors`.

litellm is imported by the constructor, never when this module is imported: the import takes
several seconds and, unless :func:`prepare_litellm_environment` ran first, fetches its model
price map and Anthropic header list from the internet.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import orjson

from gateway.backends.litellm.errors import (
    ProviderRejected,
    ProviderStreamBroken,
    classify_provider_error,
)
from gateway.backends.litellm.reply import (
    SSE_DONE,
    chunk_document,
    estimated_usage,
    generated_text,
    reply_document,
    sse_event,
    usage_chunk_document,
    usage_object,
)
from gateway.backends.litellm.request import UnsupportedEndpoint, build_provider_request
from gateway.backends.litellm.tokens import ProviderTokenCounter
from gateway.backends.protocol import ReplicaUnreachable, UpstreamReply
from gateway.catalog import Deployment, Timeouts

# Read by litellm when it is imported; there is no Python API for them (the price map is loaded
# at import time). LITELLM_OFFLINE_MODE also stops the Anthropic beta-header and tokenizer
# downloads: a hospital gateway must not reach the internet on its own.
LITELLM_ENVIRONMENT = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_OFFLINE_MODE": "true"}

_JSON = "application/json"


def prepare_litellm_environment(environ: MutableMapping[str, str]) -> None:
    """Set the variables litellm reads at import time into ``environ`` (the process environment).

    Must run before the first :class:`LiteLLMClient` is built (before ``import litellm``).
    """
    environ.update(LITELLM_ENVIRONMENT)


class LiteLLMClient:
    """Sends OpenAI-style requests to external providers through litellm.

    Build one at start (it imports litellm) and call :meth:`aclose` at shutdown. The provider
    credential is always the ``api_key`` argument (the gateway's secret for the deployment);
    ``api_key``/``api_base`` fields in a client body are never used.
    """

    def __init__(self) -> None:
        litellm: Any = importlib.import_module("litellm")
        # litellm's options are module globals. These stop its debug prints and have it redact
        # messages from what it hands to logging callbacks (prompts may hold health data).
        litellm.suppress_debug_info = True
        litellm.turn_off_message_logging = True
        self._litellm = litellm
        self._calls: dict[str, Callable[..., Awaitable[Any]]] = {
            "chat": litellm.acompletion,
            "completions": litellm.atext_completion,
            "embeddings": litellm.aembedding,
        }
        self._tokens = ProviderTokenCounter(litellm.token_counter)
        httpx = importlib.import_module("httpx")
        self._timeout_type: Callable[..., Any] = httpx.Timeout
        # OpenAI and Azure calls go through the OpenAI SDK. For legacy completions litellm builds
        # a new SDK client, with a new connection pool it never closes, on every call; given a
        # shared session it uses that instead. This pool is the client's, closed by aclose().
        self._openai_http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=200),
            follow_redirects=False,
        )
        litellm.aclient_session = self._openai_http
        # litellm raises subclasses of openai.APIError; transport errors may leak mid-stream.
        self._provider_errors: tuple[type[BaseException], ...] = (
            importlib.import_module("openai").APIError,
            httpx.HTTPError,
            aiohttp.ClientError,
        )

    async def aclose(self) -> None:
        """Close this client's connection pool and the HTTP clients litellm cached."""
        if self._litellm.aclient_session is self._openai_http:
            self._litellm.aclient_session = None
        await self._openai_http.aclose()
        cleanup = importlib.import_module("litellm.llms.custom_httpx.async_client_cleanup")
        await cleanup.close_litellm_async_clients()

    async def complete(
        self, deployment: Deployment, endpoint: str, body: dict[str, Any], api_key: str | None
    ) -> UpstreamReply:
        """Send a non-streaming request and return the whole OpenAI-format answer.

        A 2xx answer always has a ``usage`` object (computed when the provider gave none) and the
        client's model name. A 4xx the client caused is returned as that status with an
        ``{"error": {...}}`` body. Raises :class:`ReplicaUnreachable` (or a subclass) when this
        deployment cannot answer now; nothing was sent to the client, so failing over is safe.
        """
        call = self._call(endpoint)
        request = build_provider_request(deployment, endpoint, body, api_key=api_key, stream=False)
        timeouts = deployment.timeouts
        try:
            async with asyncio.timeout(timeouts.first_byte_s):
                response = await call(
                    **request.arguments, timeout=self._timeout(timeouts, timeouts.first_byte_s)
                )
        except TimeoutError:
            raise ReplicaUnreachable("no answer within first_byte_s", timed_out=True) from None
        except self._provider_errors as exc:
            outcome = classify_provider_error(exc)
            if isinstance(outcome, ProviderRejected):
                return UpstreamReply(outcome.status, outcome.body, _JSON)
            raise outcome from None
        document: dict[str, Any] = response.model_dump()
        usage = usage_object(document.get("usage")) or self._estimate(
            deployment, endpoint, body, generated_text(document)
        )
        model = _public_model(body, deployment)
        answer = reply_document(endpoint, document, model, usage)
        return UpstreamReply(200, orjson.dumps(answer), _JSON)

    async def stream(
        self, deployment: Deployment, endpoint: str, body: dict[str, Any], api_key: str | None
    ) -> AsyncGenerator[bytes, None]:
        """Yield the answer as OpenAI-format SSE events, then a usage chunk and ``[DONE]``.

        The first ``__anext__`` opens the provider stream and waits for its first chunk (at most
        ``first_byte_s``); until something has been yielded, failures raise exactly what
        :meth:`complete` would (:class:`ReplicaUnreachable` and subclasses, or
        :class:`ProviderRejected` for a 4xx), so the caller may fail over. Afterwards they raise
        :class:`ProviderStreamBroken` (including a pause longer than ``idle_s``). Closing the
        iterator (``aclose``, or cancelling its consumer) closes the provider connection; use
        ``contextlib.aclosing`` so that happens at once.
        """
        if endpoint == "embeddings":
            raise UnsupportedEndpoint("embeddings cannot be streamed")
        call = self._call(endpoint)
        request = build_provider_request(deployment, endpoint, body, api_key=api_key, stream=True)
        timeouts = deployment.timeouts
        model = _public_model(body, deployment)
        # The read timeout is only a backstop: asyncio timeouts below enforce the real bounds.
        timeout = self._timeout(timeouts, max(timeouts.first_byte_s, timeouts.idle_s))
        provider_stream: Any = None
        sent = False
        try:
            try:
                async with asyncio.timeout(timeouts.first_byte_s):
                    provider_stream = await call(**request.arguments, timeout=timeout)
                    chunk = await anext(provider_stream, None)
            except TimeoutError:
                raise ReplicaUnreachable(
                    "no first chunk within first_byte_s", timed_out=True
                ) from None
            except self._provider_errors as exc:
                raise classify_provider_error(exc) from None
            usage: dict[str, Any] | None = None
            last: dict[str, Any] = {}
            text: list[str] = []
            while chunk is not None:
                last = chunk.model_dump()
                usage = usage_object(last.get("usage")) or usage
                text.append(generated_text(last))
                shaped = chunk_document(endpoint, last, model)
                if shaped is not None:
                    yield sse_event(shaped)
                    sent = True
                chunk = await self._next_chunk(provider_stream, timeouts.idle_s, sent=sent)
            if usage is None:
                usage = self._estimate(deployment, endpoint, body, "".join(text))
            yield sse_event(usage_chunk_document(endpoint, last, model, usage))
            yield SSE_DONE
        finally:
            if provider_stream is not None:
                await _close(provider_stream)

    async def _next_chunk(self, provider_stream: Any, idle_s: float, *, sent: bool) -> Any:
        try:
            async with asyncio.timeout(idle_s):
                return await anext(provider_stream, None)
        except TimeoutError:
            if not sent:
                raise ReplicaUnreachable(
                    "stream paused longer than idle_s", timed_out=True
                ) from None
            raise ProviderStreamBroken("stream paused longer than idle_s", timed_out=True) from None
        except self._provider_errors as exc:
            outcome = classify_provider_error(exc)
            if not sent:
                raise outcome from None
            timed_out = isinstance(outcome, ReplicaUnreachable) and outcome.timed_out
            raise ProviderStreamBroken(str(outcome), timed_out=timed_out) from None

    def _call(self, endpoint: str) -> Callable[..., Awaitable[Any]]:
        call = self._calls.get(endpoint)
        if call is None:
            raise UnsupportedEndpoint(endpoint)
        return call

    def _timeout(self, timeouts: Timeouts, read_s: float) -> Any:
        return self._timeout_type(read_s, connect=timeouts.connect_s)

    def _estimate(
        self, deployment: Deployment, endpoint: str, body: dict[str, Any], text: str
    ) -> dict[str, Any]:
        model = deployment.litellm_model or ""
        return estimated_usage(
            self._tokens.prompt_tokens(model, endpoint, body),
            self._tokens.completion_tokens(model, text),
        )


def _public_model(body: dict[str, Any], deployment: Deployment) -> str:
    """The model name the client asked for (the catalog's public name)."""
    model = body.get("model")
    return model if isinstance(model, str) and model else deployment.name


async def _close(provider_stream: Any) -> None:
    # A text-completion stream wraps the chat stream that owns the connection.
    owner = provider_stream if hasattr(provider_stream, "aclose") else None
    if owner is None:
        owner = getattr(provider_stream, "completion_stream", None)
    close = getattr(owner, "aclose", None)
    if close is not None:
        await close()
