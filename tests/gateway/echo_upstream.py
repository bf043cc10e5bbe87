"""An OpenAI-compatible upstream that echoes the last user message and records what it got.

It stands in for an external provider in sovereignty tests: what it records is exactly what
left the gateway, and its answer (the echo) shows whether the gateway restored placeholders.
Streams are cut into 3-character chunks so that placeholders are split across SSE events.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _echo_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    users = [m for m in messages if m.get("role") == "user"]
    return str(users[-1]["content"]) if users else str(body.get("prompt", ""))


def echo_app(received: list[dict[str, Any]]) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        received.append(body)
        text = _echo_text(body)
        usage = {"prompt_tokens": len(text) // 4 + 1, "completion_tokens": len(text) // 3 + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        base = {"id": "chatcmpl-echo", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            return JSONResponse(
                {
                    **base,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )

        def event(choices: list[dict[str, Any]], **extra: Any) -> str:
            chunk = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
            return f"data: {json.dumps(chunk)}\n\n"

        async def events() -> AsyncIterator[str]:
            pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
            for n, piece in enumerate(pieces):
                finish = "stop" if n == len(pieces) - 1 else None
                yield event([{"index": 0, "delta": {"content": piece}, "finish_reason": finish}])
            if (body.get("stream_options") or {}).get("include_usage"):
                yield event([], usage=usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
